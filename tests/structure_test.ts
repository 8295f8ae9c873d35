// Guards of the source layout: the rules a reader relies on to find each part in one place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";

const src = new URL("../src/", import.meta.url);
/** Every module of `src/`, subfolders included, as a path relative to `src/`. */
const files = (readdirSync(src, { recursive: true }) as string[])
  .map((name) => name.replaceAll("\\", "/"))
  .filter((name) => name.endsWith(".ts"))
  .sort();
const text = new Map(files.map((name) => [name, readFileSync(new URL(name, src), "utf8")]));
/** A module's own name, without its folder. */
const base = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

/** The `src/` files a module imports or re-exports, type-only imports included. */
function imports(name: string): string[] {
  const found = text.get(name)!.matchAll(/^(?:import|export)\b[^;]*?from "(\.\.?\/[^"]+)"/gm);
  return [...found].map((match) =>
    decodeURIComponent(new URL(match[1], new URL(name, src)).href.slice(src.href.length))
  );
}

test("src/ has no import cycle, not even a type-only one", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (name: string, path: string[]): void => {
    state.set(name, "open");
    for (const next of imports(name)) {
      if (state.get(next) === "open") cycles.push([...path, name, next].join(" → "));
      else if (!state.has(next)) visit(next, [...path, name]);
    }
    state.set(name, "done");
  };
  for (const name of files) if (!state.has(name)) visit(name, []);
  assert.deepEqual(cycles, []);
});

test("no file in src/ is over 700 lines", () => {
  const long = files.filter((name) => text.get(name)!.split("\n").length > 700);
  assert.deepEqual(long, []);
});

test("every private module opens with a comment saying what it owns", () => {
  const bare = files.filter((name) =>
    base(name).startsWith("_") && !text.get(name)!.startsWith("//")
  );
  assert.deepEqual(bare, []);
});

test("src/ imports only relative files and node:sqlite", () => {
  const foreign = files.flatMap((name) =>
    [...text.get(name)!.matchAll(/^(?:import|export)\b[^;]*?from "([^"]+)"/gm)]
      .map((match) => match[1])
      .filter((specifier) => !/^\.\.?\//.test(specifier) && specifier !== "node:sqlite")
      .map((specifier) => `${name}: ${specifier}`)
  );
  assert.deepEqual(foreign, []);
});

test("src/ imports stay inside src/, and the core never imports an engine's subpath", () => {
  const config = JSON.parse(readFileSync(new URL("../deno.json", import.meta.url), "utf8"));
  const engines = Object.entries(config.exports as Record<string, string>)
    .filter(([subpath]) => subpath !== ".")
    .map(([, file]) => file.replace(/^\.\/src\//, "").replace(/[^/]+$/, ""));
  const wrong = files.flatMap((name) =>
    imports(name)
      .filter((target) =>
        target.startsWith("..") || !text.has(target) ||
        engines.some((folder) => target.startsWith(folder) && !name.startsWith(folder))
      )
      .map((target) => `${name} → ${target}`)
  );
  assert.deepEqual(wrong, []);
});
