// Consumer processes of the crash tests, both sides of the pipe: the test starts one with
// `startConsumer()` and reads its report lines; the consumer writes them with `report()`,
// synchronously, so that a SIGKILL cannot drop a line already reported. Also the command line
// that runs a script in a new process of the test's own runtime.
//
// Lines: `ready` once it listens; `started <acked> [<event id> <attempt>]` as a delivery starts;
// `acked <n>` after deliveries finish; `closed <durable stats as JSON>` once it closed. `acked`
// is the acknowledgements the process has made so far, counted after they are stored, so never
// more than the truth.

import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { writeSync } from "node:fs";
import process from "node:process";
import { deferred } from "./_util.ts";

/** The command line that runs `script` in a new process of this runtime. */
export function runtimeCommand(script: string): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno !== undefined) return [deno.execPath(), ["run", "--allow-all", script]];
  // Node before 22.18 strips types only when asked; Bun and newer Node do it anyway.
  const { typescript } = process.features as { typescript?: unknown };
  const strip = script.endsWith(".ts") && !("Bun" in globalThis) && !typescript;
  return [process.execPath, strip ? ["--experimental-strip-types", script] : [script]];
}

/** A consumer process and what it reported on stdout. */
export interface Consumer {
  readonly child: ChildProcess;
  /** Deliveries it started (its `started` lines). */
  started: number;
  /** Acknowledgements it made, as last reported. */
  acked: number;
  /** The event ID and attempt of each `started` line that named them, in order. */
  readonly starts: { id: string; attempt: number }[];
  /** Its durable stats, once it closed. */
  stats?: { leasesLost: number; received: number };
  stderr: string;
  readonly ready: Promise<void>;
  /** Settles once it exited and its output is read, with its exit code (null if killed). */
  readonly exited: Promise<number | null>;
  /** Resolves once it reported `count` started deliveries. */
  reached(count: number): Promise<void>;
}

/** Options of {@linkcode startConsumer}. */
export interface StartOptions {
  /** The working directory. @default the test's */
  cwd?: string;
}

/**
 * Starts `file args… '<config as JSON>'`; `onReport` runs after each chunk of its output is
 * read.
 */
export function startConsumer(
  [file, args]: [string, string[]],
  config: unknown,
  onReport: () => void,
  options: StartOptions = {},
): Consumer {
  const child = spawn(file, [...args, JSON.stringify(config)], {
    stdio: "pipe",
    cwd: options.cwd,
  });
  const ready = deferred<void>();
  const exited = deferred<number | null>();
  const failed = (code: number | null): never => {
    throw new Error(`consumer ${child.pid} exited with ${code}:\n${consumer.stderr}`);
  };
  const waiting: { count: number; resolve(): void }[] = [];
  let pending = "";
  const consumer: Consumer = {
    child,
    started: 0,
    acked: 0,
    starts: [],
    stderr: "",
    ready: Promise.race([ready.promise, exited.promise.then(failed)]),
    exited: exited.promise,
    reached(count) {
      const reached = deferred<void>();
      waiting.push({ count, resolve: reached.resolve });
      return reached.promise;
    },
  };
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const [word, value, id, attempt] = line.split(" ");
      if (word === "ready") ready.resolve();
      if (word === "started") {
        consumer.started++;
        if (id !== undefined) consumer.starts.push({ id, attempt: Number(attempt) });
      }
      if (word === "started" || word === "acked") {
        consumer.acked = Math.max(consumer.acked, Number(value));
      }
      if (word === "closed") consumer.stats = JSON.parse(value);
    }
    for (const wait of waiting) if (consumer.started >= wait.count) wait.resolve();
    onReport();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => void (consumer.stderr += chunk));
  // A process that could not start emits "error", and maybe no "close".
  child.on("error", (error) => {
    consumer.stderr += String(error);
    exited.resolve(null);
  });
  child.on("close", (code) => exited.resolve(code));
  return consumer;
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes a line to stdout before it returns. Node leaves a piped stdout non-blocking, so a write
 * while the test is slow to read fails with EAGAIN: wait a moment and write the rest.
 */
export function report(line: string): void {
  const bytes = new TextEncoder().encode(`${line}\n`);
  for (let written = 0; written < bytes.length;) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
}
