/**
 * A tell encoded once and sent over many channels: what a topic or a broadcast does for each
 * subscriber, so that 1,000 subscribers cost one encoding, not 1,000.
 */
import { checkType } from './actor-ref.js';
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
  readonly #json: string;
  readonly #meta: string | undefined;
  readonly #frames = new Map<string, string>();

  /**
   * Encodes `data` for the message `type`.
   * @throws TypeError for a type that is not a string of 1-256 characters; ActorSpaceError
   *   `INVALID_MESSAGE` for data the codec cannot carry (actor references included).
   */
  constructor(type: string, data: unknown) {
    checkType(type);
    this.type = type;
    const { json, meta } = encodeData(data, null);
    this.#json = JSON.stringify(json);
    this.#meta = meta === undefined ? undefined : JSON.stringify(meta);
  }

  /** The tell frame for the actor `target` (the same string for every channel that sends it there). */
  frame(target: string): string {
    let text = this.#frames.get(target);
    if (text === undefined) {
      text = `[${Kind.TELL},${JSON.stringify(target)},${JSON.stringify(this.type)},${this.#json}${
        this.#meta === undefined ? '' : `,${this.#meta}`
      }]`;
      this.#frames.set(target, text);
    }
    return text;
  }
}
