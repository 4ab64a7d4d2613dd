/**
 * Per-actor mailboxes: one message at a time, in arrival order, even when `receive` is
 * async (turn-based, like Orleans grains), with a bound on what may wait.
 */
import type { Actor, Caller, MessageContext } from './actor.js';
import type { ActorRef } from './actor-ref.js';
import type { Channel } from './channel.js';
import type { ActorSpaceError } from './errors.js';

/** How an ask is answered: the handler's value or what it threw. */
export interface Settler {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** One message waiting in a mailbox. `settle` is null for a tell. */
export interface Envelope {
  type: string;
  data: unknown;
  ctx: Context;
  settle: Settler | null;
}

const NOT_ABORTED = Symbol('not aborted');

/** The {@link MessageContext} implementation; its AbortSignal is made only if a handler reads it. */
export class Context implements MessageContext {
  readonly sender?: ActorRef;
  readonly caller?: Caller;
  readonly channel?: Channel;
  #controller: AbortController | null = null;
  #reason: unknown = NOT_ABORTED;

  constructor(sender: ActorRef | undefined, caller: Caller | undefined, channel: Channel | undefined) {
    if (sender) this.sender = sender;
    if (caller) this.caller = caller;
    if (channel) this.channel = channel;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason !== NOT_ABORTED) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** True once the asker gave up. */
  get aborted(): boolean {
    return this.#reason !== NOT_ABORTED;
  }

  /** The error the message was aborted with. */
  get reason(): unknown {
    return this.#reason;
  }

  abort(reason: ActorSpaceError): void {
    if (this.#reason !== NOT_ABORTED) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

// The actor whose receive is running right now (its synchronous part), so that messages it
// sends can name it as their sender. JavaScript is single-threaded; this is exact.
let running: ActorRef | null = null;

/** The actor whose `receive` is executing now, if any. */
export function currentSender(): ActorRef | null {
  return running;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Reports what a tell's handler threw, since nobody waits for its answer. */
export interface TellErrorReporter {
  tellFailed(guid: string, error: unknown, envelope: Envelope): void;
}

export class Mailbox {
  readonly #actor: Actor;
  readonly #ref: ActorRef;
  readonly #limit: number;
  readonly #reporter: TellErrorReporter;
  #queue: Array<Envelope | undefined> = [];
  #head = 0;
  #busy = false;
  #scheduled = false;
  #stopped: ActorSpaceError | null = null;
  /** The message whose async handler is running, so stop() can answer it too. */
  #current: Envelope | null = null;

  constructor(actor: Actor, ref: ActorRef, limit: number, reporter: TellErrorReporter) {
    this.#actor = actor;
    this.#ref = ref;
    this.#limit = limit;
    this.#reporter = reporter;
  }

  /** Messages waiting, not counting the one being handled. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues a message; false when the mailbox is full or stopped. */
  push(envelope: Envelope): boolean {
    if (this.#stopped || this.#queue.length - this.#head >= this.#limit) return false;
    this.#queue.push(envelope);
    return true;
  }

  /** Handles queued messages now, unless a message is already being handled. */
  run(): void {
    if (!this.#busy) this.#drain();
  }

  /** Handles queued messages on a later microtask (local sends never re-enter the sender). */
  schedule(): void {
    if (this.#scheduled || this.#busy) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.run();
    });
  }

  /**
   * Rejects every waiting ask, and the one being handled, with `reason`, aborts the running
   * handler's signal, and accepts nothing more.
   */
  stop(reason: ActorSpaceError): void {
    this.#stopped = reason;
    const current = this.#current;
    this.#current = null;
    if (current) {
      current.ctx.abort(reason);
      current.settle?.reject(reason);
    }
    const queue = this.#queue;
    const head = this.#head;
    this.#queue = [];
    this.#head = 0;
    for (let i = head; i < queue.length; i++) queue[i]?.settle?.reject(reason);
  }

  #drain(): void {
    this.#busy = true;
    const queue = this.#queue;
    while (this.#head < queue.length && !this.#stopped) {
      const env = queue[this.#head] as Envelope;
      queue[this.#head++] = undefined;
      if (env.ctx.aborted) {
        env.settle?.reject(env.ctx.reason);
        continue;
      }
      let result: unknown;
      const outer = running;
      running = this.#ref;
      try {
        result = this.#actor.receive(env.type, env.data, env.ctx);
      } catch (error) {
        running = outer;
        this.#fail(env, error);
        continue;
      }
      running = outer;
      if (isThenable(result)) {
        // Stay busy until the handler's promise settles: the next message waits for it.
        this.#current = env;
        Promise.resolve(result).then(
          (value) => this.#next(env, value, null),
          (error) => this.#next(env, undefined, error ?? new Error('handler rejected')),
        );
        return;
      }
      env.settle?.resolve(result);
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
    this.#busy = false;
  }

  #next(env: Envelope, value: unknown, error: unknown): void {
    this.#current = null;
    if (error === null) env.settle?.resolve(value);
    else this.#fail(env, error);
    this.#drain();
  }

  #fail(env: Envelope, error: unknown): void {
    if (env.settle) env.settle.reject(error);
    else this.#reporter.tellFailed(this.#ref.guid, error, env);
  }
}
