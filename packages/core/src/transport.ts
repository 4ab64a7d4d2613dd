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
  send(frame: string): void;
  close(code?: number, reason?: string): void;
  /** Sets the one handler for incoming frames. */
  onMessage(handler: FrameHandler): void;
  /** Sets the one handler for the end of the transport. */
  onClose(handler: CloseHandler): void;
}

/** Close codes a transport reports when it has no better one (RFC 6455). */
export const ABNORMAL_CLOSURE = 1006;

/** Shared bookkeeping for transports: handler slots and a once-only close notice. */
export class TransportBase {
  #onMessage: FrameHandler | null = null;
  #onClose: CloseHandler | null = null;
  #closed = false;
  #early: Array<string | Uint8Array> | null = null;

  /** True once the transport has closed. */
  protected get closed(): boolean {
    return this.#closed;
  }

  onMessage(handler: FrameHandler): void {
    this.#onMessage = handler;
    const early = this.#early;
    this.#early = null;
    if (early) for (const frame of early) handler(frame);
  }

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
