/**
 * Proves the package on every runtime besides the Deno run of `deno task test`:
 *
 * 1. JSR: `deno publish --dry-run` (no slow types) and a JSDoc example on every export.
 * 2. The `node:test` suite from source under Bun (`bun test`) and Node 24 (type stripping).
 * 3. npm: builds `npm/`, then `publint --strict` and `attw --pack --profile esm-only`.
 * 4. The suite against the packed tarball, installed by name in a scratch folder, under Node 20,
 *    Node 22 and Bun: the tests are copied, their `../mod.ts` imports become `@x/soiree`, and
 *    they are compiled with the pinned `tsc` against the package's own declarations.
 * 5. The type tests (`tests/types_test.ts`, its `@ts-expect-error` lines included) against the
 *    installed tarball under two stricter consumers' settings: Bun's default tsconfig
 *    (`noUncheckedIndexedAccess`, bundler resolution, Bun's types) and `nodenext` with the same
 *    strictness and every `.d.ts` checked; one test per configuration, as a leg.
 *
 * Each leg prints `runtime <name>: N passed, M failed, K skipped` (skipped counts todo tests
 * too) and is killed after {@linkcode LEG_TIMEOUT} seconds; `.ci/run` adds the legs up.
 *
 * ```sh
 * deno task test:runtimes
 * ```
 *
 * @module
 */
import { buildNpm, type DenoConfig, NPM_DIR, type NpmPackageJson } from "./build_npm.ts";
import { installTools, ROOT, run, RUNTIMES, toolBin, TOOLS, TOOLS_DIR } from "./_tools.ts";

/** Test files that cannot run against the tarball, and why. */
const TARBALL_SKIPS: Record<string, string> = {
  "npm_test.ts": "it checks scripts/build_npm.ts against deno.json; the package ships neither",
  "structure_test.ts": "it reads the TypeScript sources in src/; the package ships JavaScript",
};

// The PostgreSQL suite runs against a real server in the Deno run of `deno task test` only: it
// takes about a minute, restarts the server once, and the transport is the same source on every
// runtime. Here those tests skip (they say why); the PGlite smoke test still runs in every leg.
Deno.env.delete("DATABASE_URL");
Deno.env.delete("DATABASE_RESTART_COMMAND");

/** Seconds one test leg may take before it is killed and counted as failed. */
const LEG_TIMEOUT = 300;

/** The counts a test runner printed. */
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const failures: string[] = [];
const legs: { name: string; counts: Counts; notRun: string[] }[] = [];

/** Reads the summary of `node --test` (spec or TAP reporter) or of `bun test`. */
function parseCounts(output: string): Counts | undefined {
  const node = (key: string) => new RegExp(`^(?:ℹ|#) ${key} (\\d+)$`, "m").exec(output)?.[1];
  const bun = (key: string) => new RegExp(`^\\s*(\\d+) ${key}$`, "m").exec(output)?.[1];
  const passed = node("pass") ?? bun("pass");
  const failed = node("fail") ?? bun("fail");
  if (passed === undefined || failed === undefined) return undefined;
  const skipped = Number(node("skipped") ?? bun("skip") ?? 0) +
    Number(node("todo") ?? bun("todo") ?? 0);
  return { passed: Number(passed), failed: Number(failed), skipped };
}

/**
 * Runs one test leg and records its counts; a leg that fails without a summary counts one
 * failure. `notRun` names the test files the leg leaves out.
 */
