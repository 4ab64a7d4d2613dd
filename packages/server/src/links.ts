/**
 * Direct links between the nodes of a cluster (cluster.ts). Each node listens on a TCP port and
 * advertises it, with a random token, in the state it sends over the backplane; every other
 * node connects to it and sends its asks, answers, tells and cancels there instead of through
 * the broker: one hop less each way, and a node that dies is noticed when its socket closes.
 *
 * Frames are UTF-8 text behind a 4-byte big-endian length. On a new connection the listener
 * sends `["hi", nonce]`; the connecting node answers `["hello", from, to, link id, proof]`, the
 * proof an HMAC-SHA256 over those and the nonce, keyed with the backplane's signing key (or,
 * without one, the listener's token): a hello seen on the network cannot be replayed. The
 * listener answers `["ok"]` and holds what arrives next until the connecting node's `via`
 * message, sent through the broker once the link is open, arrives: whatever that node sent
 * through the broker before reaches the handlers first, so messages keep their order when the
 * path changes. The connecting node sends `["ping"]` every `ping` ms and the listener answers
 * `["pong"]`; a link silent for three of those is given up (a peer gone without a reset).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Where a node listens for the direct links of the other nodes (`cluster.link`). Other nodes
 * must reach `advertise:port`; when they cannot, their messages go through the broker (and a
 * warning says so).
 */
export interface ClusterLinkOptions {
  /**
   * The interface to listen on. The default only serves nodes on this machine: on several
   * machines, give an address the others reach (a private one: links are plain TCP).
   * @default '127.0.0.1'
   */
  host?: string;
  /** The TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * The host name or address other nodes connect to; needed when `host` is a wildcard
   * (`0.0.0.0`, `::`). @default `host`
   */
  advertise?: string;
}

/** A node's link address as advertised: host, port and the token a connecting node proves. */
export type LinkAddress = [host: string, port: number, token: string];

/** What the links need from the cluster. */
export interface LinkHost {
  /** This node's id. */
  readonly node: string;
  /** The backplane's signing key, if any. */
  readonly key: Buffer | null;
  /**
   * True while links may be accepted: only while the broker is connected, or the announcement
   * of a new link could never arrive.
   */
  accepting(): boolean;
  /** Text that arrived on the link from `from`, in the order it was sent. */
  received(from: string, text: string): void;
  /**
   * The link to `node` is open: announce link `id` through the broker (true when sent); it is
   * used from then on.
   */
  opened(node: string, id: string): boolean;
  /** A link to or from `node` that was in use closed: what it carried may be lost. */
  lost(node: string, reason: string): void;
  log(level: 'debug' | 'warn', message: string, details?: unknown): void;
}

/** The longest frame a link carries. */
export const MAX_FRAME = 64 * 1024 * 1024;
/** The longest frame before a link is open (hi, hello, ok). */
const MAX_HELLO = 1024;
/** What a link may hold back, unread by the peer or not yet announced, before it is given up. */
const MAX_BUFFERED = 64 * 1024 * 1024;
/** How long a connecting node has to connect and say hello. */
const HELLO_TIMEOUT = 5_000;
/** How long a new link's frames wait for its announcement through the broker before it is closed. */
const ANNOUNCE_TIMEOUT = 10_000;
/** The longest wait between two attempts to connect a link. */
const MAX_RETRY = 5_000;
/** Failed attempts in a row after which a link that never opened is reported. */
const REPORT_AFTER = 3;
/** Pings a link may miss before it is given up. */
const MISSED_PINGS = 3;
const PING = '["ping"]';
const PONG = '["pong"]';

/** A link this node opened, to send on. */
interface Outbound {
  node: string;
  address: LinkAddress;
  socket: Socket | null;
  /** `open` once the listener said ok and the link was announced. */
  state: 'connecting' | 'open' | 'closed';
  attempt: number;
  retry: ReturnType<typeof setTimeout> | null;
  /** When the listener was last heard from (`performance.now()`). */
  heard: number;
  /** True once a failure to open it was reported (once until it opens). */
  reported: boolean;
}

/** A link another node opened, to receive on. */
interface Inbound {
  socket: Socket;
  node: string | null;
  id: string | null;
  /** Frames held until the link is announced through the broker (null once it is). */
  held: string[] | null;
  heldBytes: number;
  /** Closes the link when its hello or its announcement does not come in time. */
  timer: ReturnType<typeof setTimeout> | null;
}

