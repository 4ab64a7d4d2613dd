/**
 * Metrics in Prometheus' text format, on prom-client (an optional dependency, loaded when
 * `metrics` is on): a registry of its own, or the host's, so a host that already exports
 * metrics gets these in the same scrape. What is counted on the hot path is plain numbers;
 * prom-client reads them when scraped.
 */
import { Kind } from '@actorspace/core';

/** Options of the server's metrics (`createActorServer({ metrics })`). */
export interface MetricsOptions {
  /**
   * A prom-client `Registry` to register the metrics in (the host's, to scrape them with its
   * own); `GET <path>/metrics` serves that registry then.
   * @default a registry of the server's own
   */
  registry?: unknown;
  /** Prefix of every metric name. @default 'actorspace_' */
  prefix?: string;
}

/** What the metrics read from the engine when scraped. */
export interface MetricsSource {
  connections(): number;
  /** Sessions by route and state (`open`, `suspended`); gateway services under route `''`. */
  sessions(): { route: string; state: string }[];
}

/** The frame kinds by number, for the `kind` label. */
const KIND_NAMES: string[] = [];
for (const [name, n] of Object.entries(Kind)) KIND_NAMES[n] = name.toLowerCase();

const ASK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The server's counters, and their prom-client registry once loaded. */
export class Metrics {
  /** Transport messages by direction and the kind of their first frame (`batch` for several). */
  readonly #messages = new Counts(['direction', 'kind']);
  readonly #errors = new Counts(['code']);
  readonly #requests = new Counts(['endpoint', 'status']);
  /** The histograms, once prom-client is loaded (asks before that are not timed). */
  #served: PromHistogram | null = null;
  #gatewayAsks: PromHistogram | null = null;
  /** The registry, once prom-client is loaded (and the histograms below made). */
  readonly #ready: Promise<PromRegistry>;

  constructor(options: MetricsOptions | true, source: MetricsSource) {
    const o = options === true ? {} : options;
    const prefix = o.prefix ?? 'actorspace_';
    this.#ready = import('prom-client')
      .catch((error) => {
        throw new Error('metrics need the package prom-client: npm install prom-client', { cause: error });
      })
      .then((prom) => {
        const registry = (o.registry as PromRegistry | undefined) ?? new prom.Registry();
        const registers = [registry as never];
        new prom.Gauge({
          name: `${prefix}connections`,
          help: 'Open WebSocket connections, paired or not.',
          registers,
          collect() {
            this.set(source.connections());
          },
        });
        new prom.Gauge({
          name: `${prefix}sessions`,
          help: 'Live sessions by route and state (gateway services under route "").',
          labelNames: ['route', 'state'],
          registers,
          collect() {
            this.reset();
            const by = new Counts(['route', 'state']);
            for (const s of source.sessions()) by.add(s.route, s.state);
            by.each((labels, n) => this.set(labels, n));
          },
        });
        // Counts kept as plain numbers on the hot path, read into counters at scrape time.
        for (const [name, help, counts] of [
          ['messages_total', 'WebSocket messages by direction and frame kind.', this.#messages],
          [
            'errors_total',
            'Failures by error code (server events, refusals, gateway answers).',
            this.#errors,
          ],
          ['gateway_requests_total', 'Gateway requests by endpoint and HTTP status.', this.#requests],
        ] as const) {
          new prom.Counter({
            name: `${prefix}${name}`,
            help,
            labelNames: counts.labelNames,
            registers,
            collect(this: PromCounter) {
              this.reset();
              counts.each((labels, n) => this.inc(labels, n));
            },
          });
        }
        const histogram = (name: string, help: string, by: string) =>
          new prom.Histogram({
            name: `${prefix}${name}`,
            help,
            labelNames: [by, 'outcome'],
            buckets: ASK_BUCKETS,
            registers,
          }) as unknown as PromHistogram;
        this.#gatewayAsks = histogram(
          'gateway_ask_duration_seconds',
          'Asks of services to the tabs (HTTP, MCP, WebSocket gateway), from request to answer.',
          'transport',
        );
        this.#served = histogram(
          'ask_duration_seconds',
          "Asks of the server's actors by clients and services, from arrival to answer.",
          'caller',
        );
        return registry;
      });
    // Failing to load is reported when metrics are read, never as an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Counts one transport message (`frame` is its text). */
  message(direction: 'in' | 'out', frame: string | Uint8Array): void {
    let kind = 'binary';
    if (typeof frame === 'string') {
      if (frame.charCodeAt(1) === 91 /* [ */) kind = 'batch';
      else {
        let n = 0;
        for (let i = 1; i < 4; i++) {
          const c = frame.charCodeAt(i) - 48;
          if (c < 0 || c > 9) break;
          n = n * 10 + c;
        }
        kind = KIND_NAMES[n] ?? 'other';
      }
    }
    this.#messages.add(direction, kind);
  }

  /** Counts one failure by code. */
  error(code: string): void {
    this.#errors.add(code);
  }

  /** Counts one gateway request. */
  request(endpoint: string, status: number): void {
    this.#requests.add(endpoint, String(status));
  }

  /** Records one gateway ask's duration. */
  ask(transport: 'http' | 'mcp' | 'ws', outcome: string, seconds: number): void {
    this.#gatewayAsks?.observe({ transport, outcome }, seconds);
  }

  /**
   * What times the asks served to one caller type (a channel's `observeAsk`). Asks answered
   * before prom-client has loaded (the first moments after start) are not timed.
   */
  askObserver(caller: 'client' | 'service'): (type: string, ms: number, outcome: string) => void {
    return (_type, ms, outcome) => {
      const histogram = this.#served;
      if (histogram) histogram.observe({ caller, outcome }, ms / 1000);
    };
  }

  /** The Prometheus text exposition of the registry, and its content type. */
  async text(): Promise<{ body: string; contentType: string }> {
    const registry = await this.#ready;
    return { body: await registry.metrics(), contentType: registry.contentType };
  }
}

/** Counts by a tuple of label values (kept as one key joined by newlines, which no label holds). */
class Counts {
  readonly labelNames: string[];
  readonly #counts = new Map<string, number>();

  constructor(labelNames: string[]) {
    this.labelNames = labelNames;
  }

  add(...values: string[]): void {
    const key = values.join('\n');
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  each(fn: (labels: Record<string, string>, n: number) => void): void {
    for (const [key, n] of this.#counts) {
      const values = key.split('\n');
      fn(Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] ?? ''])), n);
    }
  }
}

/** The parts of prom-client used here (it is loaded at run time). */
interface PromRegistry {
  metrics(): Promise<string>;
  contentType: string;
}
interface PromCounter {
  reset(): void;
  inc(labels: Record<string, string>, value: number): void;
}
interface PromHistogram {
  observe(labels: Record<string, string>, value: number): void;
}
