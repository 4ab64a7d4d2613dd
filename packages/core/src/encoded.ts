/**
 * A tell encoded once and sent over many channels: what a topic or a broadcast does for each
 * subscriber, so that 1,000 subscribers cost one encoding, not 1,000.
 */
import { checkType } from './actor-ref.js';
import type { Caller } from './caller.js';
import { encodeData } from './codec.js';
import { Kind } from './protocol.js';

/**
 * One message, encoded once for any number of channels ({@link Channel.tellEncoded}). Its data
 * may hold anything the codec carries except actor references, which belong to one channel.
 *
 * @example
 * const message = new EncodedTell('price', { symbol: 'ACME', at: new Date() });
 * for (const client of clients) client.channel.tellEncoded(client.guid, message);
 */
export class EncodedTell {
  /** The message type. */
  readonly type: string;
  /** @internal The data as encoded once (the codec's JSON value and meta), to carry it elsewhere. */
  readonly encoded: { readonly json: unknown; readonly meta: unknown };
  readonly #json: string;
  /** The frame's fields after the data: meta, sender and the relayed caller, when any. */
  readonly #tail: string;
  readonly #frames = new Map<string, string>();

  /**
   * Encodes `data` for the message `type`. `via` is the caller of a message relayed for a peer
   * (a service's broadcast through the server): the receivers see it as that caller's, never
   * as `system`.
   * @throws TypeError for a type that is not a string of 1-256 characters; ActorSpaceError
   *   `INVALID_MESSAGE` for data the codec cannot carry (actor references included).
   */
  constructor(type: string, data: unknown, via?: Caller) {
    checkType(type);
    this.type = type;
    const { json, meta } = encodeData(data, null);
    this.encoded = { json, meta };
    this.#json = JSON.stringify(json);
    const metaText = meta === undefined ? undefined : JSON.stringify(meta);
    const relayed = via && via.type !== 'system' ? JSON.stringify([via.id, via.type]) : undefined;
    this.#tail =
      relayed !== undefined
        ? `,${metaText ?? 'null'},null,${relayed}`
        : metaText === undefined
          ? ''
          : `,${metaText}`;
  }

  /** The tell frame for the actor `target` (the same string for every channel that sends it there). */
  frame(target: string): string {
    let text = this.#frames.get(target);
    if (text === undefined) {
      text = `[${Kind.TELL},${JSON.stringify(target)},${JSON.stringify(this.type)},${this.#json}${this.#tail}]`;
      this.#frames.set(target, text);
    }
    return text;
  }
}
