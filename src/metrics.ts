/**
 * What a server needs to serve `Soiree.metrics()`: the content type of the Prometheus text
 * exposition format it renders.
 *
 * @module
 */

/**
 * The `Content-Type` of what `Soiree.metrics()` returns: the Prometheus text exposition
 * format, version 0.0.4.
 *
 * @example Serve /metrics
 * ```ts
 * import { METRICS_CONTENT_TYPE, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * await using soiree = new Soiree();
 * const response = new Response(await soiree.metrics(), {
 *   headers: { "content-type": METRICS_CONTENT_TYPE },
 * });
 * assert.match(await response.text(), /^# HELP soiree_events_emitted_total /m);
 * ```
 */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
