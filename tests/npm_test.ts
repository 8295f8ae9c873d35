import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  type DenoConfig,
  denoEntryPoints,
  moduleSummary,
  npmExports,
  npmPackageJson,
} from "../scripts/build_npm.ts";
import { NODE_ENGINE, RUNTIMES } from "../scripts/_tools.ts";

const root = new URL("../", import.meta.url);
const config: DenoConfig = JSON.parse(readFileSync(new URL("deno.json", root), "utf8"));
const pkg = npmPackageJson(config, moduleSummary(readFileSync(new URL("mod.ts", root), "utf8")));

test("deno.json exports and the npm exports list the same entry points", () => {
  const deno = denoEntryPoints(config.exports);
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(deno).sort());
  for (const [subpath, file] of Object.entries(deno)) {
    const js = file.replace(/\.ts$/, ".js");
    assert.deepEqual(pkg.exports[subpath], { types: js.replace(/\.js$/, ".d.ts"), default: js });
    assert.deepEqual(Object.keys(pkg.exports[subpath]), ["types", "default"], "types come first");
  }
});

test("the npm package.json has deno.json's name and version, and no dependencies", () => {
  assert.equal(pkg.name, config.name);
  assert.equal(pkg.version, config.version);
  assert.equal(pkg.license, config.license);
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.ok(pkg.description.length > 0);
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "main"]) {
    assert.ok(!(field in pkg), `no ${field}`);
  }
});

test("the npm files allowlist ships the build, README and LICENSE only", () => {
  assert.deepEqual(pkg.files, ["mod.js", "mod.d.ts", "src/", "README.md", "LICENSE"]);
});

test("engines.node starts at the oldest Node major the runtime legs run", () => {
  const oldest = Math.min(...RUNTIMES.node.map(Number));
  assert.equal(NODE_ENGINE, pkg.engines.node);
  assert.match(pkg.engines.node, new RegExp(`^>=${oldest}\\.`));
});

test("npmExports() maps every subpath of an exports object", () => {
  assert.deepEqual(npmExports({ ".": "./mod.ts", "./pool": "./src/pool.ts" }), {
    ".": { types: "./mod.d.ts", default: "./mod.js" },
    "./pool": { types: "./src/pool.d.ts", default: "./src/pool.js" },
  });
});

test("npmExports() rejects an entry point that is not a ./*.ts file", () => {
  assert.throws(
    () => npmExports({ ".": "mod.js" }),
    (error) =>
      error instanceof TypeError && /export "\." is not a \.\/\*\.ts file/.test(error.message),
  );
});
