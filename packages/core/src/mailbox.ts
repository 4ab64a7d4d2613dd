/**
 * Per-actor mailboxes: one message at a time, in arrival order, even when `receive` is
 * async (turn-based, like Orleans grains). Messages from channels are bounded by the channel's
 * flow-control window and always accepted; local sends are bounded by the mailbox limit.
 * Messages are linked in place, so a cancelled ask leaves the queue at once and the queue's
 * storage is exactly what it holds.
 */
import type { Actor } from './actor.js';
import type { ActorRef } from './actor-ref.js';
import type { Caller } from './caller.js';
import type { Channel } from './channel.js';
import type { MessageContext } from './context.js';
import { OutputValidationError } from './definitions.js';
import type { ActorSpaceError } from './errors.js';
import { enter } from './internal/running.js';

/** Where a message came from: told when it leaves the mailbox, and how its ask is answered. */
export interface Origin {
  /** The message left the mailbox (its flow-control credit can come back). */
  taken(cost: number): void;
  answer(id: number, value: unknown): void;
  fail(id: number, error: unknown): void;
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

/** One message in (or on its way through) a mailbox. */
export class Envelope {
  readonly type: string;
  readonly data: unknown;
  readonly ctx: Context;
  /** Who waits for the answer and takes back the credit; null for a local tell. */
  readonly origin: Origin | null;
  /** The ask's id at its origin; 0 for a tell. */
  readonly id: number;
  readonly cost: number;
  /** True when someone waits for the answer. */
  readonly reply: boolean;
  next: Envelope | null = null;
  prev: Envelope | null = null;
  /** The mailbox the message waits in, while it waits. */
  box: Mailbox | null = null;

  constructor(
    type: string,
    data: unknown,
    ctx: Context,
    origin: Origin | null,
    id: number,
    cost: number,
    reply: boolean,
  ) {
    this.type = type;
    this.data = data;
    this.ctx = ctx;
    this.origin = origin;
    this.id = id;
    this.cost = cost;
    this.reply = reply;
  }

  /** Takes the message back: out of its mailbox if it still waits, and its handler's signal aborted. */
  cancel(reason: ActorSpaceError): void {
    this.box?.remove(this);
    this.ctx.abort(reason);
  }

  resolve(value: unknown): void {
    this.origin?.answer(this.id, value);
  }

  reject(error: unknown): void {
    this.origin?.fail(this.id, error);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Reports what nobody else will: a tell's handler that threw, an answer its schema refused. */
export interface TellErrorReporter {
  /** A tell's handler threw: nobody waits for its answer. */
  tellFailed(guid: string, error: unknown, envelope: Envelope): void;
  /** An ask's answer failed its output schema: the asker gets `REMOTE_ERROR`, the bug is logged. */
  answerRefused(guid: string, error: OutputValidationError): void;
}

export class Mailbox {
  readonly #actor: Actor;
  readonly #ref: ActorRef;
  readonly #limit: number;
  readonly #reporter: TellErrorReporter;
  #head: Envelope | null = null;
  #tail: Envelope | null = null;
  #length = 0;
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
    return this.#length;
  }

  /** True once stopped: nothing more is accepted. */
  get stopped(): boolean {
    return this.#stopped !== null;
  }

  /**
   * Queues a message; false when the mailbox is stopped, or (`bounded`, a local send) full.
   * Messages from channels are not bounded here: the channel's window bounds them.
   */
  push(env: Envelope, bounded: boolean): boolean {
    if (this.#stopped || (bounded && this.#length >= this.#limit)) return false;
    env.box = this;
    env.prev = this.#tail;
    if (this.#tail) this.#tail.next = env;
    else this.#head = env;
    this.#tail = env;
    this.#length++;
    return true;
  }

  /** Takes a waiting message out of the queue; its origin gets its credit back. */
  remove(env: Envelope): void {
    if (env.box !== this) return;
    if (env.prev) env.prev.next = env.next;
    else this.#head = env.next;
    if (env.next) env.next.prev = env.prev;
    else this.#tail = env.prev;
    env.next = env.prev = env.box = null;
    this.#length--;
    env.origin?.taken(env.cost);
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
      if (current.reply) current.reject(reason);
    }
    while (this.#head) {
      const env = this.#head;
      this.remove(env);
      if (env.reply) env.reject(reason);
    }
  }

  #drain(): void {
    this.#busy = true;
    while (this.#head && !this.#stopped) {
      const env = this.#head;
      this.remove(env);
      if (env.ctx.aborted) {
        if (env.reply) env.reject(env.ctx.reason);
        continue;
      }
      let result: unknown;
      const outer = enter(this.#ref);
      try {
        result = this.#actor.receive(env.type, env.data, env.ctx);
      } catch (error) {
        enter(outer);
        this.#fail(env, error);
        continue;
      }
      enter(outer);
      if (isThenable(result)) {
        // Stay busy until the handler's promise settles: the next message waits for it.
        this.#current = env;
        Promise.resolve(result).then(
          (value) => this.#next(env, value, null),
          (error) => this.#next(env, undefined, error ?? new Error('handler rejected')),
        );
        return;
      }
      if (env.reply) env.resolve(result);
    }
    this.#busy = false;
  }

  #next(env: Envelope, value: unknown, error: unknown): void {
    if (this.#current !== env) return; // stopped meanwhile: already answered
    this.#current = null;
    if (error === null) {
      if (env.reply) env.resolve(value);
    } else this.#fail(env, error);
    this.#drain();
  }

  #fail(env: Envelope, error: unknown): void {
    if (env.reply) {
      if (error instanceof OutputValidationError) this.#reporter.answerRefused(this.#ref.guid, error);
      env.reject(error);
    } else this.#reporter.tellFailed(this.#ref.guid, error, env);
  }
}
