/**
 * A transport over `node:worker_threads`: a `Worker` on the parent side, `parentPort` (or any
 * worker_threads `MessagePort`) on the worker side. They are EventEmitters, not EventTargets,
 * so core's `messagePortTransport` does not fit them directly.
 */
import { ActorSpaceError, type CloseHandler, type FrameHandler, type Transport } from '@actorspace/core';

/** What the transport needs of a Worker, `parentPort` or a worker_threads MessagePort. */
export interface WorkerPortLike {
  postMessage(value: unknown): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'exit' | 'close', listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

// The same close marker as core's messagePortTransport, so either end may use either transport.
const CLOSE_MARK = '\u0000actorspace:close';
const ABNORMAL_CLOSURE = 1006;

class WorkerTransport implements Transport {
  readonly #port: WorkerPortLike;
  #onMessage: FrameHandler | null = null;
  #onClose: CloseHandler | null = null;
  #early: Array<string | Uint8Array> | null = null;
  #closed = false;

  readonly #listener = (value: unknown): void => {
    if (this.#closed) return;
    if (typeof value === 'string' && value.startsWith(CLOSE_MARK)) {
      const rest = value.slice(CLOSE_MARK.length);
      const space = rest.indexOf(' ');
      const code = Number(space < 0 ? rest : rest.slice(0, space));
      this.#finish(Number.isInteger(code) ? code : 1000, space < 0 ? '' : rest.slice(space + 1));
      return;
    }
    const frame = typeof value === 'string' || value instanceof Uint8Array ? value : new Uint8Array(0);
    if (this.#onMessage) this.#onMessage(frame);
    else (this.#early ??= []).push(frame);
  };
  // A Worker emits 'exit' and a MessagePort 'close' when the other side is gone for good.
  readonly #gone = (): void => this.#finish(ABNORMAL_CLOSURE, 'the worker or port is gone');

  constructor(port: WorkerPortLike) {
    this.#port = port;
    port.on('message', this.#listener);
    port.on('exit', this.#gone);
    port.on('close', this.#gone);
  }

  send(frame: string): void {
    if (!this.#closed) this.#port.postMessage(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    try {
      this.#port.postMessage(`${CLOSE_MARK}${code} ${reason}`);
    } catch {
      // The worker may already have exited; the local close still happens.
    }
    this.#finish(code, reason);
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

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#early = null;
    this.#port.off('message', this.#listener);
    this.#port.off('exit', this.#gone);
    this.#port.off('close', this.#gone);
    this.#onClose?.(code, reason);
  }
}

/**
 * A transport between a thread and a `node:worker_threads` Worker: pass the `Worker` on the
 * parent side and `parentPort` inside the worker. Closing tells the other side; the worker
 * exiting closes the parent's transport with 1006. The worker itself stays yours to terminate.
 *
 * @throws ActorSpaceError `INVALID_MESSAGE` when `port` is not a Worker or MessagePort.
 * @example
 * // main.js
 * const worker = new Worker(new URL('./worker.js', import.meta.url));
 * const channel = space.addChannel(workerTransport(worker), { hello: { actor: root } });
 * // worker.js
 * space.addChannel(workerTransport(parentPort), { accept: () => ({ actor: workerRoot }) });
 */
export function workerTransport(port: WorkerPortLike): Transport {
  if (
    !port ||
    typeof port.postMessage !== 'function' ||
    typeof port.on !== 'function' ||
    typeof port.off !== 'function'
  ) {
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      'workerTransport needs a worker_threads Worker, parentPort or MessagePort',
    );
  }
  return new WorkerTransport(port);
}
