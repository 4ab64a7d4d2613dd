#!/usr/bin/env node
/**
 * bench/flow.mjs: how ActorSpace behaves under load and abuse, over real WebSockets on
 * 127.0.0.1. Written to take "before" figures ahead of the flow-control rebuild of the core;
 * re-run it unchanged after the rebuild to compare.
 *
 *   cd bench && node flow.mjs [--label after] [--out file.json ...] [--only A,B,C,D,E] [--quick]
 *
 * Every scenario gets its own server, in a child process of its own (this file, run with
 * `--server`), so the RSS figures are the server's alone. The clients run in this process.
 * Every scenario has a hard time cap; the whole run has one too (HARD_CAP_MS). Every child
 * is killed (SIGKILL) when its scenario ends, on any exit of this process, and exits by itself
 * when its IPC channel to this process goes away. Ports are chosen by the OS (port 0).
 *
 * Scenarios:
 *  A  client -> server tells, 200,000 (and 20,000) in bursts of 1,000 per event-loop turn, to
 *     an async server handler; default Node client (reconnect on) and reconnect: false.
 *  B  server -> client tells via remote.tell, 200,000 in bursts of 1,000 per turn, async client
 *     handler (reconnect on, and reconnect: false); and 1,000 pushes to a ~10 ms handler.
 *  C  raw ws client pairs, then stops reading (socket paused) for 20 s while the server pushes
 *     1,000 tells per turn. Non-resumable hello, then a resumable one.
 *  D  raw ws client with resumable: true that never ACKs, flooding asks (1 KB answers) and
 *     tells to a missing actor for 12 s, reading everything.
 *  E  a HELLO whose actor guid is 300 characters long.
 *
 * Imports only public package names (@actorspace/*), ws and node:*.
 */
import { execSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const HERE = dirname(SELF);
const argv = process.argv.slice(2);

// (the entry point is at the end of the file, after every declaration)

// =====================================================================================
// Server child process
// =====================================================================================

async function runServer() {
  const { createActorServer } = await import('@actorspace/server');
  const { attach } = await import('@actorspace/server/node');
  const { defineActor } = await import('@actorspace/core');

  // Never outlive the parent.
  process.on('disconnect', () => process.exit(0));

  const t0 = Date.now();
  const KB = 'x'.repeat(1024);
  const sockets = new Set();
  const s = {
    // incoming tells (scenario A)
    recv: 0,
    last: -1,
    gaps: 0,
    skipped: 0,
    backwards: 0,
    firstRecvAt: null,
    lastRecvAt: null,
    // outgoing pushes (B, C)
    pushing: false,
    pushed: 0,
    pushThrows: {},
    pushFirstThrow: null,
    pushStartAt: null,
    pushEndAt: null,
    rssCapHitAtMs: null,
    // D
    asksHandled: 0,
    // everything
    serverErrors: {},
    serverErrorSample: [],
    disconnects: [],
    socketCloses: [],
    connections: 0,
  };
  const mem = {
    baseline: process.memoryUsage(),
    peakRss: 0,
    peakHeapUsed: 0,
    peakExternal: 0,
    peakArrayBuffers: 0,
    maxTimerGapMs: 0,
    samples: [],
  };
  let remote = null;

  const record = (n) => {
    s.recv++;
    const now = Date.now();
    s.firstRecvAt ??= now;
    s.lastRecvAt = now;
    if (n !== s.last + 1) {
      if (n > s.last) {
        s.gaps++;
        s.skipped += n - s.last - 1;
      } else s.backwards++;
    }
    s.last = n;
  };

  const countThrow = (error) => {
    const code = error?.code ?? `non-ActorSpaceError ${error?.name}`;
    s.pushThrows[code] = (s.pushThrows[code] ?? 0) + 1;
    if (!s.pushFirstThrow) s.pushFirstThrow = { atMs: Date.now() - (s.pushStartAt ?? t0), pushedBefore: s.pushed, code, message: String(error?.message).slice(0, 200) };
  };

  /** Pushes `total` tells (-1: until stopped) to the client root, `burst` per setImmediate turn. */
  const push = (target, total, burst, rssCap) => {
    if (!target || s.pushing) return false;
    s.pushing = true;
    s.pushStartAt = Date.now();
    let i = 0;
    const step = () => {
      if (!s.pushing) return finish();
      const end = total < 0 ? i + burst : Math.min(total, i + burst);
      for (; i < end; i++) {
        try {
          target.tell('p', i);
          s.pushed++;
        } catch (error) {
          countThrow(error);
        }
      }
      if (rssCap && process.memoryUsage.rss() > rssCap) {
        s.rssCapHitAtMs = Date.now() - s.pushStartAt;
        return finish();
      }
      if (total < 0 || i < total) setImmediate(step);
      else finish();
    };
    const finish = () => {
      s.pushing = false;
      s.pushEndAt = Date.now();
    };
    setImmediate(step);
    return true;
  };

  const actors = createActorServer({
    routes: {
      // A: client -> server tells to an async handler
      '/a': () => defineActor({ t: async (n) => { await null; record(n); } }),
      // B: the client asks for pushes; C: the parent starts them over IPC
      '/b': () => {
        let mine = null;
        return defineActor(
          { start: ({ n, burst }) => push(mine, n, burst, 0) },
          { setRemoteActor(r) { mine = r; remote = r; } },
        );
      },
      '/c': () => defineActor({ noop: () => null }, { setRemoteActor(r) { remote = r; } }),
      // D: asks answered with ~1 KB
      '/d': () => defineActor({ big: () => { s.asksHandled++; return KB; } }),
      // E: anything
      '/e': () => defineActor({ ping: () => 'pong' }),
    },
  });
  actors.on('error', (error) => {
    const code = error?.code ?? 'unknown';
    s.serverErrors[code] = (s.serverErrors[code] ?? 0) + 1;
    if (s.serverErrorSample.length < 3) s.serverErrorSample.push(`${code}: ${String(error?.message).slice(0, 160)}`);
  });
  actors.on('connection', () => s.connections++);
  actors.on('disconnect', (_conn, code, reason) =>
    s.disconnects.push({ atMs: Date.now() - t0, at: Date.now(), code, reason: String(reason).slice(0, 120) }),
  );

  const http = createServer((_req, res) => res.end('bench'));
  // Sees the raw TCP socket of every upgrade (attach's own listener does the upgrade), so
  // its user-space write queue (writableLength) and its close can be reported.
  http.on('upgrade', (_req, socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      s.socketCloses.push({ atMs: Date.now() - t0, at: Date.now() });
    });
  });
  attach(http, actors, { path: '/actorspace' });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));

  const queued = () => {
    let n = 0;
    for (const sock of sockets) n += sock.writableLength ?? 0;
    return n;
  };
  let lastTick = Date.now();
  let lastSampleAt = Date.now();
  const sampler = setInterval(() => {
    const now = Date.now();
    // the longest the event loop kept this 50 ms timer waiting: how long the server was stuck
    if (mem.sampling && now - lastTick > mem.maxTimerGapMs) mem.maxTimerGapMs = now - lastTick;
    lastTick = now;
    const m = process.memoryUsage();
    if (m.rss > mem.peakRss) mem.peakRss = m.rss;
    if (m.heapUsed > mem.peakHeapUsed) mem.peakHeapUsed = m.heapUsed;
    if (m.external > mem.peakExternal) mem.peakExternal = m.external;
    if (m.arrayBuffers > mem.peakArrayBuffers) mem.peakArrayBuffers = m.arrayBuffers;
    if (mem.sampling && now - lastSampleAt >= 1000) {
      lastSampleAt = now;
      mem.samples.push({
        t: Math.round((Date.now() - mem.sampling) / 100) / 10,
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        socketQueued: queued(),
        pushed: s.pushed,
        pushThrows: Object.values(s.pushThrows).reduce((a, b) => a + b, 0),
        asksHandled: s.asksHandled,
      });
    }
  }, 50);

  const reply = (id, body) => process.send?.({ re: id, body });
  process.on('message', async (msg) => {
    switch (msg.cmd) {
      case 'stats':
        reply(msg.id, { ...s, mem: { ...mem, now: process.memoryUsage() }, socketQueued: queued(), openSockets: sockets.size, health: actors.health() });
        return;
      case 'sample':
        // restart per-second sampling from now
        mem.samples = [];
        mem.sampling = lastSampleAt = lastTick = Date.now();
        mem.maxTimerGapMs = 0;
        mem.peakRss = mem.peakHeapUsed = mem.peakExternal = mem.peakArrayBuffers = 0;
        reply(msg.id, true);
        return;
      case 'push':
        reply(msg.id, push(remote, msg.total, msg.burst, msg.rssCap ?? 0));
        return;
      case 'stop':
        s.pushing = false;
        reply(msg.id, true);
        return;
      case 'exit':
        clearInterval(sampler);
        s.pushing = false;
        await Promise.race([actors.close(), sleep(1500)]);
        reply(msg.id, true);
        setImmediate(() => process.exit(0));
        return;
    }
  });
  mem.sampling = Date.now();
  process.send({ type: 'ready', port: http.address().port, pid: process.pid });
}

// =====================================================================================
// Parent: orchestration and clients
// =====================================================================================

const children = new Set();
const openSockets = new Set();

function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
  for (const ws of openSockets) {
    try {
      ws.terminate();
    } catch {}
  }
}

