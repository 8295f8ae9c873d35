// A topic pattern as a PostgreSQL regular expression (an ARE), stored beside the pattern so that
// a publish matches its topic against every durable name in the same statement that stores it.
// Owns the translation only; it mirrors `matchTopic()`: `*` is one segment, `**` any number of
// segments, at least one when it ends the pattern.

/** `pattern` (already checked) as an anchored ARE that matches exactly its topics. */
export function patternRegex(pattern: string): string {
  const segments = pattern.split(".");
  let regex = "^";
  let dotEaten = false;
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (i > 0 && !dotEaten) regex += "\\.";
    dotEaten = false;
    if (segment === "**" && !last) {
      // Zero or more whole segments, each with the dot after it.
      regex += "(?:[^.]+\\.)*";
      dotEaten = true;
    } else if (segment === "**") regex += "[^.]+(?:\\.[^.]+)*";
    else if (segment === "*") regex += "[^.]+";
    else regex += segment.replace(/[!-/:-@[-`{-~ ]/g, (char) => `\\${char}`);
  });
  return `${regex}$`;
}
