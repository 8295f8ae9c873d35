/**
 * How a published payload becomes text in the store and back: JSON by default.
 *
 * @module
 */

/**
 * Encodes payloads for the store and decodes them for durable listeners. `encode` runs inside
 * `publish()` before anything is stored, so a payload it cannot encode is refused at the call
 * site; `decode` runs before each delivery, and a delivery whose data no longer decodes is
 * dead-lettered with the error instead of being retried forever.
 *
 * @example A codec that keeps `Date` values
 * ```ts
 * import { type Codec, memoryTransport, Soiree } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * const dates: Codec = {
 *   contentType: "application/json",
 *   encode: (payload) => JSON.stringify(payload),
 *   decode: (data) =>
 *     JSON.parse(data, (_key, value) =>
 *       typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? new Date(value) : value),
 * };
 * const soiree = new Soiree({ transport: memoryTransport(), codec: dates });
 * const seen = Promise.withResolvers<unknown>();
 * soiree.on("invoice.due", (event) => seen.resolve(event.payload), { durable: "reminder" });
 * await soiree.publish("invoice.due", new Date(Date.UTC(2026, 11, 1)));
 * assert.ok((await seen.promise) instanceof Date);
 * await soiree.close();
 * ```
 */
export interface Codec {
  /** The MIME type of the encoded text (CloudEvents `datacontenttype`). */
  readonly contentType: string;
  /**
   * Turns a payload into text.
   *
   * @throws {Error} Any error, when the payload cannot be encoded; `publish()` rethrows it as a
   * `TypeError` whose `cause` is that error.
   */
  encode(payload: unknown): string;
  /**
   * Turns stored text back into a payload.
   *
   * @throws {Error} Any error, when the text cannot be decoded: the delivery is dead-lettered.
   */
  decode(data: string): unknown;
}

/**
 * The default codec: `JSON.stringify` and `JSON.parse`, so a listener receives what
 * `JSON.stringify` keeps (a `Date` arrives as its ISO string, a `Map` as `{}`, `undefined`
 * properties are left out). An `undefined` payload is stored as empty text and arrives as
 * `undefined`. A payload JSON cannot encode at all (a `BigInt`, a cycle, a function, a symbol)
 * makes `encode` throw.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "@x/soiree";
 * import assert from "node:assert/strict";
 *
 * assert.equal(jsonCodec.encode({ id: 1 }), '{"id":1}');
 * assert.deepEqual(jsonCodec.decode('{"id":1}'), { id: 1 });
 * assert.equal(jsonCodec.decode(jsonCodec.encode(undefined)), undefined);
 * assert.throws(() => jsonCodec.encode(10n), TypeError);
 * ```
 */
export const jsonCodec: Codec = Object.freeze({
  contentType: "application/json",
  encode(payload: unknown): string {
    if (payload === undefined) return "";
    const text = JSON.stringify(payload);
    if (text === undefined) {
      throw new TypeError(`JSON cannot encode a value of type ${typeof payload}`);
    }
    return text;
  },
  decode(data: string): unknown {
    return data === "" ? undefined : JSON.parse(data);
  },
});
