/**
 * Heartbeats: a PING every `interval` ms, and the peer is dead when no PONG came back for
 * `timeout` ms. Only a PONG counts: a peer that keeps sending but stopped reading never
 * answers, and is closed (its unread frames would otherwise be held for ever).
 */
import { every } from './ticker.js';

/** Heartbeat settings: ping every `interval` ms, dead after `timeout` ms without a pong. */
export interface HeartbeatOptions {
  /** @default 25000 */
  interval: number;
  /** @default 30000 (60000 on clients) */
  timeout: number;
}

/** What a heartbeat needs from its channel. */
export interface HeartbeatHost {
  /** A PING is due. */
  ping(): void;
  /** Called every interval, after the liveness check passed (for other periodic checks). */
  tick(): void;
  /** No PONG for `timeout` ms. */
  dead(timeout: number): void;
}

export class Heartbeat {
  readonly #host: HeartbeatHost;
  readonly #options: HeartbeatOptions;
  #stop: (() => void) | null = null;
  #lastPong = 0;

  constructor(host: HeartbeatHost, options: HeartbeatOptions) {
    this.#host = host;
    this.#options = options;
  }

  start(): void {
    if (this.#stop !== null || !(this.#options.interval > 0)) return;
    this.#lastPong = Date.now();
    this.#stop = every(this.#options.interval, this);
  }

  stop(): void {
    this.#stop?.();
    this.#stop = null;
  }

  pong(): void {
    this.#lastPong = Date.now();
  }

  /** Ticker callback. */
  tick(): void {
    if (Date.now() - this.#lastPong > this.#options.timeout) {
      this.#host.dead(this.#options.timeout);
      return;
    }
    this.#host.tick();
    this.#host.ping();
  }
}
