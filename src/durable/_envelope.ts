// The stored form of a published event: a CloudEvents 1.0 JSON document (structured mode) in
// `StoredMessage.data`. Builds it at publish by concatenating strings around the codec's
// output (a JSON codec's text goes in as JSON, any other as a JSON string), and reads it back
// at delivery (parse, check, then decode `data` with the codec). Also keeps, per delivered
// event, the document it came from, for `toCloudEvent()`. Owns the layout; the rules of a
// valid document are in `_cloud_event_checks.ts`.

import type { Codec } from "./codec.ts";
import { jsonCodec } from "./codec.ts";
import { checkCloudEvent, isJsonContentType } from "./_cloud_event_checks.ts";
import type { Carrier } from "../_tracing.ts";
import { describeValue } from "../_topic.ts";

/** The `source` of stored events when the emitter's `source` option is absent. */
export const DEFAULT_SOURCE = "soiree";
/** The extension attribute that carries `publish()`'s idempotency key. */
export const KEY_EXTENSION = "idempotencykey";

/** The document each delivered event came from, for `toCloudEvent()`. */
export const deliveredFrom: WeakMap<object, Readonly<Record<string, unknown>>> = new WeakMap();

/** The `source` option, checked: a non-empty string (a URI-reference, per CloudEvents). */
export function checkSource(value: unknown, action: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(
      `Cannot ${action} as 'source' must be a non-empty string (a URI-reference such as "/shop/orders"): received ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/** A delivery's document, read: its attributes and its decoded payload. */
export interface ReadEvent {
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly payload: unknown;
}

/** How one emitter writes and reads its stored events. */
export class Envelope {
  readonly #codec: Codec;
  /** `,"source":…` through `,"datacontenttype":…`, minus the type and time between. */
  readonly #source: string;
  readonly #contentType: string;
  readonly #json: boolean;

  constructor(source: string, codec: Codec) {
    this.#codec = codec;
    this.#source = `,"source":${JSON.stringify(source)},"type":`;
    this.#contentType = `,"datacontenttype":${JSON.stringify(codec.contentType)}`;
    this.#json = isJsonContentType(codec.contentType);
  }

  /** The codec's content type, for errors. */
  get contentType(): string {
    return this.#codec.contentType;
  }

  /**
   * The codec's text for a payload.
   *
   * @throws {Error} The codec's error; a `TypeError` when it returned no string, or text that
   * is not JSON while it declares a JSON content type (the built-in `jsonCodec` is trusted).
   */
  encode(payload: unknown): string {
    const codec = this.#codec;
    const text = codec.encode(payload);
    if (typeof text !== "string") {
      throw new TypeError(`the codec returned ${describeValue(text)} instead of a string`);
    }
    if (this.#json && codec !== jsonCodec && text !== "") {
      try {
        JSON.parse(text);
      } catch (error) {
        throw new TypeError(
          `the codec declares ${codec.contentType} but returned text that is not JSON (${
            (error as Error).message
          })`,
          { cause: error },
        );
      }
    }
    return text;
  }

  /** The document of a publish, around the codec's text from {@linkcode Envelope.encode}. */
  wrap(
    id: string,
    topic: string,
    text: string,
    publishedAt: number,
    key: string | undefined,
    trace: Carrier | undefined,
  ): string {
    let document = `{"specversion":"1.0","id":${JSON.stringify(id)}${this.#source}${
      JSON.stringify(topic)
    },"time":"${new Date(publishedAt).toISOString()}"${this.#contentType}`;
    if (trace?.traceparent !== undefined) {
      document += `,"traceparent":"${trace.traceparent}"`;
      if (trace.tracestate !== undefined) {
        document += `,"tracestate":${JSON.stringify(trace.tracestate)}`;
      }
    }
    if (key !== undefined) document += `,"${KEY_EXTENSION}":${JSON.stringify(key)}`;
    if (!this.#json) return `${document},"data":${JSON.stringify(text)}}`;
    return text === "" ? `${document}}` : `${document},"data":${text}}`;
  }

  /**
   * Reads a stored document: its attributes, and its `data` decoded with the codec (`data`
   * of a JSON content type is handed to the codec as JSON text, a string as is, `data_base64`
   * as its UTF-8 text, no data as `""`).
   *
   * @throws {TypeError} `Cannot read the stored event as …` naming the bad member, or
   * `Cannot decode the stored data: …` with the codec's error as `cause`.
   */
  read(stored: string): ReadEvent {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored);
    } catch (error) {
      throw new TypeError(
        `Cannot read the stored event as it is not a CloudEvents JSON document: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    const attributes = checkCloudEvent(parsed, "read the stored event");
    const data = attributes.data;
    try {
      if (typeof attributes.data_base64 === "string") {
        const bytes = Uint8Array.from(atob(attributes.data_base64), (c) => c.charCodeAt(0));
        return { attributes, payload: this.#codec.decode(new TextDecoder().decode(bytes)) };
      }
      if (data === undefined) return { attributes, payload: this.#codec.decode("") };
      const json = isJsonContentType(attributes.datacontenttype as string | undefined);
      if (json && this.#codec === jsonCodec) return { attributes, payload: data };
      if (!json && typeof data !== "string") {
        throw new TypeError(
          `'data' must be a string for datacontenttype ${
            describeValue(attributes.datacontenttype)
          }: received ${describeValue(data)}`,
        );
      }
      const text = json ? JSON.stringify(data) : data as string;
      return { attributes, payload: this.#codec.decode(text) };
    } catch (error) {
      throw new TypeError(
        `Cannot decode the stored data: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}
