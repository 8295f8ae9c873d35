/**
 * Pinned tool and runtime versions for the npm build and the runtime test legs, and the
 * helpers that install and run them. Every tool comes from the npm registry, pinned to an exact
 * version, and is installed into the ignored `.tools/` folder on first use.
 *
 * @module
 */

/** Dev tools installed into `.tools/` by {@linkcode installTools}. */
export const TOOLS = {
  /** Same version as the checker inside Deno 2.9.6, so `deno check` and the npm build agree. */
  typescript: "6.0.3",
  publint: "0.3.25",
  "@arethetypeswrong/cli": "0.18.5",
  /** Types for the oldest Node we support: the tarball's tests are type-checked with them. */
  "@types/node": "20.19.43",
  /** Bun's own types (same version as `RUNTIMES.bun`), for the type check under Bun's tsconfig. */
  "bun-types": "1.4.5",
} as const;

/** Runtimes fetched from the npm registry with `npx -y` (Deno itself is pinned in `.ci/run`). */
export const RUNTIMES = {
  bun: "1.4.5",
  /** Node majors the suite runs on; the first is the oldest and sets `engines.node`. */
  node: ["20", "22", "24"],
} as const;

/**
 * The `engines.node` range of the npm package: the oldest Node major CI runs, from its first
 * release with `Symbol.dispose` and `Symbol.asyncDispose` (20.4.0; 20.0.0 lacks them).
 */
export const NODE_ENGINE = `>=${RUNTIMES.node[0]}.4.0`;

/** The repository root, as a path. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** Where {@linkcode installTools} installs {@linkcode TOOLS}. */
export const TOOLS_DIR = `${ROOT}.tools`;

/** The path of an installed tool's executable in `.tools/node_modules/.bin/`. */
export function toolBin(name: string): string {
  return `${TOOLS_DIR}/node_modules/.bin/${name}`;
}

/** Installs {@linkcode TOOLS} into `.tools/` unless every pinned version is already there. */
export async function installTools(): Promise<void> {
  const missing = [];
  for (const [name, version] of Object.entries(TOOLS)) {
    try {
      const manifest = await Deno.readTextFile(`${TOOLS_DIR}/node_modules/${name}/package.json`);
      if (JSON.parse(manifest).version === version) continue;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    missing.push(`${name}@${version}`);
  }
  if (missing.length === 0) return;
  await Deno.mkdir(TOOLS_DIR, { recursive: true });
  const specs = Object.entries(TOOLS).map(([name, version]) => `${name}@${version}`);
  await run("npm", ["install", "--prefix", TOOLS_DIR, "--no-audit", "--no-fund", ...specs]);
}

/** Options for {@linkcode run}. */
export interface RunOptions {
  /** The working directory. @default the current one */
  cwd?: string;
  /** Capture stdout and stderr (merged in order of arrival) instead of inheriting them. */
  capture?: boolean;
  /**
   * Seconds after which the command and every process it started are killed (coreutils
   * `timeout`, exit code 124): a test that spins cannot hang the run.
   */
  timeout?: number;
}

/** The result of {@linkcode run}. */
export interface RunResult {
  /** The exit code. */
  code: number;
  /** Captured stdout and stderr, when `capture` was set; otherwise "". */
  output: string;
}

/**
 * Runs a command. Without `capture` it throws when the command fails; with it the caller reads
 * the exit code.
 */
export async function run(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const [program, argv] = options.timeout === undefined
    ? [cmd, args]
    : ["timeout", ["--kill-after=10", String(options.timeout), cmd, ...args]];
  const command = new Deno.Command(program, {
    args: argv,
    cwd: options.cwd,
    stdin: "null",
    // Captured output is parsed: keep it free of colour codes.
    env: options.capture ? { NO_COLOR: "1" } : {},
    stdout: options.capture ? "piped" : "inherit",
    stderr: options.capture ? "piped" : "inherit",
  });
  const child = command.spawn();
  if (!options.capture) {
    const { code } = await child.status;
    if (code !== 0) {
      throw new Error(`Command failed with exit code ${code}: ${cmd} ${args.join(" ")}`);
    }
    return { code, output: "" };
  }
  const chunks: string[] = [];
  const decoder = () => new TextDecoderStream();
  const collect = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeThrough(decoder()).pipeTo(
      new WritableStream({ write: (text) => void chunks.push(text) }),
    );
  const [{ code }] = await Promise.all([
    child.status,
    collect(child.stdout),
    collect(child.stderr),
  ]);
  return { code, output: chunks.join("") };
}