/** Starts a server child; resolves its port. */
function spawnServer(name) {
  const child = fork(SELF, ['--server', name], {
    cwd: HERE,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-6000);
  });
  child.stdout.on('data', () => {});
  child.on('error', () => {});
  const exited = new Promise((res) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      for (const [, w] of waiting) w.reject(new Error(`server exited (code ${code}, signal ${signal})`));
      waiting.clear();
      res({ code, signal, at: Date.now() });
    }),
  );
  let seq = 0;
  const waiting = new Map();
  let onReady;
  const ready = new Promise((res, rej) => {
    onReady = res;
    exited.then((e) => rej(new Error(`server exited before ready: ${JSON.stringify(e)} ${stderr}`)));
  });
  child.on('message', (m) => {
    if (m?.type === 'ready') onReady(m);
    else if (m?.re && waiting.has(m.re)) {
      waiting.get(m.re).resolve(m.body);
      waiting.delete(m.re);
    }
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const call = (cmd, extra = {}, ms = 8000) =>
    new Promise((resolve, reject) => {
      if (!alive()) return reject(new Error('server exited'));
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      child.send({ id, cmd, ...extra }, (err) => {
        if (err && waiting.delete(id)) reject(err);
      });
      setTimeout(() => {
        if (waiting.delete(id)) reject(new Error(`server did not answer "${cmd}" within ${ms} ms`));
      }, ms).unref();
    });
  const stop = async () => {
    if (alive()) lastProc = procMem(child.pid);
    if (alive()) {
      try {
        await call('exit', {}, 2500);
      } catch {}
      await Promise.race([exited, sleep(1000)]);
    }
    if (alive()) child.kill('SIGKILL');
    return exited;
  };
  let lastProc = { rss: null, hwm: null };
  return { name, child, ready, call, exited, alive, stop, stderr: () => stderr, vmHwmMB: () => MB(lastProc.hwm) };
}

/** VmRSS / VmHWM (peak RSS over the process's life) of a pid, read from outside (Linux). */
function procMem(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]) * 1024 || null;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: null, hwm: null };
  }
}

