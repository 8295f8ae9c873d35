// Values in error messages and printouts: short, and never a throw of their own.

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

/**
 * Makes `console.log()` of an instance print `Name { key: value, … }` from `fields(instance)`
 * on Deno (`Deno.customInspect`) and on Node and Bun (`nodejs.util.inspect.custom`). Defined
 * on the prototype after the class, so it stays out of the public types.
 */
export function definePrintout<T extends object>(
  constructor: { readonly name: string; readonly prototype: T },
  fields: ((instance: T) => Record<string, unknown>) | readonly (keyof T & string)[],
): void {
  const read = typeof fields === "function"
    ? fields
    : (instance: T) => Object.fromEntries(fields.map((key) => [key, instance[key]]));
  function printout(this: T): string {
    const parts = Object.entries(read(this)).map(([key, value]) =>
      `${key}: ${typeof value === "string" ? quote(value) : value}`
    );
    return `${constructor.name} { ${parts.join(", ")} }`;
  }
  for (const key of ["Deno.customInspect", "nodejs.util.inspect.custom"]) {
    Object.defineProperty(constructor.prototype, Symbol.for(key), {
      value: printout,
      configurable: true,
      writable: true,
    });
  }
}

/** What `console.log()` shows of an emitter, from its public figures. */
export function emitterPrintout(soiree: {
  readonly isClosed: boolean;
  stats(): {
    listeners: number;
    inFlight: number;
    emitted: number;
    failed: number;
    durable: { listeners: number; published: number };
  };
}): Record<string, unknown> {
  const { listeners, inFlight, emitted, failed, durable } = soiree.stats();
  const [durableListeners, published, closed] = [
    durable.listeners,
    durable.published,
    soiree.isClosed,
  ];
  return { listeners, inFlight, emitted, failed, durableListeners, published, closed };
}
