// The direct links between nodes (src/links.ts) over real TCP sockets on 127.0.0.1: the hello
// and its proof, frames held until the link is announced, a listener that refuses while its
// broker is away, and a peer that stops reading.
import { createHmac } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { frame, type LinkAddress, type LinkHost, Links } from '../src/links.js';

/** Resolves once `done()` holds (checked every 10 ms); fails after 5 s naming `what`. */
async function until(done: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A node's side of the links, recording what it is told. */
function node(id: string, key: Buffer | null = null, ping = 60_000) {
  const seen = {
    received: [] as string[],
    opened: [] as string[],
    lost: [] as string[],
    accepting: true,
    /** What `opened` answers (false: the broker is away). */
    announce: true,
  };
  const host: LinkHost = {
    node: id,
    key,
    accepting: () => seen.accepting,
    received: (from, text) => seen.received.push(`${from}:${text}`),
    opened: (to, link) => {
      seen.opened.push(`${to}:${link}`);
      return seen.announce;
    },
    lost: (from) => seen.lost.push(from),
    log: () => {},
  };
  const links = new Links(host, { host: '127.0.0.1' }, ping);
  running.push(links);
  return { links, seen };
}

const running: Links[] = [];
const servers: Server[] = [];

/** A peer that says hi, takes any hello with ok, then answers nothing (and reads nothing more, when `deaf`). */
async function stuckPeer(deaf: boolean) {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.write(frame('["hi","n0"]'));
    socket.once('data', () => {
      socket.write(frame('["ok"]'));
      if (deaf) socket.pause();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    port,
    sockets,
    close: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((l) => l.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('cluster links', () => {
  it('opens with a proved hello, holds frames until the link is announced, then keeps their order', async () => {
    const key = Buffer.from('k'.repeat(40));
    const a = node('n-a', key);
    const b = node('n-b', key);
    await Promise.all([a.links.listen(), b.links.listen()]);
    a.links.connect('n-b', b.links.address);
    await until(() => a.links.usable('n-b'));
    const [announced] = a.seen.opened;
    expect(announced).toMatch(/^n-b:n-a\//);
    for (let i = 0; i < 100; i++) expect(a.links.send('n-b', `m${i}`)).toBe(true);
    // Nothing reaches B's handlers before the announcement (it comes through the broker).
    await new Promise((r) => setTimeout(r, 50));
    expect(b.seen.received).toEqual([]);
    b.links.announced('n-a', announced?.slice('n-b:'.length));
    expect(b.seen.received).toEqual(Array.from({ length: 100 }, (_, i) => `n-a:m${i}`));
    a.links.send('n-b', 'after');
    await until(() => b.seen.received.length === 101);
    expect(b.seen.received.at(-1)).toBe('n-a:after');
    expect(a.links.open).toBe(1);
  });

  it('is refused by a node whose token or key it does not have', async () => {
    const a = node('n-a', Buffer.from('a'.repeat(40)));
    const b = node('n-b', Buffer.from('b'.repeat(40)));
    await b.links.listen();
    a.links.connect('n-b', b.links.address);
    // A wrong token, without keys.
    const c = node('n-c');
    const d = node('n-d');
    await d.links.listen();
    const [host, port] = d.links.address as LinkAddress;
    c.links.connect('n-d', [host, port, 'not-the-token']);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.links.usable('n-b')).toBe(false);
    expect(c.links.usable('n-d')).toBe(false);
    expect(a.seen.opened).toEqual([]);
    expect(c.seen.opened).toEqual([]);
  });

  it('refuses links while its broker is away, and is reached once it is back', async () => {
    const a = node('n-a');
    const b = node('n-b');
    await b.links.listen();
    b.seen.accepting = false;
    a.links.connect('n-b', b.links.address);
    await new Promise((r) => setTimeout(r, 250));
    expect(a.links.usable('n-b')).toBe(false);
    b.seen.accepting = true;
    await until(() => a.links.usable('n-b'), 'the link after a retry');
    // A link that cannot be announced (this side's broker is away) is not used.
    const c = node('n-c');
    c.seen.announce = false;
    c.links.connect('n-b', b.links.address);
    await until(() => c.seen.opened.length > 0);
    expect(c.links.usable('n-b')).toBe(false);
  });

  it('takes a hello only over its own nonce: one seen on the network cannot be replayed', async () => {
    const b = node('n-b');
    await b.links.listen();
    const [host, port, token] = b.links.address as LinkAddress;
    /** Connects as n-x, proving the token over `nonceFor(nonce)`; resolves what B answered. */
    const hello = (nonceFor: (nonce: string) => string) =>
      new Promise<string[]>((resolve) => {
        const texts: string[] = [];
        const socket = connect(port, host);
        let buffered = Buffer.alloc(0);
        socket.on('data', (d: Buffer) => {
          buffered = Buffer.concat([buffered, d]);
          while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
            const text = buffered.toString('utf8', 4, 4 + buffered.readUInt32BE(0));
            buffered = buffered.subarray(4 + buffered.readUInt32BE(0));
            texts.push(text);
            const [kind, nonce] = JSON.parse(text) as [string, string];
            if (kind !== 'hi') continue;
            const used = nonceFor(nonce);
            const proof = createHmac('sha256', token)
              .update(`link.n-x.n-b.n-x/1.${used}.${token}`)
              .digest('base64url');
            socket.write(frame(JSON.stringify(['hello', 'n-x', 'n-b', 'n-x/1', proof])));
          }
          if (texts.includes('["ok"]')) socket.destroy();
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(texts));
      });
    expect((await hello((nonce) => nonce)).at(-1)).toBe('["ok"]');
    const replayed = await hello(() => 'a-nonce-of-another-connection');
    expect(replayed).toHaveLength(1);
    expect(replayed[0]).toMatch(/^\["hi",/);
  });

  it('gives up a link whose peer stops answering its pings, with what it carried', async () => {
    const peer = await stuckPeer(false);
    const a = node('n-a', null, 50);
    // The pinger runs once this node listens.
    await a.links.listen();
    a.links.connect('n-silent', ['127.0.0.1', peer.port, 'token']);
    await until(() => a.links.usable('n-silent'));
    await until(() => a.seen.lost.length > 0, 'the link to be given up');
    expect(a.seen.lost).toEqual(['n-silent']);
    peer.close();
  });

  it('gives up a link whose peer stops reading, with what it carried, instead of buffering without end', async () => {
    const peer = await stuckPeer(true);
    const port = peer.port;
    const sockets = peer.sockets;
    const a = node('n-a');
    a.links.connect('n-stuck', ['127.0.0.1', port, 'token']);
    await until(() => a.links.usable('n-stuck'));
    const chunk = 'x'.repeat(1024 * 1024);
    let sent = 0;
    while (a.links.send('n-stuck', chunk)) {
      sent++;
      if (sent > 1000) break;
    }
    // Refused after some 64 MiB waited (kernel buffers take a little more first), and lost.
    expect(sent).toBeGreaterThan(60);
    expect(sent).toBeLessThan(200);
    expect(a.seen.lost).toEqual(['n-stuck']);
    expect(a.links.usable('n-stuck')).toBe(false);
    for (const socket of sockets) socket.destroy();
  });
});
