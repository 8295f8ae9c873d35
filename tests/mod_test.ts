import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);

/** The public modules of a folder of `src/` (not its subfolders), relative to `src/`. */
function publicModules(folder: string): string[] {
  return readdirSync(new URL(`src/${folder}`, root))
    .filter((name) => name.endsWith(".ts") && !name.startsWith("_"))
    .map((name) => `${folder}${name}`)
    .sort();
}

/** What an entry point re-exports, as paths relative to `src/`. */
function reexported(entry: string): string[] {
  const text = readFileSync(new URL(entry, root), "utf8");
  const from = new URL(entry, root);
  return [
    ...new Set(
      [...text.matchAll(/from "(\.[^"]+)"/g)].map((match) =>
        new URL(match[1], from).href.slice(new URL("src/", root).href.length)
      ),
    ),
  ].sort();
}

test("mod.ts re-exports every public module of the core (src/ and src/durable/), no private one", () => {
  assert.deepEqual(
    reexported("mod.ts"),
    [...publicModules(""), ...publicModules("durable/")].sort(),
  );
});

test("each engine's subpath entry re-exports every public module of its folder", () => {
  const config = JSON.parse(readFileSync(new URL("deno.json", root), "utf8"));
  for (const [subpath, file] of Object.entries(config.exports as Record<string, string>)) {
    if (subpath === ".") continue;
    const folder = file.replace(/^\.\/src\//, "").replace(/[^/]+$/, "");
    const entry = file.replace(/^\.\//, "");
    const expected = publicModules(folder).filter((name) => `src/${name}` !== entry);
    const exported = reexported(entry);
    assert.deepEqual(expected.filter((name) => !exported.includes(name)), [], subpath);
    assert.ok(
      exported.every((name) => !/(^|\/)_/.test(name)),
      `${subpath} re-exports no private module`,
    );
  }
});

test("mod.ts holds no logic, only its doc and re-exports", () => {
  const mod = readFileSync(new URL("mod.ts", root), "utf8");
  const code = mod.replace(/\/\*\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const statements = code.split(";").map((part) => part.trim()).filter(Boolean);
  assert.ok(statements.length > 0);
  for (const statement of statements) {
    assert.match(statement, /^export (\*|type \*|\{)[\s\S]* from "\.\/src\//);
  }
});

test("the public API exports what the README promises", async () => {
  const api = await import("../mod.ts");
  for (
    const name of [
      "Soiree",
      "Pool",
      "Priority",
      "SoireeEvent",
      "matchTopic",
      "ulid",
      "monotonicUlid",
      "decodeTime",
      "EmitterClosedError",
      "EmitterAlreadyClosedError",
      "ListenerNotFoundError",
      "ListenerError",
      "QueueFullError",
      "PoolClosedError",
    ]
  ) {
    assert.ok(name in api, `${name} is exported`);
  }
  assert.ok(!("suspendSlot" in api), "internal pool hook stays private");
});

test("deno.json exports the core and each engine's subpath, and publishes only mod.ts, src/, README and LICENSE", () => {
  const config = JSON.parse(readFileSync(new URL("deno.json", root), "utf8"));
  assert.equal(config.name, "@x/soiree");
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./sqlite": "./src/sqlite/mod.ts",
    "./redis": "./src/redis/mod.ts",
    "./postgres": "./src/postgres/mod.ts",
  });
  assert.deepEqual(config.publish.include, ["mod.ts", "src/", "README.md", "LICENSE"]);
});

test("every test the README's Guarantees section names exists", () => {
  const readme = readFileSync(new URL("README.md", root), "utf8");
  const section = readme.split("## Guarantees")[1].split("\n## ")[0];
  // Markdown escapes (`\_\_proto\_\_`) are not part of a test's name.
  const names = [...section.replace(/\n\s*/g, " ").replaceAll("\\", "").matchAll(/"([^"]+)"/g)]
    .map((m) => m[1]);
  assert.ok(names.length >= 20, `found ${names.length} test names`);
  const tests = readdirSync(new URL("tests/", root))
    .filter((name) => name.endsWith("_test.ts"))
    .map((name) => readFileSync(new URL(`tests/${name}`, root), "utf8").replace(/\n\s*/g, " "))
    .join("\n");
  // The conformance suite names its tests through name("…"), prefixed with the transport's.
  const suite = readFileSync(new URL("tests/_conformance.ts", root), "utf8").replace(/\n\s*/g, " ");
  for (const name of names) {
    assert.ok(
      tests.includes(`test("${name}"`) || tests.includes(`test( "${name}"`) ||
        suite.includes(`name("${name}")`),
      `no test is named "${name}"`,
    );
  }
});
