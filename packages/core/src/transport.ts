/**
 * The Transport interface: anything that moves text frames between two spaces. Channels
 * own the protocol; a transport only delivers what it is given, in order.
 */

/** Called with each frame the peer sent, in order. */
export type FrameHandler = (frame: string | Uint8Array) => void;
/** Called once when the transport is gone, from either side. */
export type CloseHandler = (code: number, reason: string) => void;

/**
 * Moves frames between two spaces, in order. A transport may buffer frames sent before it
 * is open; `close` is idempotent; after close, `send` is ignored.
 */
export interface Transport {
  /** Sends one frame to the peer, in order; ignored after close. */
  send(frame: string): void;
  /**
   * Bytes accepted by `send` and not yet handed to the network, when the transport knows
   * (`WebSocket.bufferedAmount`); a channel stops writing while it is above its high-water mark.
   */
  readonly bufferedAmount?: number;
  /** Closes the transport (idempotent); both sides' close handlers get `code` and `reason`. */
  close(code?: number, reason?: string): void;
  /** Sets the one handler for incoming frames. */
  onMessage(handler: FrameHandler): void;
  /** Sets the one handler for the end of the transport. */
  onClose(handler: CloseHandler): void;
}

/** Close codes a transport reports when it has no better one (RFC 6455). */
export const ABNORMAL_CLOSURE = 1006;

/**
 * A base for custom transports: the handler slots, frames held until a handler is set, and a
 * once-only close notice. Subclasses implement `send` and `close`, call `deliver` for each
 * incoming frame and `finish` when the underlying link ends.
 *
 * @example
 * class MyTransport extends TransportBase implements Transport {
 *   constructor(private link: Link) { super(); link.onData((f) => this.deliver(f)); link.onEnd(() => this.finish(1006, 'gone')); }
 *   send(frame: string) { if (!this.closed) this.link.write(frame); }
 *   close(code = 1000, reason = '') { this.link.end(); this.finish(code, reason); }
 * }
 */
export abstract class TransportBase {
  #onMessage: FrameHandler | null = null;
  #onClose: CloseHandler | null = null;
  #closed = false;
  #early: Array<string | Uint8Array> | null = null;

  /** True once the transport has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one frame to the peer; implementations ignore it once {@link closed} is true. */
  abstract send(frame: string): void;
  /** Closes the underlying link and calls {@link finish}; a second call does nothing. */
  abstract close(code?: number, reason?: string): void;

  /** Sets the one handler for incoming frames; frames that arrived earlier are handed to it now. */
  onMessage(handler: FrameHandler): void {
    this.#onMessage = handler;
    const early = this.#early;
    this.#early = null;
    if (early) for (const frame of early) handler(frame);
  }

  /** Sets the one handler for the end of the transport. */
  onClose(handler: CloseHandler): void {
    this.#onClose = handler;
  }

  /** Delivers an incoming frame, holding it until a handler is set. */
  protected deliver(frame: string | Uint8Array): void {
    if (this.#closed) return;
    if (this.#onMessage) this.#onMessage(frame);
    else (this.#early ??= []).push(frame);
  }

  /** Reports the end of the transport once; later calls do nothing. */
  protected finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.(code, reason);
  }
}
