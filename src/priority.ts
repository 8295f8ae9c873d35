/**
 * Named listener priorities. Higher runs first.
 *
 * @module
 */

/**
 * The five named priorities of the Go original, as numbers. Any finite number is a valid
 * priority; these are the common ones. Listeners with a higher priority run first; equal
 * priorities run in subscription order.
 *
 * @example Run an audit listener before the others
 * ```ts
 * import { Priority, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const soiree = new Soiree();
 * const calls: string[] = [];
 * soiree.on("user.created", () => void calls.push("normal"));
 * soiree.on("user.*", () => void calls.push("audit"), { priority: Priority.High });
 * soiree.emitSync("user.created");
 * assert.deepEqual(calls, ["audit", "normal"]);
 * ```
 */
export const Priority: {
  readonly Lowest: 1;
  readonly Low: 2;
  readonly Normal: 3;
  readonly High: 4;
  readonly Highest: 5;
} = { Lowest: 1, Low: 2, Normal: 3, High: 4, Highest: 5 } as const;

/**
 * One of the five named priorities, as a type: `1 | 2 | 3 | 4 | 5`. The name is both this type
 * and the {@linkcode Priority} object, as with an `enum`. Options that take a priority accept
 * any finite number (see {@linkcode PriorityLevel}); this type is for code that deals in the
 * named ones only.
 *
 * @example Priority as a type and as a value
 * ```ts
 * import { Priority, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const levels: Record<string, Priority> = { audit: Priority.Highest, metrics: Priority.Low };
 * // @ts-expect-error 3.5 is a valid priority option, but not one of the named priorities
 * const between: Priority = 3.5;
 * void between;
 *
 * const soiree = new Soiree();
 * const calls: string[] = [];
 * for (const [name, priority] of Object.entries(levels)) {
 *   soiree.on("tick", () => void calls.push(name), { priority });
 * }
 * soiree.emitSync("tick");
 * assert.deepEqual(calls, ["audit", "metrics"]);
 * ```
 */
export type Priority = (typeof Priority)[keyof typeof Priority];

/**
 * A listener priority: one of {@linkcode Priority} or any other finite number.
 *
 * @example A priority between High and Highest
 * ```ts
 * import { type PriorityLevel, Priority } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const urgent: PriorityLevel = 4.5;
 * assert.ok(urgent > Priority.High && urgent < Priority.Highest);
 * ```
 */
export type PriorityLevel = Priority | number;