/** The direct links of one node: its listener, its links to the other nodes, theirs to it. */
export class Links {
  readonly #host: LinkHost;
  readonly #options: ClusterLinkOptions;
  readonly #ping: number;
  readonly #token = randomBytes(24).toString('base64url');
  #server: Server | null = null;
  #address: LinkAddress | null = null;
  readonly #out = new Map<string, Outbound>();
  readonly #in = new Set<Inbound>();
  #nextId = 0;
  #stopped = false;
  #pinger: ReturnType<typeof setInterval> | null = null;
  #refusedHellos = 0;

  /** `ping`: ms between pings on a link (the cluster's heartbeat). */
  constructor(host: LinkHost, options: ClusterLinkOptions, ping: number) {
    this.#host = host;
    this.#options = options;
    this.#ping = ping;
  }

  /** Where the other nodes reach this one, once it listens. */
  get address(): LinkAddress | null {
    return this.#address;
  }

  /** How many links to other nodes are open. */
  get open(): number {
    let count = 0;
    for (const out of this.#out.values()) if (out.state === 'open') count++;
    return count;
  }

  /** Starts listening; throws when the port cannot be had. */
  async listen(): Promise<void> {
    const host = this.#options.host ?? '127.0.0.1';
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (this.#stopped) {
      // Stopped while it was starting.
      server.close();
      return;
    }
    server.on('error', (error) => this.#host.log('warn', 'the cluster link listener failed', error));
    this.#server = server;
    const { port } = server.address() as { port: number };
    this.#address = [this.#options.advertise ?? host, port, this.#token];
    this.#pinger = setInterval(() => this.#beat(), this.#ping);
    this.#pinger.unref?.();
  }

  /** Connects to `node` at `address` (again, when its address changed); nothing when already. */
  connect(node: string, address: unknown): void {
    if (this.#stopped || !isAddress(address)) return;
    const known = this.#out.get(node);
    if (known && known.state !== 'closed' && sameAddress(known.address, address)) return;
    if (known) this.#close(known, 'its address changed');
    const out: Outbound = {
      node,
      address,
      socket: null,
      state: 'connecting',
      attempt: 0,
      retry: null,
      heard: 0,
      reported: false,
    };
    this.#out.set(node, out);
    this.#dial(out);
  }

  /** True when messages to `node` go on its link. */
  usable(node: string): boolean {
    return this.#out.get(node)?.state === 'open';
  }

  /**
   * Sends `text` on the link to `node`; false when there is no open link (the broker carries
   * it instead), or when the other node stopped reading (the link is given up first).
   * @throws RangeError for a text longer than {@link MAX_FRAME} bytes.
   */
  send(node: string, text: string): boolean {
    const out = this.#out.get(node);
    if (out?.state !== 'open' || !out.socket) return false;
    const length = Buffer.byteLength(text);
    if (length > MAX_FRAME) throw new RangeError(`${length} bytes is more than a link frame takes`);
    if (out.socket.writableLength > MAX_BUFFERED) {
      // The other node stopped reading: the link goes, and with it what it holds.
      this.#fail(out, 'the other node stopped reading');
      return false;
    }
    out.socket.write(frame(text, length));
    return true;
  }

  /** Link `id` from `node` was announced through the broker: what it held is handed on. */
  announced(node: string, id: unknown): void {
    for (const link of this.#in) {
      if (link.node !== node || link.id !== id || link.held === null) continue;
      if (link.timer) clearTimeout(link.timer);
      link.timer = null;
      const held = link.held;
      link.held = null;
      link.heldBytes = 0;
      for (const text of held) this.#host.received(node, text);
    }
  }

  /** Closes the links to and from `node`, and stops connecting to it. */
  forget(node: string): void {
    const out = this.#out.get(node);
    if (out) {
      this.#out.delete(node);
      this.#close(out, 'the node left');
    }
    for (const link of [...this.#in]) if (link.node === node) link.socket.destroy();
  }

  /** Closes every link (the broker was lost: links are made again when it is back). */
  forgetAll(): void {
    for (const node of [...this.#out.keys()]) this.forget(node);
    for (const link of [...this.#in]) link.socket.destroy();
  }

  /** Closes every link and the listener. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#pinger) clearInterval(this.#pinger);
    this.forgetAll();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Pings every open link this node opened; gives up those silent for too long. */
  #beat(): void {
    const now = performance.now();
    const dead = MISSED_PINGS * this.#ping;
    for (const out of this.#out.values()) {
      if (out.state !== 'open' || !out.socket) continue;
      if (now - out.heard > dead) this.#fail(out, `no answer to its pings in ${dead} ms`);
      else out.socket.write(frame(PING));
    }
    // A silent link the other node opened needs nothing: that node's pings find it dead, and
    // this node's own link to it carries what this node sends.
  }

  // ---- links this node opens ------------------------------------------------------------------

  #dial(out: Outbound): void {
    const [host, port, token] = out.address;
    const id = `${this.#host.node}/${++this.#nextId}`;
    const socket = connect({ host, port, noDelay: true });
    out.socket = socket;
    let why = 'no answer in time';
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT);
    timer.unref?.();
    let said = false;
    readFrames(socket, MAX_HELLO, (text) => {
      out.heard = performance.now();
      if (out.state === 'open') {
        if (text !== PONG) socket.destroy();
        return;
      }
      if (!said) {
        // The listener's nonce: the hello proves the token (or key) over it.
        const nonce = parse(text);
        if (!Array.isArray(nonce) || nonce[0] !== 'hi' || typeof nonce[1] !== 'string') {
          why = 'it does not speak the link protocol';
          socket.destroy();
          return;
        }
        said = true;
        const me = this.#host.node;
        const proof = this.#proof(me, out.node, id, nonce[1], token);
        socket.write(frame(JSON.stringify(['hello', me, out.node, id, proof])));
        return;
      }
      if (text !== '["ok"]') {
        why = 'it refused the hello';
        socket.destroy();
        return;
      }
      clearTimeout(timer);
      if (!this.#host.opened(out.node, id)) {
        why = 'the broker is not connected';
        socket.destroy();
        return;
      }
      out.state = 'open';
      out.attempt = 0;
      out.reported = false;
      this.#host.log('debug', `link to node ${out.node} open`);
    });
    socket.on('error', (error) => {
      why = error.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (out.socket !== socket) return;
      out.socket = null;
      const wasOpen = out.state === 'open';
      if (wasOpen) this.#host.lost(out.node, 'its link closed');
      if (this.#stopped || this.#out.get(out.node) !== out) {
        out.state = 'closed';
        return;
      }
      if (!wasOpen && ++out.attempt >= REPORT_AFTER && !out.reported) {
        out.reported = true;
        this.#host.log(
          'warn',
          `no direct link to node ${out.node} at ${host}:${port} (${why}): its messages go through the broker; set cluster.link so that nodes reach each other`,
        );
      }
      // Again, a little later each time: the other node may be restarting or unreachable here.
      out.state = 'connecting';
      const wait = Math.min(MAX_RETRY, 100 * 2 ** Math.min(out.attempt, 10));
      out.retry = setTimeout(() => {
        out.retry = null;
        if (this.#out.get(out.node) === out && !this.#stopped) this.#dial(out);
      }, wait);
      out.retry.unref?.();
    });
  }

  /** Gives up an open link at once: asks it carried fail now, not when the socket closes. */
  #fail(out: Outbound, reason: string): void {
    out.state = 'connecting';
    this.#host.lost(out.node, reason);
    out.socket?.destroy();
  }

  #close(out: Outbound, reason: string): void {
    if (out.retry) clearTimeout(out.retry);
    out.retry = null;
    const socket = out.socket;
    const wasOpen = out.state === 'open';
    out.state = 'closed';
    out.socket = null;
    socket?.destroy();
    if (wasOpen) this.#host.lost(out.node, reason);
  }

  // ---- links other nodes open -----------------------------------------------------------------

  #accept(socket: Socket): void {
    if (this.#stopped || !this.#host.accepting()) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const nonce = randomBytes(18).toString('base64url');
    const link: Inbound = {
      socket,
      node: null,
      id: null,
      held: [],
      heldBytes: 0,
      timer: null,
    };
    this.#in.add(link);
    link.timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT);
    link.timer.unref?.();
    socket.write(frame(JSON.stringify(['hi', nonce])));
    const reader = readFrames(socket, MAX_HELLO, (text) => {
      if (link.node === null) {
        if (link.timer) clearTimeout(link.timer);
        if (!this.#hello(link, text, nonce)) {
          this.#refusedHello();
          socket.destroy();
          return;
        }
        reader.max = MAX_FRAME;
        // The announcement may be lost (a broker message dropped): the link then goes, and the
        // other node, hearing of it, fails what it sent and connects again.
        link.timer = setTimeout(() => socket.destroy(), ANNOUNCE_TIMEOUT);
        link.timer.unref?.();
        socket.write(frame('["ok"]'));
        return;
      }
      if (text === PING) {
        socket.write(frame(PONG));
        return;
      }
      if (link.held === null) {
        this.#host.received(link.node, text);
        return;
      }
      link.held.push(text);
      link.heldBytes += text.length;
      if (link.heldBytes > MAX_BUFFERED) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (link.timer) clearTimeout(link.timer);
      this.#in.delete(link);
      if (link.node !== null && !this.#stopped) this.#host.lost(link.node, 'its link closed');
    });
  }

  /** Checks a hello: for this node, from a node that knows the token (or key), over this nonce. */
  #hello(link: Inbound, text: string, nonce: string): boolean {
    const hello = parse(text);
    if (!Array.isArray(hello) || hello.length !== 5 || hello[0] !== 'hello') return false;
    const [, from, to, id, proof] = hello as unknown[];
    if (typeof from !== 'string' || typeof id !== 'string' || typeof proof !== 'string') return false;
    if (to !== this.#host.node || from === this.#host.node || from.length > 128 || id.length > 160) {
      return false;
    }
    const expected = Buffer.from(this.#proof(from, this.#host.node, id, nonce, this.#token));
    const given = Buffer.from(proof);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    // A node has one link here: a new one replaces the old, whose loss is told now (what it
    // carried may be lost), not when its socket closes, after the new one is in use.
    for (const old of this.#in) {
      if (old === link || old.node !== from) continue;
      old.node = null;
      old.socket.destroy();
      this.#host.lost(from, 'it opened a new link');
    }
    link.node = from;
    link.id = id;
    return true;
  }

  #proof(from: string, to: string, id: string, nonce: string, token: string): string {
    return createHmac('sha256', this.#host.key ?? token)
      .update(`link.${from}.${to}.${id}.${nonce}.${token}`)
      .digest('base64url');
  }

  /** Counts a refused hello; logged at the first and every 1,000th. */
  #refusedHello(): void {
    this.#refusedHellos++;
    if (this.#refusedHellos === 1 || this.#refusedHellos % 1000 === 0) {
      this.#host.log('warn', `refused a cluster link: its hello was wrong (${this.#refusedHellos} so far)`);
    }
  }
}

/** A frame: the text's length in bytes, then the text. */
export function frame(text: string, length = Buffer.byteLength(text)): Buffer {
  const buffer = Buffer.allocUnsafe(4 + length);
  buffer.writeUInt32BE(length, 0);
  buffer.write(text, 4);
  return buffer;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Calls `each` with every frame arriving on `socket`; a frame longer than `max` (changeable on the
 * returned reader) destroys the socket.
 */
function readFrames(socket: Socket, max: number, each: (text: string) => void): { max: number } {
  const reader = { max };
  let chunks: Buffer[] = [];
  let have = 0;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    while (have >= 4 && !socket.destroyed) {
      let head = chunks[0] as Buffer;
      if (head.length < 4) {
        head = Buffer.concat(chunks);
        chunks = [head];
      }
      const length = head.readUInt32BE(0);
      if (length > reader.max) {
        socket.destroy();
        return;
      }
      if (have < 4 + length) return;
      if (head.length < 4 + length) {
        head = Buffer.concat(chunks);
        chunks = [head];
      }
      const text = head.toString('utf8', 4, 4 + length);
      have -= 4 + length;
      if (head.length === 4 + length) chunks.shift();
      else chunks[0] = head.subarray(4 + length);
      each(text);
    }
  });
  return reader;
}

function isAddress(address: unknown): address is LinkAddress {
  if (!Array.isArray(address) || address.length !== 3) return false;
  const [host, port, token] = address as unknown[];
  return (
    typeof host === 'string' &&
    host.length > 0 &&
    host.length <= 255 &&
    Number.isInteger(port) &&
    (port as number) > 0 &&
    (port as number) < 65536 &&
    typeof token === 'string' &&
    token.length > 0 &&
    token.length <= 64
  );
}

function sameAddress(a: LinkAddress, b: LinkAddress): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

/** Addresses that mean "every interface": a node cannot be reached at one. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '[::]']);

/** Checks `cluster.link`; returns the options, or null when links are off. */
export function linkOptions(option: unknown): ClusterLinkOptions | null {
  if (option === false) return null;
  if (option === undefined || option === true) return {};
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('createActorServer: cluster.link must be false or { host?, port?, advertise? }');
  }
  const { host, port, advertise } = option as ClusterLinkOptions;
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    throw new TypeError('createActorServer: cluster.link.host must be a host name or address');
  }
  if (
    advertise !== undefined &&
    (typeof advertise !== 'string' || advertise === '' || WILDCARDS.has(advertise))
  ) {
    throw new TypeError(
      'createActorServer: cluster.link.advertise must be a host name or address others reach',
    );
  }
  if (host !== undefined && WILDCARDS.has(host) && advertise === undefined) {
    throw new TypeError(
      `createActorServer: cluster.link.host ${host} listens everywhere; say where others reach it with cluster.link.advertise`,
    );
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
    throw new RangeError(`createActorServer: cluster.link.port must be a port number, got ${String(port)}`);
  }
  return {
    ...(host !== undefined && { host }),
    ...(port !== undefined && { port }),
    ...(advertise !== undefined && { advertise }),
  };
}