async function leg(
  name: string,
  command: string[],
  cwd: string,
  notRun: string[] = [],
): Promise<void> {
  console.log(`\n--- ${name}: ${command.join(" ")}`);
  const { code, output } = await run(command[0], command.slice(1), {
    cwd,
    capture: true,
    timeout: LEG_TIMEOUT,
  });
  const counts = parseCounts(output) ?? { passed: 0, failed: 0, skipped: 0 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  // Each test is listed by name in the Deno run; print the whole log only on failure.
  console.log(code === 0 ? output.trimEnd().split("\n").slice(-10).join("\n") : output);
  if (code === 124) console.log(`${name} timed out after ${LEG_TIMEOUT} s`);
  if (code !== 0) failures.push(`${name} exited with ${code}`);
  legs.push({ name, counts, notRun });
  const left = notRun.length > 0 ? ` (not run: ${notRun.join(", ")})` : "";
  console.log(
    `runtime ${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${left}`,
  );
}

/** Runs a check that must exit 0 and prints its output; returns whether it passed. */
async function check(name: string, command: string[], cwd = ROOT): Promise<boolean> {
  console.log(`\n--- check ${name}: ${command.join(" ")}`);
  const { code, output } = await run(command[0], command.slice(1), { cwd, capture: true });
  if (output.trim()) console.log(output.trimEnd());
  if (code !== 0) failures.push(`check ${name} exited with ${code}`);
  console.log(`check ${name}: ${code === 0 ? "ok" : "FAILED"}`);
  return code === 0;
}

/** Exported symbols of mod.ts whose JSDoc has no `@example`, from `deno doc --json`. */
async function symbolsWithoutExample(): Promise<string[]> {
  const { code, output } = await run(Deno.execPath(), ["doc", "--json", "mod.ts"], {
    cwd: ROOT,
    capture: true,
  });
  if (code !== 0) throw new Error(`deno doc --json failed:\n${output}`);
  type Declaration = { jsDoc?: { tags?: { kind: string }[] } };
  type DocSymbol = { name: string; declarations: Declaration[] };
  const doc: { nodes: Record<string, { symbols: DocSymbol[] }> } = JSON.parse(output);
  return Object.values(doc.nodes).flatMap((node) => node.symbols)
    .filter((symbol) =>
      !symbol.declarations.some((d) => d.jsDoc?.tags?.some((tag) => tag.kind === "example"))
    )
    .map((symbol) => symbol.name);
}

/** The `npm:` packages of `deno.json` `imports` (test helpers), as `npm install` specs. */
function npmImports(imports: Record<string, string> = {}): string[] {
  return Object.entries(imports)
    .filter(([alias, target]) => target.startsWith("npm:") && !alias.endsWith("/"))
    .map(([alias, target]) => {
      const spec = target.slice("npm:".length);
      return spec.replace(/(.)@.*$/, "$1") === alias ? spec : `${alias}@npm:${spec}`;
    });
}

/** Rewrites a test's imports of the source to the installed package. */
function toPackageImports(source: string, name: string): string {
  return source
    .replaceAll(/(["'])\.\.\/mod\.ts\1/g, JSON.stringify(name))
    // An engine's entry point (src/<engine>/mod.ts) is the package's subpath `<name>/<engine>`.
    .replaceAll(
      /(["'])\.\.\/src\/(\w+)\/mod\.ts\1/g,
      (_, _quote, engine) => JSON.stringify(`${name}/${engine}`),
    )
    // Tests of one module or of a private helper load the package's compiled file: the same
    // module instance `@x/soiree` loads, though its `exports` give no path to it.
    .replaceAll(
      /(["'])\.\.\/src\/([\w./]+)\.ts\1/g,
      (_, _quote, file) => JSON.stringify(`../node_modules/${name}/src/${file}.js`),
    )
    // Shared test helpers (tests/_*.ts) are compiled beside the tests.
    .replaceAll(
      /(["'])\.\/(_[\w]+)\.ts\1/g,
      (_, _quote, file) => JSON.stringify(`./${file}.js`),
    );
}

/** A runtime's command line and the version it reports, fetching it first if need be. */
interface Runtime {
  command: string[];
  version: string;
}

/** The runtime that `command` starts, with the version its `--version` prints. */
async function runtime(command: string[]): Promise<Runtime> {
  const { code, output } = await run(command[0], [...command.slice(1), "--version"], {
    capture: true,
  });
  if (code !== 0) throw new Error(`Cannot start ${command.join(" ")}:\n${output}`);
  return { command, version: output.trim().split("\n").at(-1)!.replace(/^v/, "") };
}

/** Node of one major: the machine's `node` when it is that major, else `npx -y node@major`. */
async function node(major: string): Promise<Runtime> {
  const machine = await runtime(["node"]).catch(() => undefined);
  if (machine?.version.startsWith(`${major}.`)) return machine;
  return await runtime(["npx", "-y", `node@${major}`]);
}

const config: DenoConfig & { imports?: Record<string, string> } = JSON.parse(
  await Deno.readTextFile(`${ROOT}deno.json`),
);
const testDependencies = npmImports(config.imports);
const testFiles = [...Deno.readDirSync(`${ROOT}tests`)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith("_test.ts"))
  .sort();

/** The `npm pack --json` entry of the tarball. */
interface Tarball {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
}

/**
 * Packs `npm/`, installs the tarball by name in a new scratch folder with the tests beside it
 * (their imports rewritten, compiled with tsc), and returns the folder, the tarball and the
 * compiled test files.
 */
async function consumer(pkg: NpmPackageJson, notRun: string[]) {
  const scratch = await Deno.makeTempDir({ prefix: "soiree-consumer-" });
  const packArgs = ["pack", "--json", "--loglevel=error", "--pack-destination", scratch];
  const pack = await run("npm", packArgs, {
    cwd: NPM_DIR,
    capture: true,
  });
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
  const [tarball]: Tarball[] = JSON.parse(pack.output.slice(pack.output.indexOf("[")));
  console.log(
    `\nPacked ${tarball.filename}: ${tarball.size} bytes (${
      (tarball.size / 1024).toFixed(1)
    } KiB), ` +
      `${tarball.unpackedSize} bytes unpacked, ${tarball.entryCount} files`,
  );
  await Deno.writeTextFile(
    `${scratch}/package.json`,
    JSON.stringify({ name: "soiree-consumer", private: true, type: "module" }, null, 2),
  );
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", `./${tarball.filename}`, ...testDependencies],
    { cwd: scratch },
  );

  // Files the tests read through `new URL("../…", import.meta.url)`, as fixtures where they
  // expect them; the compiled tests go beside the original tests/*.ts, which are only read.
  for (const file of ["README.md", "LICENSE", "deno.json", "mod.ts"]) {
    await Deno.copyFile(`${ROOT}${file}`, `${scratch}/${file}`);
  }
  // src/ with its subfolders (src/durable/, one per engine); tests/ alone.
  const copyFolder = async (dir: string, deep: boolean): Promise<void> => {
    await Deno.mkdir(`${scratch}/${dir}`);
    for (const entry of Deno.readDirSync(`${ROOT}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isFile) await Deno.copyFile(`${ROOT}${path}`, `${scratch}/${path}`);
      else if (entry.isDirectory && deep) await copyFolder(path, deep);
    }
  };
  await copyFolder("src", true);
  await copyFolder("tests", false);

  for (const file of notRun) {
    console.log(`skip tests/${file} on the tarball legs: ${TARBALL_SKIPS[file]}`);
  }
  await Deno.mkdir(`${scratch}/ts`);
  const files = testFiles.filter((file) => !notRun.includes(file));
  const helpers = [...Deno.readDirSync(`${ROOT}tests`)]
    .map((entry) => entry.name)
    .filter((name) => name.startsWith("_") && name.endsWith(".ts"));
  for (const file of helpers) {
    const source = toPackageImports(await Deno.readTextFile(`${ROOT}tests/${file}`), pkg.name);
    await Deno.writeTextFile(`${scratch}/ts/${file}`, source);
  }
  const reachIn = [];
  for (const file of files) {
    const source = toPackageImports(await Deno.readTextFile(`${ROOT}tests/${file}`), pkg.name);
    const left = /(?:from|import\()\s*["'](\.\.?\/(?!node_modules\/|_)[^"']*)["']/.exec(source);
    if (left) throw new Error(`tests/${file} still imports ${left[1]} from the repository`);
    if (source.includes(`"../node_modules/${pkg.name}/src/`)) reachIn.push(file);
    await Deno.writeTextFile(`${scratch}/ts/${file}`, source);
  }
  if (reachIn.length > 0) {
    console.log(
      `note: ${reachIn.join(", ")} import src/ files directly; on the tarball legs they load ` +
        `the package's compiled src/*.js`,
    );
  }

  // Compile the copied tests as a Node consumer would: Node types only, no DOM, strict, with
  // the package's .d.ts files checked (types_test's @ts-expect-error lines included). A type
  // error fails the run, but the tests still run, to tell a type problem from a runtime one.
  const tsconfig = {
    include: ["ts"],
    compilerOptions: {
      rootDir: "ts",
      outDir: "tests",
      target: "es2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["es2022", "esnext.disposable"],
      types: ["node"],
      typeRoots: [`${TOOLS_DIR}/node_modules/@types`],
      strict: true,
      skipLibCheck: false,
    },
  };
  await Deno.writeTextFile(`${scratch}/tsconfig.json`, JSON.stringify(tsconfig, null, 2));
  await check("tsc (the tests against the package's types)", [toolBin("tsc"), "-p", "."], scratch);
  const compiled = files.map((file) => `tests/${file.replace(/\.ts$/, ".js")}`);
  return { scratch, tarball, compiled };
}

/** The type tests, checked under the consumer configurations of {@linkcode typeLeg}. */
const TYPE_TESTS = "types_test.ts";

/**
 * The `compilerOptions` `bun init` writes (Bun 1.x), with Bun's types from `.tools/`: what a Bun
 * project that installs the package checks it with.
 */
const BUN_COMPILER_OPTIONS = {
  lib: ["ESNext"],
  target: "ESNext",
  module: "Preserve",
  moduleDetection: "force",
  jsx: "react-jsx",
  allowJs: true,
  moduleResolution: "bundler",
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  noEmit: true,
  strict: true,
  skipLibCheck: true,
  noFallthroughCasesInSwitch: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noUnusedLocals: false,
  noUnusedParameters: false,
  noPropertyAccessFromIndexSignature: false,
  types: ["bun-types"],
  typeRoots: [`${TOOLS_DIR}/node_modules`],
};

/**
 * A Node consumer on `nodenext` with Bun's strictness on top, every `.d.ts` checked (the
 * package's included), Node types only and no `dom` lib.
 */
const NODENEXT_COMPILER_OPTIONS = {
  lib: ["es2022", "esnext.disposable"],
  target: "es2022",
  module: "nodenext",
  moduleResolution: "nodenext",
  verbatimModuleSyntax: true,
  noEmit: true,
  strict: true,
  skipLibCheck: false,
  noFallthroughCasesInSwitch: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  types: ["node"],
  typeRoots: [`${TOOLS_DIR}/node_modules/@types`],
};

/**
 * Type-checks the copied type tests (`ts/types_test.ts`, importing the package by name) in the
 * consumer folder under each stricter configuration, and records them as one leg with a test
 * per configuration: an `@ts-expect-error` line that is no longer needed fails it too.
 */
async function typeLeg(scratch: string): Promise<void> {
  const configs = { bun: BUN_COMPILER_OPTIONS, nodenext: NODENEXT_COMPILER_OPTIONS };
  const name = `tsc ${TOOLS.typescript} (${TYPE_TESTS} against the tarball)`;
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const [config, compilerOptions] of Object.entries(configs)) {
    const file = `tsconfig.${config}.json`;
    const tsconfig = { files: [`ts/${TYPE_TESTS}`], compilerOptions };
    await Deno.writeTextFile(`${scratch}/${file}`, JSON.stringify(tsconfig, null, 2));
    console.log(`
--- ${name}, ${config}: tsc -p ${file}`);
    const { code, output } = await run(toolBin("tsc"), ["-p", file], {
      cwd: scratch,
      capture: true,
      timeout: LEG_TIMEOUT,
    });
    if (output.trim()) console.log(output.trimEnd());
    console.log(`${config}: ${code === 0 ? "ok" : "FAILED"}`);
    if (code === 0) counts.passed++;
    else {
      counts.failed++;
      failures.push(`${name}, ${config} exited with ${code}`);
    }
  }
  legs.push({ name, counts, notRun: [] });
  const { passed, failed, skipped } = counts;
  console.log(`runtime ${name}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}

// 1. JSR readiness.
await check("deno publish --dry-run", [Deno.execPath(), "publish", "--dry-run", "--allow-dirty"]);
const undocumented = await symbolsWithoutExample();
console.log(
  `\ncheck JSDoc examples: ${
    undocumented.length === 0 ? "ok" : `FAILED, no @example on ${undocumented.join(", ")}`
  }`,
);
if (undocumented.length > 0) failures.push(`${undocumented.length} exports have no @example`);

// 2. The suite from source. Test helpers from npm go into the ignored node_modules/, with no
// package.json, so Deno keeps resolving `npm:` imports from its own cache.
if (testDependencies.length > 0) {
  await run("npm", [
    "install",
    ...["--prefix", ROOT, "--no-save", "--no-package-lock", "--no-audit", "--no-fund"],
    ...testDependencies,
  ]);
}
const bun = await runtime(["npx", "-y", `bun@${RUNTIMES.bun}`]);
/** Bun stops a test after 5 s by default; the property and stress tests take longer. */
const BUN_TIMEOUT = ["--timeout", "120000"];
await leg(
  `bun ${bun.version} (source)`,
  [...bun.command, "test", ...BUN_TIMEOUT, "./tests/"],
  ROOT,
);
// The newest Node strips the types itself; the older ones run the tarball below.
const newest = RUNTIMES.node[RUNTIMES.node.length - 1];
const nodeNewest = await node(newest);
await leg(
  `node ${nodeNewest.version} (source)`,
  [...nodeNewest.command, "--test", "--test-reporter=spec", ...testFiles.map((f) => `tests/${f}`)],
  ROOT,
);

// 3. The npm package, then 4. the suite against its packed tarball.
await installTools();
const pkg = await buildNpm().catch((error) => {
  console.log(`\ncheck npm build: FAILED\n${error}`);
  failures.push("npm build failed: publint, attw and the tarball legs did not run");
  return undefined;
});
let scratch: string | undefined;
let tarball: Tarball | undefined;
if (pkg) {
  console.log(`\nBuilt ${pkg.name}@${pkg.version} into npm/`);
  await check("publint", [toolBin("publint"), "--strict", NPM_DIR]);
  await check("attw", [toolBin("attw"), "--pack", NPM_DIR, "--profile", "esm-only", "--no-color"]);

  const notRun = testFiles.filter((file) => file in TARBALL_SKIPS);
  const built = await consumer(pkg, notRun);
  ({ scratch, tarball } = built);
  if (!notRun.includes(TYPE_TESTS)) await typeLeg(scratch);
  for (const major of RUNTIMES.node.filter((major) => major !== newest)) {
    const { command, version } = await node(major);
    await leg(
      `node ${version} (tarball)`,
      [...command, "--test", "--test-reporter=spec", ...built.compiled],
      scratch,
      notRun,
    );
  }
  await leg(
    `bun ${bun.version} (tarball)`,
    [...bun.command, "test", ...BUN_TIMEOUT, ...built.compiled.map((file) => `./${file}`)],
    scratch,
    notRun,
  );
}

// Summary.
console.log("\n| runtime | passed | failed | skipped | not run |\n| --- | --- | --- | --- | --- |");
for (const { name, counts, notRun } of legs) {
  const { passed, failed, skipped } = counts;
  console.log(`| ${name} | ${passed} | ${failed} | ${skipped} | ${notRun.join(", ") || "-"} |`);
}
if (tarball) {
  const { filename, size, unpackedSize } = tarball;
  console.log(`\ntarball: ${filename}, ${size} bytes packed, ${unpackedSize} unpacked`);
}
if (failures.length > 0) {
  const kept = scratch ? `\nscratch folder kept: ${scratch}` : "";
  console.log(`\nFAILED:\n  ${failures.join("\n  ")}${kept}`);
  Deno.exit(1);
}
if (scratch) await Deno.remove(scratch, { recursive: true });