/** Samples a child's RSS from this process every second (independent of the child's event loop). */
function outsideSampler(pid) {
  const t0 = Date.now();
  const samples = [];
  const take = () => {
    const m = procMem(pid);
    if (m.rss) samples.push({ t: Math.round((Date.now() - t0) / 100) / 10, rssMB: MB(m.rss) });
  };
  const timer = setInterval(take, 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

const url = (port) => `ws://127.0.0.1:${port}/actorspace`;
const MB = (b) => (typeof b === 'number' ? Math.round((b / 1048576) * 10) / 10 : null);
const inc = (obj, key) => {
  obj[key] = (obj[key] ?? 0) + 1;
};

function withCap(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what}: hard cap of ${ms} ms reached`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Waits until `read()` stops changing for `quietMs` (or `done()`), polling every 200 ms, up to `capMs`. */
async function settle(read, { quietMs = 1000, capMs = 20000, done = () => false } = {}) {
  const start = Date.now();
  let last = await read();
  let lastChange = Date.now();
  while (Date.now() - start < capMs) {
    if (done(last)) return { value: last, settled: true };
    await sleep(200);
    const v = await read();
    if (JSON.stringify(v) !== JSON.stringify(last)) {
      last = v;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) return { value: last, settled: true };
  }
  return { value: last, settled: false };
}

function errorCounter() {
  const c = { count: 0, byCode: {}, sample: [] };
  c.on = (e) => {
    c.count++;
    inc(c.byCode, e?.code ?? 'unknown');
    if (c.sample.length < 3) c.sample.push(`${e?.code}: ${String(e?.message).slice(0, 160)}`);
  };
  return c;
}
const plain = (c) => ({ count: c.count, byCode: c.byCode, sample: c.sample });

function memSummary(st) {
  return {
    baselineRssMB: MB(st.mem.baseline.rss),
    peakRssMB: MB(st.mem.peakRss),
    peakHeapUsedMB: MB(st.mem.peakHeapUsed),
    peakExternalMB: MB(st.mem.peakExternal),
    maxEventLoopStallMs: st.mem.maxTimerGapMs,
  };
}

// ---- A -------------------------------------------------------------------------------

async function scenarioA(total, reconnect) {
  const { connect, defineActor } = await import('@actorspace/node');
  const srv = spawnServer('A');
  const out = { total, burst: 1000, reconnect: reconnect ? 'default (on)' : false };
  try {
    const { port } = await srv.ready;
    const sessionErrors = errorCounter();
    const spaceErrors = errorCounter();
    const statuses = [];
    let t0 = Date.now();
    const session = await connect(url(port), {
      route: '/a',
      actor: defineActor({ noop: () => null }),
      ...(reconnect ? {} : { reconnect: false }),
    });
    session.on('error', sessionErrors.on);
    session.space.on('error', spaceErrors.on);
    session.on('status', (st) => statuses.push({ st, atMs: Date.now() - t0 }));
    await srv.call('sample');
    const throws = {};
    let firstThrow = null;
    let n = 0;
    t0 = Date.now();
    await withCap(
      new Promise((done) => {
        const step = () => {
          const end = Math.min(total, n + 1000);
          for (; n < end; n++) {
            try {
              session.server.tell('t', n);
            } catch (e) {
              inc(throws, e?.code ?? 'unknown');
              firstThrow ??= { at: n, code: e?.code, message: String(e?.message).slice(0, 200) };
            }
          }
          if (n < total) setImmediate(step);
          else done();
        };
        setImmediate(step);
      }),
      30000,
      'A send loop',
    );
    const sendMs = Date.now() - t0;
    const thrown = Object.values(throws).reduce((a, b) => a + b, 0);
    const { settled } = await settle(async () => ({ recv: (await srv.call('stats')).recv }), {
      capMs: 25000,
      done: (v) => v.recv >= total - thrown,
    });
    // let the last ERROR frames reach the client
    await sleep(300);
    const st = await srv.call('stats');
    Object.assign(out, {
      tellCalls: total,
      tellThrew: thrown,
      tellThrewByCode: throws,
      firstThrow,
      serverReceived: st.recv,
      lost: total - st.recv,
      lostAfterSend: total - thrown - st.recv,
      inOrder: st.backwards === 0,
      gaps: st.gaps,
      skipped: st.skipped,
      backwards: st.backwards,
      sessionErrorEvents: plain(sessionErrors),
      spaceErrorEvents: plain(spaceErrors),
      statusChanges: [...statuses],
      sendLoopMs: sendMs,
      wallMs: st.lastRecvAt ? st.lastRecvAt - t0 : null,
      settled,
      serverErrorEvents: st.serverErrors,
      serverDisconnects: st.disconnects.length,
      ...memSummary(st),
    });
    await withCap(session.close(), 3000, 'session.close').catch(() => {});
  } catch (e) {
    out.failure = String(e?.message ?? e);
  } finally {
    const ex = await srv.stop();
    out.serverExit = ex;
    out.serverVmHWM_MB = srv.vmHwmMB();
  }
  return out;
}

// ---- B -------------------------------------------------------------------------------

async function scenarioB(total, reconnect, slowMs) {
  const { connect, defineActor } = await import('@actorspace/node');
  const srv = spawnServer('B');
  const out = { total, burst: 1000, reconnect: reconnect ? 'default (on)' : false, clientHandler: slowMs ? `async, ~${slowMs} ms each` : 'async (await null)' };
  try {
    const { port } = await srv.ready;
    const sessionErrors = errorCounter();
    const spaceErrors = errorCounter();
    const got = { n: 0, last: -1, gaps: 0, skipped: 0, backwards: 0, lastAt: null };
    const rec = (n) => {
      got.n++;
      got.lastAt = Date.now();
      if (n !== got.last + 1) {
        if (n > got.last) {
          got.gaps++;
          got.skipped += n - got.last - 1;
        } else got.backwards++;
      }
      got.last = n;
    };
    const handler = slowMs
      ? async (n) => {
          await sleep(slowMs);
          rec(n);
        }
      : async (n) => {
          await null;
          rec(n);
        };
    const session = await connect(url(port), {
      route: '/b',
      actor: defineActor({ p: handler }),
      ...(reconnect ? {} : { reconnect: false }),
    });
    session.on('error', sessionErrors.on);
    session.space.on('error', spaceErrors.on);
    await srv.call('sample');
    const t0 = Date.now();
    const started = await session.server.ask('start', { n: total, burst: 1000 });
    const capMs = slowMs ? total * slowMs * 2 + 5000 : 25000;
    const { value, settled } = await settle(
      async () => {
        const st = await srv.call('stats');
        return { delivered: got.n, pushing: st.pushing, pushed: st.pushed };
      },
      { capMs, quietMs: 1200, done: (v) => !v.pushing && v.delivered >= v.pushed },
    );
    await sleep(300);
    const st = await srv.call('stats');
    const thrown = Object.values(st.pushThrows).reduce((a, b) => a + b, 0);
    Object.assign(out, {
      started,
      remoteTellCalls: st.pushed + thrown,
      remoteTellThrew: thrown,
      remoteTellThrewByCode: st.pushThrows,
      firstThrow: st.pushFirstThrow,
      clientDelivered: got.n,
      lost: total - got.n,
      inOrder: got.backwards === 0,
      gaps: got.gaps,
      skipped: got.skipped,
      backwards: got.backwards,
      serverErrorEvents: st.serverErrors,
      serverErrorSample: st.serverErrorSample,
      clientSessionErrorEvents: plain(sessionErrors),
      clientSpaceErrorEvents: plain(spaceErrors),
      pushLoopMs: st.pushEndAt && st.pushStartAt ? st.pushEndAt - st.pushStartAt : null,
      wallMs: got.lastAt ? got.lastAt - t0 : null,
      settled: settled && value.delivered >= 0,
      serverDisconnects: st.disconnects.length,
      ...memSummary(st),
    });
    await withCap(session.close(), 3000, 'session.close').catch(() => {});
  } catch (e) {
    out.failure = String(e?.message ?? e);
  } finally {
    out.serverExit = await srv.stop();
    out.serverVmHWM_MB = srv.vmHwmMB();
  }
  return out;
}

// ---- raw ws helpers -------------------------------------------------------------------

async function rawPair(port, hello) {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url(port), { perMessageDeflate: false });
  openSockets.add(ws);
  ws.on('error', () => {});
  ws.on('close', () => openSockets.delete(ws));
  await withCap(
    new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('close', (c) => rej(new Error(`closed before open (${c})`)));
    }),
    5000,
    'ws open',
  );
  const welcome = withCap(
    new Promise((res, rej) => {
      ws.once('message', (d) => res(JSON.parse(String(d))));
      ws.once('close', (c, r) => rej(new Error(`closed before welcome (${c} ${r})`)));
    }),
    5000,
    'welcome',
  );
  ws.send(JSON.stringify([16, hello]));
  const w = await welcome;
  if (!Array.isArray(w) || w[0] !== 17) throw new Error(`expected WELCOME, got ${JSON.stringify(w).slice(0, 200)}`);
  return { ws, welcome: w[1] };
}

// ---- C -------------------------------------------------------------------------------

async function scenarioC(resumable, seconds, rssCap) {
  const srv = spawnServer('C');
  const out = { clientHello: { resumable }, pausedSeconds: seconds, pushBurst: 1000, serverRssSafetyCapMB: MB(rssCap) };
  let ws;
  try {
    const { port } = await srv.ready;
    const pair = await rawPair(port, { v: 1, route: '/c', actor: 'c1', resumable });
    ws = pair.ws;
    const clientClose = { closed: false };
    let t0 = Date.now();
    ws.on('close', (code, reason) => Object.assign(clientClose, { closed: true, code, reason: String(reason), atMs: Date.now() - t0 }));
    ws._socket.pause(); // stop reading: the kernel buffers fill, then the server's queue grows
    await srv.call('sample');
    t0 = Date.now();
    const outside = outsideSampler(srv.child.pid);
    const ok = await srv.call('push', { total: -1, burst: 1000, rssCap });
    await sleep(seconds * 1000);
    const perSecondOutside = outside.stop();
    await srv.call('stop').catch(() => {});
    const st = await srv.call('stats', {}, 10000);
    out.perSecondRssFromProc = perSecondOutside;
    const thrown = Object.values(st.pushThrows).reduce((a, b) => a + b, 0);
    const closedByServer = st.disconnects.length > 0 || st.socketCloses.length > 0;
    Object.assign(out, {
      pushStarted: ok,
      remoteTellCalls: st.pushed + thrown,
      remoteTellOk: st.pushed,
      remoteTellThrew: thrown,
      remoteTellThrewByCode: st.pushThrows,
      firstThrow: st.pushFirstThrow,
      rssCapHitAtMs: st.rssCapHitAtMs,
      note: `server heartbeat defaults to { interval: 25000, timeout: 30000 }: no heartbeat close is possible within ${seconds} s`,
      serverClosedConnection: closedByServer,
      serverDisconnectEvents: st.disconnects.map((d) => ({ ...d, atMs: d.at - t0 })),
      serverTcpSocketCloses: st.socketCloses.map((d) => ({ atMs: d.at - t0 })),
      clientSawCloseWhilePaused: { ...clientClose },
      socketQueuedAtEndMB: MB(st.socketQueued),
      serverErrorEvents: st.serverErrors,
      ...memSummary(st),
      perSecond: st.mem.samples.map((x) => ({
        t: x.t,
        rssMB: MB(x.rss),
        heapMB: MB(x.heapUsed),
        extMB: MB(x.external),
        socketQueuedMB: MB(x.socketQueued),
        pushedOk: x.pushed,
        threw: x.pushThrows,
      })),
    });
  } catch (e) {
    out.failure = String(e?.message ?? e);
  } finally {
    try {
      ws?.terminate();
    } catch {}
    out.serverExit = await srv.stop();
    out.serverVmHWM_MB = srv.vmHwmMB();
    if (out.serverExit.code !== 0 && out.serverExit.code !== null) out.serverStderr = srv.stderr().slice(-1500);
  }
  return out;
}

// ---- D -------------------------------------------------------------------------------

async function scenarioD(seconds) {
  const srv = spawnServer('D');
  const out = { clientHello: { resumable: true }, seconds, asksPerTurn: 2000, badTellsPerTurn: 500, answerBytes: 1024, clientSendsAck: false };
  let ws;
  try {
    const { port } = await srv.ready;
    const pair = await rawPair(port, { v: 1, route: '/d', actor: 'c1', resumable: true });
    ws = pair.ws;
    const target = pair.welcome.actor;
    const c = { resolve: 0, reject: {}, error: {}, ping: 0, ack: 0, lastAck: 0, other: 0, messages: 0, bytes: 0 };
    const clientClose = { closed: false };
    let t0 = Date.now();
    const count = (f) => {
      switch (f[0]) {
        case 3:
          c.resolve++;
          break;
        case 4:
          inc(c.reject, f[2]?.code ?? '?');
          break;
        case 6:
          inc(c.error, f[1]?.code ?? '?');
          break;
        case 8:
          c.ping++;
          ws.send('[9]');
          break;
        case 10:
          c.ack++;
          c.lastAck = f[1];
          break;
        default:
          c.other++;
      }
    };
    ws.on('message', (d) => {
      c.messages++;
      c.bytes += d.length;
      const m = JSON.parse(String(d));
      if (Array.isArray(m[0])) for (const f of m) count(f);
      else count(m);
    });
    ws.on('close', (code, reason) => Object.assign(clientClose, { closed: true, code, reason: String(reason), atMs: Date.now() - t0 }));
    await srv.call('sample');
    t0 = Date.now();
    const outside = outsideSampler(srv.child.pid);
    let id = 0;
    let asks = 0;
    let badTells = 0;
    let skippedTurns = 0;
    let running = true;
    const step = () => {
      if (!running || ws.readyState !== 1) return;
      // Keep the client's own send queue bounded (this process is not the one measured).
      if (ws.bufferedAmount > 8 * 1048576) {
        skippedTurns++;
        setImmediate(step);
        return;
      }
      for (let b = 0; b < 4; b++) {
        const batch = [];
        for (let k = 0; k < 500; k++) batch.push([2, ++id, target, 'big', null]);
        ws.send(JSON.stringify(batch));
        asks += 500;
      }
      const bad = [];
      for (let k = 0; k < 500; k++) bad.push([1, 'no-such-actor', 'x', k]);
      ws.send(JSON.stringify(bad));
      badTells += 500;
      setImmediate(step);
    };
    setImmediate(step);
    await sleep(seconds * 1000);
    running = false;
    out.perSecondRssFromProc = outside.stop();
    const st = await srv.call('stats', {}, 15000).catch((e) => ({ failed: String(e.message) }));
    Object.assign(out, {
      clientSent: { asks, badTells, turnsSkippedForBackpressure: skippedTurns },
      clientReceived: { resolves: c.resolve, rejects: c.reject, errors: c.error, pings: c.ping, acksFromServer: c.ack, lastAckValue: c.lastAck, messages: c.messages, MB: MB(c.bytes) },
      clientSawClose: { ...clientClose },
    });
    if (st.failed) out.statsFailure = st.failed;
    else {
      Object.assign(out, {
        serverAsksHandled: st.asksHandled,
        serverClosedConnection: st.disconnects.length > 0 || st.socketCloses.length > 0,
        serverDisconnectEvents: st.disconnects.map((d) => ({ ...d, atMs: d.at - t0 })),
        serverErrorEvents: st.serverErrors,
        ...memSummary(st),
        heapUsedAtEndMB: MB(st.mem.now.heapUsed),
        perSecond: st.mem.samples.map((x) => ({ t: x.t, rssMB: MB(x.rss), heapMB: MB(x.heapUsed), extMB: MB(x.external), asksHandled: x.asksHandled })),
        note: 'ANSWERS (RESOLVE) and ERROR frames are kept in the server replay buffer until ACKed; the bufferLimit check applies only to outgoing tells/asks',
      });
    }
  } catch (e) {
    out.failure = String(e?.message ?? e);
  } finally {
    try {
      ws?.terminate();
    } catch {}
    const alive = srv.alive();
    out.serverAliveAtEnd = alive;
    out.serverExit = await srv.stop();
    out.serverVmHWM_MB = srv.vmHwmMB();
    if (!alive) out.serverStderr = srv.stderr().slice(-1500);
  }
  return out;
}

// ---- E -------------------------------------------------------------------------------

async function scenarioE() {
  const { WebSocket } = await import('ws');
  const srv = spawnServer('E');
  const out = { helloActorLength: 300 };
  try {
    const { port } = await srv.ready;
    const ws = new WebSocket(url(port), { perMessageDeflate: false });
    openSockets.add(ws);
    ws.on('error', () => {});
    const frames = [];
    const clientClose = { closed: false };
    ws.on('message', (d) => frames.push(String(d).slice(0, 200)));
    ws.on('close', (code, reason) => Object.assign(clientClose, { closed: true, code, reason: String(reason) }));
    await withCap(new Promise((r) => ws.once('open', r)), 5000, 'ws open');
    ws.send(JSON.stringify([16, { v: 1, route: '/e', actor: 'a'.repeat(300) }]));
    const exit = await Promise.race([srv.exited, sleep(2000).then(() => null)]);
    out.serverSurvived = exit === null && srv.alive();
    out.framesClientGot = frames;
    out.clientClose = clientClose;
    if (exit) {
      out.serverExitCode = exit.code;
      out.serverExitSignal = exit.signal;
      const lines = srv.stderr().split('\n').filter(Boolean);
      out.serverStderrHead = lines.slice(0, 12).join('\n').slice(0, 1500);
    } else {
      // still up: does it still serve a normal client?
      const { connect, defineActor } = await import('@actorspace/node');
      const session = await withCap(connect(url(port), { route: '/e', actor: defineActor({}), reconnect: false }), 5000, 'connect');
      out.normalClientAfterwards = await session.server.ask('ping', null, { timeout: 3000 });
      await session.close();
      const st = await srv.call('stats');
      out.serverErrorEvents = st.serverErrors;
      out.serverErrorSample = st.serverErrorSample;
    }
    ws.terminate();
  } catch (e) {
    out.failure = String(e?.message ?? e);
  } finally {
    const alive = srv.alive();
    const ex = await srv.stop();
    if (!out.serverExitCode && !alive) out.serverExit = ex;
  }
  return out;
}

// ---- main ----------------------------------------------------------------------------

function parseArgs() {
  const o = { label: 'latest', outs: [], only: null, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--label') o.label = argv[++i];
    else if (a === '--out') o.outs.push(resolve(argv[++i]));
    else if (a === '--only') o.only = new Set(argv[++i].split(',').map((x) => x.trim().toUpperCase()));
    else if (a === '--quick') o.quick = true;
    else if (a === '--help' || a === '-h') {
      console.log('node flow.mjs [--label NAME] [--out FILE ...] [--only A,B,C,D,E] [--quick]');
      process.exit(0);
    }
  }
  if (o.outs.length === 0) o.outs.push(resolve(HERE, 'results', `flow-${o.label}.json`));
  return o;
}

function gitInfo() {
  try {
    const commit = execSync('git rev-parse HEAD', { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain', { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const files = dirty ? dirty.split('\n').map((l) => l.slice(3)) : [];
    return { commit, uncommitted: files.slice(0, 10), dirtyFiles: files.length };
  } catch {
    return { commit: null };
  }
}

const HARD_CAP_MS = 190_000;

async function main() {
  const opts = parseArgs();
  const started = Date.now();
  const results = {
    label: opts.label,
    date: new Date().toISOString(),
    ...gitInfo(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    totalMemMB: MB(os.totalmem()),
    scenarios: {},
  };
  const save = () => {
    results.totalMs = Date.now() - started;
    const text = `${JSON.stringify(results, null, 2)}\n`;
    for (const file of opts.outs) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  };
  const bail = (why) => {
    results.aborted = why;
    try {
      save();
    } catch {}
    killAll();
    console.error(`flow.mjs: ${why}`);
    process.exit(2);
  };
  process.on('exit', killAll);
  process.on('SIGINT', () => bail('interrupted'));
  process.on('SIGTERM', () => bail('terminated'));
  const cap = setTimeout(() => bail(`whole-run hard cap of ${HARD_CAP_MS} ms reached; partial results saved`), HARD_CAP_MS);

  const want = (k) => !opts.only || opts.only.has(k);
  const run = async (key, what, fn, capMs) => {
    const t = Date.now();
    process.stderr.write(`[flow] ${key}: ${what} ... `);
    let r;
    try {
      r = await withCap(fn(), capMs, key);
    } catch (e) {
      r = { failure: String(e?.message ?? e) };
      killAll();
    }
    r.scenarioMs = Date.now() - t;
    results.scenarios[key] = r;
    process.stderr.write(`${r.failure ? `FAILED: ${r.failure}` : 'ok'} (${r.scenarioMs} ms)\n`);
  };

  const big = opts.quick ? 20000 : 200000;
  const rssCap = Math.min(3 * 1024 ** 3, Math.floor(os.totalmem() * 0.3));
  const cSeconds = opts.quick ? 5 : 20;
  const dSeconds = opts.quick ? 4 : 12;

  if (want('E')) await run('E', 'HELLO with a 300-character actor guid', () => scenarioE(), 20000);
  if (want('A')) {
    const K = `${big / 1000}k`;
    await run(`A_${K}_reconnectOn`, `${big} tells client->server, reconnect on`, () => scenarioA(big, true), 60000);
    await run(`A_${K}_reconnectOff`, `${big} tells client->server, reconnect: false`, () => scenarioA(big, false), 60000);
    if (big !== 20000) {
      await run('A_20k_reconnectOn', '20000 tells client->server, reconnect on', () => scenarioA(20000, true), 40000);
      await run('A_20k_reconnectOff', '20000 tells client->server, reconnect: false', () => scenarioA(20000, false), 40000);
    }
  }
  if (want('B')) {
    const K = `${big / 1000}k`;
    await run(`B_${K}_reconnectOn`, `${big} remote.tell server->client, reconnect on`, () => scenarioB(big, true, 0), 60000);
    await run(`B_${K}_reconnectOff`, `${big} remote.tell server->client, reconnect: false`, () => scenarioB(big, false, 0), 60000);
    await run('B_1k_slowHandler', '1000 remote.tell server->client, ~10 ms handler', () => scenarioB(1000, true, 10), 60000);
  }
  if (want('C')) {
    await run('C_paused_nonResumable', `raw client stops reading for ${cSeconds} s (hello resumable: false)`, () => scenarioC(false, cSeconds, rssCap), cSeconds * 1000 + 25000);
    if (Date.now() - started < HARD_CAP_MS - (cSeconds + dSeconds + 30) * 1000)
      await run('C_paused_resumable', `raw client stops reading for ${cSeconds} s (hello resumable: true)`, () => scenarioC(true, cSeconds, rssCap), cSeconds * 1000 + 25000);
    else results.scenarios.C_paused_resumable = { skipped: 'time budget' };
  }
  if (want('D')) await run('D_noAck_flood', `raw resumable client floods asks + bad tells for ${dSeconds} s, never ACKs`, () => scenarioD(dSeconds), dSeconds * 1000 + 30000);

  clearTimeout(cap);
  killAll();
  save();
  console.log(JSON.stringify(results));
  console.log(table(results));
  console.log(`\nsaved: ${opts.outs.join(', ')}`);
  process.exit(0);
}

// ---- summary table -------------------------------------------------------------------

/** Per-second RSS read from /proc by the parent, and heap sampled inside the server (as its event loop allows). */
function series(v) {
  const out = [];
  const p = v.perSecondRssFromProc ?? [];
  out.push(`  t(s)          ${p.map((x) => String(Math.round(x.t)).padStart(6)).join('')}`);
  out.push(`  RSS MB (proc) ${p.map((x) => String(Math.round(x.rssMB)).padStart(6)).join('')}`);
  out.push(`  heapUsed MB (in-process, t:MB): ${(v.perSecond ?? []).map((x) => `${x.t}:${Math.round(x.heapMB)}`).join(' ')}`);
  return out;
}

function table(r) {
  const S = r.scenarios;
  const lines = [];
  const codes = (o) => {
    const e = Object.entries(o ?? {});
    return e.length ? e.map(([k, v]) => `${k}×${v}`).join(' ') : '0';
  };
  const pad = (s, n) => String(s ?? '-').padEnd(n);
  lines.push('');
  lines.push(`ActorSpace flow figures [${r.label}] commit ${r.commit?.slice(0, 12)} ${r.dirtyFiles ? `(uncommitted: ${r.uncommitted.join(', ')})` : ''} node ${r.node}, ${r.cpus} cpus`);
  lines.push('');
  lines.push('A/B: tells in bursts of 1,000 per event-loop turn');
  const hdr = ['scenario', 'sent', 'threw at sender', 'delivered', 'order (gaps/backwards)', 'error events seen', 'wall ms', 'srv peak RSS MB'];
  const w = [22, 8, 26, 10, 22, 38, 8, 14];
  lines.push(hdr.map((h, i) => pad(h, w[i])).join(' '));
  for (const [k, v] of Object.entries(S)) {
    if (!k.startsWith('A_') && !k.startsWith('B_')) continue;
    if (v.failure) {
      lines.push(`${pad(k, w[0])} FAILED: ${v.failure}`);
      continue;
    }
    const isA = k.startsWith('A_');
    const threw = isA ? `${v.tellThrew} ${v.tellThrew ? `(${codes(v.tellThrewByCode)})` : ''}` : `${v.remoteTellThrew} ${v.remoteTellThrew ? `(${codes(v.remoteTellThrewByCode)})` : ''}`;
    const errs = isA
      ? `client ${v.sessionErrorEvents.count} (${codes(v.sessionErrorEvents.byCode)})`
      : `server ${codes(v.serverErrorEvents)}; client ${v.clientSessionErrorEvents.count}`;
    lines.push(
      [
        pad(k, w[0]),
        pad(v.total, w[1]),
        pad(threw, w[2]),
        pad(isA ? v.serverReceived : v.clientDelivered, w[3]),
        pad(`${v.inOrder ? 'in order' : 'REORDERED'} ${v.gaps}/${v.backwards}`, w[4]),
        pad(errs, w[5]),
        pad(v.wallMs, w[6]),
        pad(v.peakRssMB, w[7]),
      ].join(' '),
    );
  }
  for (const k of ['C_paused_nonResumable', 'C_paused_resumable']) {
    const v = S[k];
    if (!v) continue;
    lines.push('');
    if (v.failure || v.skipped) {
      lines.push(`${k}: ${v.failure ? `FAILED: ${v.failure}` : `skipped (${v.skipped})`}`);
      continue;
    }
    lines.push(`${k}: client paused ${v.pausedSeconds} s; remote.tell ok ${v.remoteTellOk}, threw ${v.remoteTellThrew} (${codes(v.remoteTellThrewByCode)}); server closed it: ${v.serverClosedConnection ? JSON.stringify(v.serverDisconnectEvents) : 'no'}; peak RSS ${v.peakRssMB} MB, longest event-loop stall ${v.maxEventLoopStallMs} ms${v.rssCapHitAtMs ? `; SAFETY CAP hit at ${v.rssCapHitAtMs} ms, pushing stopped` : ''}`);
    lines.push(...series(v));
    lines.push(`  socket write queue MB (in-process, t:MB): ${v.perSecond.map((x) => `${x.t}:${Math.round(x.socketQueuedMB)}`).join(' ')}`);
  }
  const d = S.D_noAck_flood;
  if (d) {
    lines.push('');
    if (d.failure) lines.push(`D_noAck_flood: FAILED: ${d.failure}`);
    else {
      lines.push(`D_noAck_flood: ${d.seconds} s; client sent ${d.clientSent?.asks} asks + ${d.clientSent?.badTells} bad tells; got ${d.clientReceived?.resolves} resolves, rejects ${codes(d.clientReceived?.rejects)}, errors ${codes(d.clientReceived?.errors)}; server closed it: ${d.serverClosedConnection ? JSON.stringify(d.serverDisconnectEvents) : 'no'}; server alive at end: ${d.serverAliveAtEnd}; peak RSS ${d.peakRssMB} MB, peak heap ${d.peakHeapUsedMB} MB, longest event-loop stall ${d.maxEventLoopStallMs} ms`);
      if (d.perSecond) lines.push(...series(d));
    }
  }
  const e = S.E;
  if (e) {
    lines.push('');
    lines.push(
      e.failure && e.serverSurvived === undefined
        ? `E: FAILED: ${e.failure}`
        : `E (HELLO actor of 300 chars): server ${e.serverSurvived ? 'survived' : `DIED (exit code ${e.serverExitCode}, signal ${e.serverExitSignal})`}; client got ${JSON.stringify(e.framesClientGot)}; ${e.serverStderrHead ? `stderr: ${e.serverStderrHead.split('\n').find((l) => /Error:/.test(l)) ?? ''}` : ''}`,
    );
  }
  return lines.join('\n');
}

// ---- entry point ----------------------------------------------------------------------

if (argv[0] === '--server') await runServer();
else await main();
