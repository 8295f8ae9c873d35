/**
 * Builds the npm package into `npm/`: compiles the `deno.json` entry points and `src/` with the
 * pinned `tsc`, writes `package.json` from `deno.json`, and copies README.md and LICENSE.
 *
 * ```sh
 * deno task build:npm
 * ```
 *
 * @module
 */
import { installTools, NODE_ENGINE, ROOT, run, toolBin } from "./_tools.ts";

/** Where the package is built. */
export const NPM_DIR = `${ROOT}npm`;

/** The fields of `deno.json` the npm package is made from. */
export interface DenoConfig {
  /** The package name, the same on JSR and npm. */
  name: string;
  /** The package version, the same on JSR and npm. */
  version: string;
  /** The SPDX license expression. */
  license?: string;
  /** One entry point, or a map from subpath (`"."`, `"./pool"`) to a `.ts` file. */
  exports: string | Record<string, string>;
}

/** One entry of the npm `exports` map: types first, as TypeScript and publint want. */
export interface NpmExport {
  /** The declaration file. */
  types: string;
  /** The ES module. */
  default: string;
}

/** The `package.json` written into `npm/`. */
export interface NpmPackageJson {
  name: string;
  version: string;
  description: string;
  license?: string;
  type: "module";
  exports: Record<string, NpmExport>;
  sideEffects: false;
  files: string[];
  engines: { node: string };
}

/** `deno.json` `exports` as a map from subpath to a `./`-relative `.ts` file. */
export function denoEntryPoints(exports: DenoConfig["exports"]): Record<string, string> {
  const map = typeof exports === "string" ? { ".": exports } : exports;
  for (const [subpath, file] of Object.entries(map)) {
    if (!/^\.\/.+\.ts$/.test(file)) {
      throw new TypeError(
        `Cannot build the npm package as export "${subpath}" is not a ./*.ts file: received "${file}"`,
      );
    }
  }
  return map;
}

/** The npm `exports` map for `deno.json` `exports`: each `.ts` entry as `.d.ts` and `.js`. */
export function npmExports(exports: DenoConfig["exports"]): Record<string, NpmExport> {
  return Object.fromEntries(
    Object.entries(denoEntryPoints(exports)).map(([subpath, file]) => [subpath, {
      types: file.replace(/\.ts$/, ".d.ts"),
      default: file.replace(/\.ts$/, ".js"),
    }]),
  );
}

/** The npm `package.json` for a `deno.json`; `description` is the module doc's first line. */
export function npmPackageJson(config: DenoConfig, description: string): NpmPackageJson {
  const exports = npmExports(config.exports);
  const entryFiles = Object.values(exports)
    .flatMap((entry) => [entry.default, entry.types])
    .filter((file) => !file.startsWith("./src/"))
    .map((file) => file.slice(2));
  return {
    name: config.name,
    version: config.version,
    description,
    ...(config.license ? { license: config.license } : {}),
    type: "module",
    exports,
    sideEffects: false,
    files: [...new Set(entryFiles), "src/", "README.md", "LICENSE"],
    engines: { node: NODE_ENGINE },
  };
}

/** The first line of `mod.ts`'s module doc. */
export function moduleSummary(source: string): string {
  const summary = /^\/\*\*\s*\n\s*\*\s*(\S.*)$/m.exec(source)?.[1];
  if (!summary) {
    throw new TypeError("Cannot read the module summary as mod.ts starts with no JSDoc");
  }
  return summary.trim();
}

/** Builds `npm/` and returns its `package.json`. */
export async function buildNpm(): Promise<NpmPackageJson> {
  const config: DenoConfig = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const pkg = npmPackageJson(config, moduleSummary(await Deno.readTextFile(`${ROOT}mod.ts`)));
  await installTools();
  await Deno.remove(NPM_DIR, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });

  const entries = Object.values(denoEntryPoints(config.exports)).map((file) =>
    ROOT + file.slice(2)
  );
  const tsconfig = {
    files: entries,
    include: [`${ROOT}src/**/*.ts`],
    compilerOptions: {
      rootDir: ROOT,
      outDir: NPM_DIR,
      target: "es2022",
      module: "es2022",
      // Bundler resolution takes the source's `.ts` specifiers; the output is plain ESM with
      // `.js` specifiers, which attw checks under Node's own resolution.
      moduleResolution: "bundler",
      rewriteRelativeImportExtensions: true,
      verbatimModuleSyntax: true,
      erasableSyntaxOnly: true,
      // Web-standard globals only: no Deno types and no Node types.
      lib: ["es2022", "esnext.disposable", "dom"],
      types: [],
      declaration: true,
      isolatedDeclarations: true,
      strict: true,
      noImplicitOverride: true,
      noFallthroughCasesInSwitch: true,
      skipLibCheck: false,
      noEmitOnError: true,
      newLine: "lf",
    },
  };
  const tmp = await Deno.makeTempDir({ prefix: "soiree-tsc-" });
  try {
    await Deno.writeTextFile(`${tmp}/tsconfig.json`, JSON.stringify(tsconfig, null, 2));
    await run(toolBin("tsc"), ["-p", `${tmp}/tsconfig.json`]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }

  await Deno.writeTextFile(`${NPM_DIR}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
  await Deno.copyFile(`${ROOT}README.md`, `${NPM_DIR}/README.md`);
  await Deno.copyFile(`${ROOT}LICENSE`, `${NPM_DIR}/LICENSE`);
  return pkg;
}

if (import.meta.main) {
  const pkg = await buildNpm();
  console.log(`Built ${pkg.name}@${pkg.version} into npm/`);
}
