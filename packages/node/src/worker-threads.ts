/**
 * A transport over `node:worker_threads`: a `Worker` on the parent side, `parentPort` (or any
 * worker_threads `MessagePort`) on the worker side: core's port transport, checked for the
 * EventEmitter shape these objects have.
 */
import { messagePortTransport, type Transport } from '@actorspace/core';

/** What the transport needs of a Worker, `parentPort` or a worker_threads MessagePort. */
export interface WorkerPortLike {
  /** Sends a frame (or the close marker) to the other thread. */
  postMessage(value: unknown): void;
  /** Listens for the frames the other thread posts. */
  on(event: 'message', listener: (value: unknown) => void): unknown;
  /** Listens for the end of the other side: a Worker's `exit`, a port's `close`. */
  on(event: 'exit' | 'close', listener: (...args: any[]) => void): unknown;
  /** Stops listening, when the transport closes. */
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * A transport between a thread and a `node:worker_threads` Worker: pass the `Worker` on the
 * parent side and `parentPort` inside the worker. Closing tells the other side; the worker
 * exiting closes the parent's transport with 1006. The worker itself stays yours to terminate.
 *
 * @throws TypeError when `port` is not a Worker or MessagePort.
 * @example
 * // main.js
 * const worker = new Worker(new URL('./worker.js', import.meta.url));
 * const channel = space.addChannel(workerTransport(worker), { handshake: clientHandshake({ actor: root }) });
 * // worker.js
 * space.addChannel(workerTransport(parentPort), { handshake: acceptHandshake(() => ({ actor: workerRoot })) });
 */
export function workerTransport(port: WorkerPortLike): Transport {
  if (
    !port ||
    typeof port.postMessage !== 'function' ||
    typeof port.on !== 'function' ||
    typeof port.off !== 'function'
  ) {
    throw new TypeError('workerTransport needs a worker_threads Worker, parentPort or MessagePort');
  }
  return messagePortTransport(port);
}
