// Values in error messages: short, and never a throw of their own.

const LIMIT = 80;

/** A string as a JSON literal, cut to 80 characters so a huge argument keeps messages short. */
export function quote(text: string): string {
  return JSON.stringify(text.length > LIMIT ? `${text.slice(0, LIMIT)}…` : text);
}

/** What kind of object a value is ("an array", "an instance of Map"), without calling it. */
export function describeObject(value: object): string {
  if (Array.isArray(value)) return "an array";
  let name: unknown;
  try {
    name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    name = undefined;
  }
  return typeof name === "string" && name !== "" && name !== "Object"
    ? `an instance of ${name}`
    : "an object";
}
