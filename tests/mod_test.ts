import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);

test("mod.ts re-exports every public src/ module and no private one", () => {
  const mod = readFileSync(new URL("mod.ts", root), "utf8");
  const exported = [...mod.matchAll(/from "\.\/src\/([^"]+)"/g)].map((match) => match[1]);
  const files = readdirSync(new URL("src/", root)).filter((name) => name.endsWith(".ts"));
  const publicFiles = files.filter((name) => !name.startsWith("_")).sort();
  assert.deepEqual([...new Set(exported)].sort(), publicFiles);
  assert.ok(exported.every((name) => !name.startsWith("_")));
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

test("deno.json publishes only mod.ts, src/, README and LICENSE", () => {
  const config = JSON.parse(readFileSync(new URL("deno.json", root), "utf8"));
  assert.equal(config.name, "@x/soiree");
  assert.equal(config.exports, "./mod.ts");
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
  for (const name of names) {
    assert.ok(
      tests.includes(`test("${name}"`) || tests.includes(`test( "${name}"`),
      `no test is named "${name}"`,
    );
  }
});
