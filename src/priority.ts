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
export type PriorityLevel = (typeof Priority)[keyof typeof Priority] | number;
