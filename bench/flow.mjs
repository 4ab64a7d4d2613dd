#!/usr/bin/env node
// @ts-check
/**
 * bench/flow.mjs: how ActorSpace behaves under load and abuse, over real WebSockets on
 * 127.0.0.1. First written to take "before" figures ahead of the flow-control rebuild of the
 * core (results/flow-before.json); its raw clients now speak protocol version 2 (credit, PONG).
 *
 *   cd bench && node flow.mjs [--label after] [--out file.json ...] [--only A,B,C,D,E] [--quick]
 *
 * Every scenario gets its own server, in a child process of its own (this file, run with
 * `--server <name> <options JSON>`), so the RSS figures are the server's alone. The clients run
 * in this process. Every scenario has a hard time cap; the whole run has one too (HARD_CAP_MS).
 * Every child is killed (SIGKILL) when its scenario ends, on any exit of this process (errors,
 * Ctrl-C and SIGTERM included), and exits by itself when its IPC channel to this process goes
 * away. Ports are chosen by the OS (port 0).
 *
 * Scenarios:
 *  A  client -> server tells, 200,000 (and 20,000) in bursts of 1,000 per event-loop turn, to
 *     an async server handler; default Node client (reconnect on) and reconnect: false.
 *  B  server -> client tells via remote.tell, 200,000 in bursts of 1,000 per turn, async client
 *     handler (reconnect on, and reconnect: false); and 1,000 pushes to a ~10 ms handler.
 *  C  raw ws client pairs, then stops reading (socket paused) for 20 s while the server pushes
 *     1,000 tells per turn. Non-resumable hello, then a resumable one; each with the server's
 *     default heartbeat (25 s / 30 s: no heartbeat close fits in 20 s) and with
 *     `heartbeat: { interval: 2000, timeout: 5000 }` (that variant ends 2 s after the server
 *     closed the connection). A paused client cannot answer pings. After the pause the client
 *     reads again, to see the close frame the server sent.
 *  D  raw ws client with resumable: true that never ACKs, flooding asks (1 KB answers) and
 *     tells to a missing actor for 12 s (or until 500 ms after the server closed it), reading
 *     everything and answering pings. It respects the credit window of the welcome (never
 *     sends past the last CREDIT + window), so the server has no credit violation to close it
 *     for: what is measured is the never-ACKing.
 *  E  a HELLO whose actor guid is 300 characters long.
 *
 * For every scenario: the server's peak RSS, how many tell()/remote.tell() calls threw (by
 * code), the close codes and reasons the server sent, and whether the server's session count
 * (`actors.sessions`) returned to 0 once the client was gone.
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
import { Kind, PROTOCOL_VERSION } from '@actorspace/core';

const SELF = fileURLToPath(import.meta.url);
const HERE = dirname(SELF);
const argv = process.argv.slice(2);
const MIB = 1048576;

// (the entry point is at the end of the file, after every declaration)

// =====================================================================================
// Types
// =====================================================================================

/**
 * Options of one server child, passed on its command line as JSON.
 * @typedef {object} ServerOptions
 * @property {{ interval: number, timeout: number }} [heartbeat] the server's heartbeat (default 25000 / 30000)
 */

/** @typedef {{ atMs: number, at: number, code: number, reason: string }} CloseEvent */

/**
 * A life event of a server channel (the server root actor's `remote.channel`): the code and
 * reason are those of the server's own close when the server closed it.
 * @typedef {{ event: 'close' | 'suspend', route: string, atMs: number, at: number, code: number, reason: string }} ChannelEvent
 */

/**
 * @typedef {object} MemSample one per second, taken inside the server
 * @property {number} t seconds since sampling started
 * @property {number} rss
 * @property {number} heapUsed
 * @property {number} external
 * @property {number} arrayBuffers
 * @property {number} socketQueued bytes in the user-space write queues of the server's TCP sockets
 * @property {number} channelBuffered the server root actor's `remote.channel.bufferedAmount`
 * @property {number} pushed
 * @property {number} pushThrows
 * @property {number} asksHandled
 */

/**
 * @typedef {object} ServerMem
 * @property {NodeJS.MemoryUsage} baseline
 * @property {number} sampling when per-second sampling started (ms since epoch)
 * @property {number} peakRss
 * @property {number} peakHeapUsed
 * @property {number} peakExternal
 * @property {number} peakArrayBuffers
 * @property {number} peakChannelBuffered
 * @property {number} maxTimerGapMs
 * @property {MemSample[]} samples
 */

/**
 * @typedef {{ atMs: number, pushedBefore: number, code: string, message: string }} FirstThrow
 */

/**
 * What the server child counts.
 * @typedef {object} ServerState
 * @property {number} recv incoming tells (A)
 * @property {number} last
 * @property {number} gaps
 * @property {number} skipped
 * @property {number} backwards
 * @property {number | null} firstRecvAt
 * @property {number | null} lastRecvAt
 * @property {boolean} pushing outgoing pushes (B, C)
 * @property {number} pushed
 * @property {Record<string, number>} pushThrows
 * @property {FirstThrow | null} pushFirstThrow
 * @property {number | null} pushStartAt
 * @property {number | null} pushEndAt
 * @property {number | null} rssCapHitAtMs
 * @property {number} asksHandled (D)
 * @property {Record<string, number>} serverErrors
 * @property {string[]} serverErrorSample
 * @property {CloseEvent[]} disconnects the server's `disconnect` events (a session or an unpaired socket ended)
 * @property {ChannelEvent[]} channelEvents
 * @property {Array<{ atMs: number, at: number }>} socketCloses TCP sockets of upgrades that closed
 * @property {number} connections
 */

/**
 * The answer to the `stats` command.
 * @typedef {ServerState & {
 *   mem: ServerMem & { now: NodeJS.MemoryUsage },
 *   socketQueued: number,
 *   openSockets: number,
 *   channelBuffered: number,
 *   sessions: number,
 *   health: import('@actorspace/server').HealthReport,
 * }} ServerStats
 */

/** @typedef {'stats' | 'sample' | 'push' | 'stop' | 'exit'} ServerCommandName */
/**
 * @typedef {{ id: number, cmd: ServerCommandName, total?: number, burst?: number, rssCap?: number }} ServerCommand
 */

/**
 * A server child, seen from the parent.
 * @typedef {object} ServerHandle
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} child
 * @property {Promise<{ type: 'ready', port: number, pid: number }>} ready
 * @property {(cmd: ServerCommandName, extra?: Record<string, unknown>, ms?: number) => Promise<unknown>} call
 * @property {(ms?: number) => Promise<ServerStats>} stats
 * @property {Promise<ExitInfo>} exited
 * @property {() => boolean} alive
 * @property {() => Promise<ExitInfo>} stop
 * @property {() => string} stderr
 * @property {() => number | null} vmHwmMB
 */

/** @typedef {{ code: number | null, signal: NodeJS.Signals | null, at: number }} ExitInfo */

/**
 * @typedef {object} ErrorCounter
 * @property {number} count
 * @property {Record<string, number>} byCode
 * @property {string[]} sample
 * @property {(e: unknown) => void} on
 */
/** @typedef {{ count: number, byCode: Record<string, number>, sample: string[] }} ErrorCounts */

/**
 * Where the server's session count stood once the client was gone.
 * @typedef {object} SessionsAfter
 * @property {number | null} sessions `actors.sessions`
 * @property {number | null} suspended sessions waiting for a resume
 * @property {number | null} connections open sockets
 * @property {boolean} returnedToZero
 * @property {number} waitedMs
 * @property {string} [failure]
 */

/**
 * @typedef {object} MemFigures
 * @property {number | null} baselineRssMB
 * @property {number | null} peakRssMB
 * @property {number | null} peakHeapUsedMB
 * @property {number | null} peakExternalMB
 * @property {number} maxEventLoopStallMs
 */

/**
 * Fields every scenario may report.
 * @typedef {object} Common
 * @property {string} [failure]
 * @property {string} [skipped]
 * @property {number} [scenarioMs]
 * @property {ExitInfo} [serverExit]
 * @property {number | null} [serverVmHWM_MB]
 * @property {string} [serverStderr]
 * @property {SessionsAfter} [sessionsAfter]
 * @property {CloseEvent[]} [serverDisconnectEvents]
 * @property {ChannelEvent[]} [serverChannelEvents]
 * @property {Record<string, number>} [serverErrorEvents]
 */

/**
 * @typedef {Common & Partial<MemFigures> & {
 *   total: number, burst: number, reconnect: string | false,
 *   tellCalls?: number, tellThrew?: number, tellThrewByCode?: Record<string, number>,
 *   firstThrow?: { at: number, code: unknown, message: string } | null,
 *   serverReceived?: number, lost?: number, lostAfterSend?: number, inOrder?: boolean,
 *   gaps?: number, skipped?: number, backwards?: number,
 *   sessionErrorEvents?: ErrorCounts, spaceErrorEvents?: ErrorCounts,
 *   statusChanges?: Array<{ st: string, atMs: number }>,
 *   clientChannelEvents?: Array<{ event: string, code: number, reason: string, atMs: number }>,
 *   sendLoopMs?: number, wallMs?: number | null, settled?: boolean, serverDisconnects?: number,
 * }} AResult
 */

/**
 * @typedef {Common & Partial<MemFigures> & {
 *   total: number, burst: number, reconnect: string | false, clientHandler: string,
 *   started?: unknown, remoteTellCalls?: number, remoteTellThrew?: number,
 *   remoteTellThrewByCode?: Record<string, number>, firstThrow?: FirstThrow | null,
 *   clientDelivered?: number, lost?: number, inOrder?: boolean, gaps?: number, skipped?: number,
 *   backwards?: number, serverErrorSample?: string[],
 *   clientSessionErrorEvents?: ErrorCounts, clientSpaceErrorEvents?: ErrorCounts,
 *   statusChanges?: Array<{ st: string, atMs: number }>,
 *   clientChannelEvents?: Array<{ event: string, code: number, reason: string, atMs: number }>,
 *   pushLoopMs?: number | null, wallMs?: number | null, settled?: boolean, serverDisconnects?: number,
 * }} BResult
 */

/**
 * @typedef {{ closed: boolean, code?: number, reason?: string, atMs?: number }} ClientClose
 */

/**
 * @typedef {{ t: number, rssMB: number | null }} ProcSample
 * @typedef {{ t: number, rssMB: number | null, heapMB: number | null, extMB: number | null, socketQueuedMB?: number | null, channelBufferedMB?: number | null, pushedOk?: number, threw?: number, asksHandled?: number }} SecondSample
 */

/**
 * @typedef {Common & Partial<MemFigures> & {
 *   clientHello: { resumable: boolean }, serverOptions: ServerOptions, pausedSeconds: number,
 *   pausedForMs?: number, pushBurst: number, serverRssSafetyCapMB: number | null,
 *   pushStarted?: unknown, remoteTellCalls?: number, remoteTellOk?: number, remoteTellThrew?: number,
 *   remoteTellThrewByCode?: Record<string, number>, firstThrow?: FirstThrow | null,
 *   rssCapHitAtMs?: number | null, note?: string,
 *   serverClosedConnection?: boolean, serverClose?: { atMs: number, code: number, reason: string, how: string } | null,
 *   serverTcpSocketCloses?: Array<{ atMs: number }>,
 *   clientSawCloseWhilePaused?: ClientClose,
 *   afterPause?: { readAgainMs: number, messages: number, MB: number | null, close: ClientClose },
 *   socketQueuedAtEndMB?: number | null, peakChannelBufferedMB?: number | null,
 *   perSecondRssFromProc?: ProcSample[], perSecond?: SecondSample[],
 * }} CResult
 */

/**
 * @typedef {Common & Partial<MemFigures> & {
 *   clientHello: { resumable: boolean }, seconds: number, asksPerTurn: number, badTellsPerTurn: number,
 *   answerBytes: number, clientSendsAck: boolean, windowFromWelcome?: number | null,
 *   clientSent?: { asks: number, badTells: number, messages: number, creditBytes: number, waitsForCredit: number, waitsForSocket: number, neverPastWindow: boolean },
 *   clientReceived?: { resolves: number, rejects: Record<string, number>, errors: Record<string, number>, pings: number, pongsSent: number, acksFromServer: number, lastAckValue: number, credits: number, lastCredit: number, other: number, messages: number, MB: number | null },
 *   clientSawClose?: ClientClose, serverAsksHandled?: number, serverClosedConnection?: boolean,
 *   heapUsedAtEndMB?: number | null, note?: string, serverAliveAtEnd?: boolean, statsFailure?: string,
 *   perSecondRssFromProc?: ProcSample[], perSecond?: SecondSample[],
 * }} DResult
 */

/**
 * @typedef {Common & {
 *   helloActorLength: number, serverSurvived?: boolean, framesClientGot?: string[], clientClose?: ClientClose,
 *   serverExitCode?: number | null, serverExitSignal?: NodeJS.Signals | null, serverStderrHead?: string,
 *   normalClientAfterwards?: unknown, serverErrorSample?: string[],
 * }} EResult
 */

/** @typedef {AResult | BResult | CResult | DResult | EResult | Common} ScenarioResult */

/**
 * @typedef {object} Results
 * @property {string} label
 * @property {string} date
 * @property {string | null} commit
 * @property {string[]} [uncommitted]
 * @property {number} [dirtyFiles]
 * @property {string} node
 * @property {string} platform
 * @property {number} cpus
 * @property {number | null} totalMemMB
 * @property {number} protocolVersion
 * @property {Record<string, ScenarioResult>} scenarios
 * @property {number} [totalMs]
 * @property {string} [aborted]
 */

// =====================================================================================
// Small helpers (both processes)
// =====================================================================================

/** @param {number | null | undefined} b bytes @returns {number | null} MiB, one decimal */
const MB = (b) => (typeof b === 'number' ? Math.round((b / MIB) * 10) / 10 : null);

/** @param {Record<string, number>} obj @param {string} key */
const inc = (obj, key) => {
  obj[key] = (obj[key] ?? 0) + 1;
};

/** @param {Record<string, number>} obj */
const sum = (obj) => Object.values(obj).reduce((a, b) => a + b, 0);

/** The `code` of an ActorSpaceError, or a description of anything else thrown. @param {unknown} e */
function codeOf(e) {
  const err = /** @type {{ code?: unknown, name?: unknown } | null | undefined} */ (e);
  return typeof err?.code === 'string' ? err.code : `non-ActorSpaceError ${String(err?.name)}`;
}

/** @param {unknown} e */
function messageOf(e) {
  return e instanceof Error ? e.message : String(e);
}

// =====================================================================================
// Server child process
// =====================================================================================

async function runServer() {
  const { createActorServer } = await import('@actorspace/server');
  const { attach } = await import('@actorspace/server/node');
  const { defineActor } = await import('@actorspace/core');
  /** @type {ServerOptions} */
  const options = JSON.parse(argv[2] ?? '{}');

  // Never outlive the parent.
  process.on('disconnect', () => process.exit(0));

  const t0 = Date.now();
  const KB = 'x'.repeat(1024);
  /** @type {Set<import('node:stream').Duplex>} */
  const sockets = new Set();
  /** @type {ServerState} */
  const s = {
    recv: 0,
    last: -1,
    gaps: 0,
    skipped: 0,
    backwards: 0,
    firstRecvAt: null,
    lastRecvAt: null,
    pushing: false,
    pushed: 0,
    pushThrows: {},
    pushFirstThrow: null,
    pushStartAt: null,
    pushEndAt: null,
    rssCapHitAtMs: null,
    asksHandled: 0,
    serverErrors: {},
    serverErrorSample: [],
    disconnects: [],
    channelEvents: [],
    socketCloses: [],
    connections: 0,
  };
  /** @type {ServerMem} */
  const mem = {
    baseline: process.memoryUsage(),
    sampling: Date.now(),
    peakRss: 0,
    peakHeapUsed: 0,
    peakExternal: 0,
    peakArrayBuffers: 0,
    peakChannelBuffered: 0,
    maxTimerGapMs: 0,
    samples: [],
  };
  /**
   * The latest client root actor paired with (any route): its channel is the server's side of
   * the connection.
   * @type {import('@actorspace/core').RemoteActor | null}
   */
  let remote = null;

  /** @param {number} n */
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

  /** @param {unknown} error */
  const countThrow = (error) => {
    const code = codeOf(error);
    inc(s.pushThrows, code);
    if (!s.pushFirstThrow)
      s.pushFirstThrow = {
        atMs: Date.now() - (s.pushStartAt ?? t0),
        pushedBefore: s.pushed,
        code,
        message: messageOf(error).slice(0, 200),
      };
  };

  /** The server channel's held tells and asks: the peak is kept. */
  const channelBuffered = () => {
    const b = remote?.channel.bufferedAmount ?? 0;
    if (b > mem.peakChannelBuffered) mem.peakChannelBuffered = b;
    return b;
  };

  /**
   * Pushes `total` tells (-1: until stopped) to the client root, `burst` per setImmediate turn.
   * @param {import('@actorspace/core').RemoteActor | null} target
   * @param {number} total
   * @param {number} burst
   * @param {number} rssCap stop pushing once the RSS is above it (0: no cap)
   */
  const push = (target, total, burst, rssCap) => {
    if (!target || s.pushing) return false;
    s.pushing = true;
    const startAt = Date.now();
    s.pushStartAt = startAt;
    let i = 0;
    const finish = () => {
      s.pushing = false;
      s.pushEndAt = Date.now();
    };
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
      const b = target.channel.bufferedAmount;
      if (b > mem.peakChannelBuffered) mem.peakChannelBuffered = b;
      if (rssCap && process.memoryUsage.rss() > rssCap) {
        s.rssCapHitAtMs = Date.now() - startAt;
        return finish();
      }
      if (total < 0 || i < total) setImmediate(step);
      else finish();
    };
    setImmediate(step);
    return true;
  };

  /**
   * setRemoteActor of every route: keeps the client root and records its channel's closes.
   * @param {string} route
   * @param {(r: import('@actorspace/core').RemoteActor) => void} [also]
   */
  const watch = (route, also) => ({
    /** @param {import('@actorspace/core').RemoteActor} r */
    setRemoteActor(r) {
      remote = r;
      also?.(r);
      /** @param {'close' | 'suspend'} event @param {number} code @param {string} reason */
      const note = (event, code, reason) =>
        s.channelEvents.push({
          event,
          route,
          atMs: Date.now() - t0,
          at: Date.now(),
          code,
          reason: String(reason).slice(0, 160),
        });
      r.channel.on('close', (code, reason) => note('close', code, reason));
      r.channel.on('suspend', (code, reason) => note('suspend', code, reason));
    },
  });

  const actors = createActorServer({
    ...(options.heartbeat && { heartbeat: options.heartbeat }),
    routes: {
      // A: client -> server tells to an async handler
      '/a': () =>
        defineActor(
          {
            /** @param {number} n */
            t: async (n) => {
              await null;
              record(n);
            },
          },
          watch('/a'),
        ),
      // B: the client asks for pushes; C: the parent starts them over IPC
      '/b': () => {
        /** @type {import('@actorspace/core').RemoteActor | null} */
        let mine = null;
        return defineActor(
          {
            /** @param {{ n: number, burst: number }} data */
            start: ({ n, burst }) => push(mine, n, burst, 0),
          },
          watch('/b', (r) => {
            mine = r;
          }),
        );
      },
      '/c': () => defineActor({ noop: () => null }, watch('/c')),
      // D: asks answered with ~1 KB
      '/d': () =>
        defineActor(
          {
            big: () => {
              s.asksHandled++;
              return KB;
            },
          },
          watch('/d'),
        ),
      // E: anything
      '/e': () => defineActor({ ping: () => 'pong' }, watch('/e')),
    },
  });
  actors.on('error', (error) => {
    const code = error?.code ?? 'unknown';
    inc(s.serverErrors, code);
    if (s.serverErrorSample.length < 3)
      s.serverErrorSample.push(`${code}: ${String(error?.message).slice(0, 160)}`);
  });
  actors.on('connection', () => s.connections++);
  actors.on('disconnect', (_conn, code, reason) =>
    s.disconnects.push({ atMs: Date.now() - t0, at: Date.now(), code, reason: String(reason).slice(0, 160) }),
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
  await /** @type {Promise<void>} */ (new Promise((r) => http.listen(0, '127.0.0.1', r)));

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
    if (now - lastTick > mem.maxTimerGapMs) mem.maxTimerGapMs = now - lastTick;
    lastTick = now;
    const m = process.memoryUsage();
    if (m.rss > mem.peakRss) mem.peakRss = m.rss;
    if (m.heapUsed > mem.peakHeapUsed) mem.peakHeapUsed = m.heapUsed;
    if (m.external > mem.peakExternal) mem.peakExternal = m.external;
    if (m.arrayBuffers > mem.peakArrayBuffers) mem.peakArrayBuffers = m.arrayBuffers;
    const buffered = channelBuffered();
    if (now - lastSampleAt >= 1000) {
      lastSampleAt = now;
      mem.samples.push({
        t: Math.round((now - mem.sampling) / 100) / 10,
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        socketQueued: queued(),
        channelBuffered: buffered,
        pushed: s.pushed,
        pushThrows: sum(s.pushThrows),
        asksHandled: s.asksHandled,
      });
    }
  }, 50);

  /** @param {number} id @param {unknown} body */
  const reply = (id, body) => process.send?.({ re: id, body });
  process.on('message', async (message) => {
    const msg = /** @type {ServerCommand} */ (message);
    switch (msg.cmd) {
      case 'stats':
        reply(msg.id, {
          ...s,
          mem: { ...mem, now: process.memoryUsage() },
          socketQueued: queued(),
          openSockets: sockets.size,
          channelBuffered: channelBuffered(),
          sessions: actors.sessions().length,
          health: actors.health(),
        });
        return;
      case 'sample':
        // restart per-second sampling and the peaks from now
        mem.samples = [];
        mem.sampling = lastSampleAt = lastTick = Date.now();
        mem.maxTimerGapMs = 0;
        mem.peakRss =
          mem.peakHeapUsed =
          mem.peakExternal =
          mem.peakArrayBuffers =
          mem.peakChannelBuffered =
            0;
        reply(msg.id, true);
        return;
      case 'push':
        reply(msg.id, push(remote, msg.total ?? -1, msg.burst ?? 1000, msg.rssCap ?? 0));
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
  const address = /** @type {import('node:net').AddressInfo} */ (http.address());
  process.send?.({ type: 'ready', port: address.port, pid: process.pid });
}

// =====================================================================================
// Parent: orchestration and clients
// =====================================================================================

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
/** @type {Set<import('ws').WebSocket>} */
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

/**
 * Starts a server child.
 * @param {string} name
 * @param {ServerOptions} [options]
 * @returns {ServerHandle}
 */
function spawnServer(name, options = {}) {
  const child = fork(SELF, ['--server', name, JSON.stringify(options)], {
    cwd: HERE,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-6000);
  });
  child.stdout?.on('data', () => {});
  child.on('error', () => {});
  let seq = 0;
  /** @type {Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>} */
  const waiting = new Map();
  /** @type {Promise<ExitInfo>} */
  const exited = new Promise((res) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      for (const [, w] of waiting) w.reject(new Error(`server exited (code ${code}, signal ${signal})`));
      waiting.clear();
      res({ code, signal, at: Date.now() });
    }),
  );
  /** @type {(m: { type: 'ready', port: number, pid: number }) => void} */
  let onReady = () => {};
  /** @type {ServerHandle['ready']} */
  const ready = new Promise((res, rej) => {
    onReady = res;
    exited.then((e) => rej(new Error(`server exited before ready: ${JSON.stringify(e)} ${stderr}`)));
  });
  ready.catch(() => {}); // awaited by the scenario; never an unhandled rejection
  child.on('message', (message) => {
    const m = /** @type {{ type?: string, port?: number, pid?: number, re?: number, body?: unknown }} */ (
      message
    );
    if (m?.type === 'ready') onReady(/** @type {{ type: 'ready', port: number, pid: number }} */ (m));
    else if (m?.re !== undefined) {
      const w = waiting.get(m.re);
      if (w) {
        waiting.delete(m.re);
        w.resolve(m.body);
      }
    }
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  /** @type {ServerHandle['call']} */
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
  /** @type {ServerHandle['stats']} */
  const stats = async (ms = 8000) => /** @type {ServerStats} */ (await call('stats', {}, ms));
  /** @type {{ rss: number | null, hwm: number | null }} */
  let lastProc = { rss: null, hwm: null };
  const stop = async () => {
    if (alive() && child.pid) lastProc = procMem(child.pid);
    if (alive()) {
      try {
        await call('exit', {}, 2500);
      } catch {}
      await Promise.race([exited, sleep(1000)]);
    }
    if (alive()) child.kill('SIGKILL');
    return exited;
  };
  return {
    name,
    child,
    ready,
    call,
    stats,
    exited,
    alive,
    stop,
    stderr: () => stderr,
    vmHwmMB: () => MB(lastProc.hwm),
  };
}

/**
 * VmRSS / VmHWM (peak RSS over the process's life) of a pid, read from outside (Linux).
 * @param {number} pid
 * @returns {{ rss: number | null, hwm: number | null }}
 */
function procMem(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    /** @param {string} k */
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]) * 1024 || null;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: null, hwm: null };
  }
}

/**
 * Samples a child's RSS from this process every second (independent of the child's event loop).
 * @param {number | undefined} pid
 */
function outsideSampler(pid) {
  const t0 = Date.now();
  /** @type {ProcSample[]} */
  const samples = [];
  const take = () => {
    const m = pid ? procMem(pid) : { rss: null };
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

/** @param {number} port */
const url = (port) => `ws://127.0.0.1:${port}/actorspace`;

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
function withCap(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  return Promise.race([
    promise,
    /** @type {Promise<never>} */ (
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what}: hard cap of ${ms} ms reached`)), ms);
      })
    ),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits until `read()` stops changing for `quietMs` (or `done()`), polling every 200 ms, up to `capMs`.
 * @template T
 * @param {() => Promise<T>} read
 * @param {{ quietMs?: number, capMs?: number, done?: (v: T) => boolean }} [o]
 * @returns {Promise<{ value: T, settled: boolean }>}
 */
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

/** @returns {ErrorCounter} */
function errorCounter() {
  /** @type {ErrorCounter} */
  const c = {
    count: 0,
    byCode: {},
    sample: [],
    on: (e) => {
      c.count++;
      inc(c.byCode, codeOf(e));
      if (c.sample.length < 3) c.sample.push(`${codeOf(e)}: ${messageOf(e).slice(0, 160)}`);
    },
  };
  return c;
}
/** @param {ErrorCounter} c @returns {ErrorCounts} */
const plain = (c) => ({ count: c.count, byCode: c.byCode, sample: c.sample });

/** @param {ServerStats} st @returns {MemFigures} */
function memSummary(st) {
  return {
    baselineRssMB: MB(st.mem.baseline.rss),
    peakRssMB: MB(st.mem.peakRss),
    peakHeapUsedMB: MB(st.mem.peakHeapUsed),
    peakExternalMB: MB(st.mem.peakExternal),
    maxEventLoopStallMs: st.mem.maxTimerGapMs,
  };
}

/**
 * The server's closes, with times relative to `t0` (this process's clock: both run on one machine).
 * @param {ServerStats} st
 * @param {number} t0
 */
function closeFacts(st, t0) {
  return {
    serverDisconnectEvents: st.disconnects.map((d) => ({ ...d, atMs: d.at - t0 })),
    serverChannelEvents: st.channelEvents.map((d) => ({ ...d, atMs: d.at - t0 })),
  };
}

/**
 * Waits up to `capMs` for the server's session count (`actors.sessions`) to return to 0.
 * @param {ServerHandle} srv
 * @param {number} [capMs]
 * @returns {Promise<SessionsAfter>}
 */
async function sessionsAfter(srv, capMs = 3000) {
  const start = Date.now();
  try {
    for (;;) {
      const st = await srv.stats();
      const zero = st.sessions === 0;
      if (zero || Date.now() - start >= capMs)
        return {
          sessions: st.sessions,
          suspended: st.health.suspended,
          connections: st.health.connections,
          returnedToZero: zero,
          waitedMs: Date.now() - start,
        };
      await sleep(100);
    }
  } catch (e) {
    return {
      sessions: null,
      suspended: null,
      connections: null,
      returnedToZero: false,
      waitedMs: Date.now() - start,
      failure: messageOf(e),
    };
  }
}

/**
 * Records a Node client's session channel closes and suspensions (the server's close codes).
 * @param {import('@actorspace/core').Session} session
 * @param {() => number} since
 */
function watchClientChannel(session, since) {
  /** @type {Array<{ event: string, code: number, reason: string, atMs: number }>} */
  const events = [];
  const channel = session.channel;
  channel?.on('close', (code, reason) =>
    events.push({ event: 'close', code, reason: String(reason).slice(0, 160), atMs: since() }),
  );
  channel?.on('suspend', (code, reason) =>
    events.push({ event: 'suspend', code, reason: String(reason).slice(0, 160), atMs: since() }),
  );
  return events;
}

// ---- A -------------------------------------------------------------------------------

/**
 * @param {number} total
 * @param {boolean} reconnect
 * @returns {Promise<AResult>}
 */
async function scenarioA(total, reconnect) {
  const { connect, defineActor } = await import('@actorspace/node');
  const srv = spawnServer('A');
  /** @type {AResult} */
  const out = { total, burst: 1000, reconnect: reconnect ? 'default (on)' : false };
  try {
    const { port } = await srv.ready;
    const sessionErrors = errorCounter();
    const spaceErrors = errorCounter();
    /** @type {Array<{ st: string, atMs: number }>} */
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
    const channelEvents = watchClientChannel(session, () => Date.now() - t0);
    await srv.call('sample');
    /** @type {Record<string, number>} */
    const throws = {};
    /** @type {AResult['firstThrow']} */
    let firstThrow = null;
    let n = 0;
    t0 = Date.now();
    await withCap(
      /** @type {Promise<void>} */ (
        new Promise((done) => {
          const step = () => {
            const end = Math.min(total, n + 1000);
            for (; n < end; n++) {
              try {
                session.server.tell('t', n);
              } catch (e) {
                inc(throws, codeOf(e));
                firstThrow ??= { at: n, code: codeOf(e), message: messageOf(e).slice(0, 200) };
              }
            }
            if (n < total) setImmediate(step);
            else done();
          };
          setImmediate(step);
        })
      ),
      30000,
      'A send loop',
    );
    const sendMs = Date.now() - t0;
    const thrown = sum(throws);
    const { settled } = await settle(async () => ({ recv: (await srv.stats()).recv }), {
      capMs: 25000,
      done: (v) => v.recv >= total - thrown,
    });
    // let the last ERROR frames reach the client
    await sleep(300);
    const st = await srv.stats();
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
    out.sessionsAfter = await sessionsAfter(srv);
    out.clientChannelEvents = channelEvents;
    Object.assign(out, closeFacts(await srv.stats(), t0));
  } catch (e) {
    out.failure = messageOf(e);
  } finally {
    out.serverExit = await srv.stop();
    out.serverVmHWM_MB = srv.vmHwmMB();
  }
  return out;
}

// ---- B -------------------------------------------------------------------------------

/**
 * @param {number} total
 * @param {boolean} reconnect
 * @param {number} slowMs 0: an async handler that awaits nothing; else ~slowMs ms per push
 * @returns {Promise<BResult>}
 */
async function scenarioB(total, reconnect, slowMs) {
  const { connect, defineActor } = await import('@actorspace/node');
  const srv = spawnServer('B');
  /** @type {BResult} */
  const out = {
    total,
    burst: 1000,
    reconnect: reconnect ? 'default (on)' : false,
    clientHandler: slowMs ? `async, ~${slowMs} ms each` : 'async (await null)',
  };
  try {
    const { port } = await srv.ready;
    const sessionErrors = errorCounter();
    const spaceErrors = errorCounter();
    /** @type {Array<{ st: string, atMs: number }>} */
    const statuses = [];
    /** @type {{ n: number, last: number, gaps: number, skipped: number, backwards: number, lastAt: number | null }} */
    const got = { n: 0, last: -1, gaps: 0, skipped: 0, backwards: 0, lastAt: null };
    /** @param {number} n */
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
      ? /** @param {number} n */ async (n) => {
          await sleep(slowMs);
          rec(n);
        }
      : /** @param {number} n */ async (n) => {
          await null;
          rec(n);
        };
    let t0 = Date.now();
    const session = await connect(url(port), {
      route: '/b',
      actor: defineActor({ p: handler }),
      ...(reconnect ? {} : { reconnect: false }),
    });
    session.on('error', sessionErrors.on);
    session.space.on('error', spaceErrors.on);
    session.on('status', (st) => statuses.push({ st, atMs: Date.now() - t0 }));
    const channelEvents = watchClientChannel(session, () => Date.now() - t0);
    await srv.call('sample');
    t0 = Date.now();
    const started = await session.server.ask('start', { n: total, burst: 1000 });
    const capMs = slowMs ? total * slowMs * 2 + 5000 : 25000;
    const { value, settled } = await settle(
      async () => {
        const st = await srv.stats();
        return { delivered: got.n, pushing: st.pushing, pushed: st.pushed };
      },
      { capMs, quietMs: 1200, done: (v) => !v.pushing && v.delivered >= v.pushed },
    );
    await sleep(300);
    const st = await srv.stats();
    const thrown = sum(st.pushThrows);
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
      statusChanges: [...statuses],
      pushLoopMs: st.pushEndAt && st.pushStartAt ? st.pushEndAt - st.pushStartAt : null,
      wallMs: got.lastAt ? got.lastAt - t0 : null,
      settled: settled && value.delivered >= 0,
      serverDisconnects: st.disconnects.length,
      ...memSummary(st),
    });
    await withCap(session.close(), 3000, 'session.close').catch(() => {});
    out.sessionsAfter = await sessionsAfter(srv);
    out.clientChannelEvents = channelEvents;
    Object.assign(out, closeFacts(await srv.stats(), t0));
  } catch (e) {
    out.failure = messageOf(e);
  } finally {
    out.serverExit = await srv.stop();
    out.serverVmHWM_MB = srv.vmHwmMB();
  }
  return out;
}

// ---- raw ws helpers -------------------------------------------------------------------

/**
 * Opens a raw ws client and pairs with a hello of protocol version PROTOCOL_VERSION.
 * @param {number} port
 * @param {import('@actorspace/core').HelloFields} hello
 * @returns {Promise<{ ws: import('ws').WebSocket, welcome: import('@actorspace/core').WelcomeFields }>}
 */
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
    /** @type {Promise<unknown>} */ (
      new Promise((res, rej) => {
        ws.once('message', (d) => res(JSON.parse(String(d))));
        ws.once('close', (c, r) => rej(new Error(`closed before welcome (${c} ${r})`)));
      })
    ),
    5000,
    'welcome',
  );
  ws.send(JSON.stringify([Kind.HELLO, hello]));
  const w = await welcome;
  if (!Array.isArray(w) || w[0] !== Kind.WELCOME)
    throw new Error(`expected WELCOME, got ${JSON.stringify(w).slice(0, 200)}`);
  return { ws, welcome: w[1] };
}

/**
 * The frames of one transport message: a frame `[kind, ...]`, or a batch of them.
 * @param {unknown} m parsed message
 * @returns {unknown[][]}
 */
function framesOf(m) {
  if (!Array.isArray(m)) return [];
  return Array.isArray(m[0]) ? m : [m];
}

/**
 * The `code` field of an error record inside a frame, if any.
 * @param {unknown} wire
 */
function wireCode(wire) {
  const w = /** @type {{ code?: unknown } | null | undefined} */ (wire);
  return typeof w?.code === 'string' ? w.code : '?';
}

// ---- C -------------------------------------------------------------------------------

/**
 * A raw client that stops reading while the server pushes.
 * @param {boolean} resumable
 * @param {number} seconds how long the client stops reading (at most)
 * @param {number} rssCap safety cap on the server's RSS: pushing stops above it
 * @param {ServerOptions['heartbeat'] | null} heartbeat server heartbeat (null: the default); with one, the pause ends 2 s after the server closed the connection
 * @returns {Promise<CResult>}
 */
async function scenarioC(resumable, seconds, rssCap, heartbeat) {
  /** @type {ServerOptions} */
  const serverOptions = heartbeat ? { heartbeat } : {};
  const srv = spawnServer('C', serverOptions);
  /** @type {CResult} */
  const out = {
    clientHello: { resumable },
    serverOptions: heartbeat ? serverOptions : { heartbeat: { interval: 25000, timeout: 30000 } },
    pausedSeconds: seconds,
    pushBurst: 1000,
    serverRssSafetyCapMB: MB(rssCap),
  };
  /** @type {import('ws').WebSocket | undefined} */
  let ws;
  try {
    const { port } = await srv.ready;
    const pair = await rawPair(port, { v: PROTOCOL_VERSION, route: '/c', actor: 'c1', resumable });
    const sock = pair.ws;
    ws = sock;
    /** @type {ClientClose} */
    const clientClose = { closed: false };
    let t0 = Date.now();
    sock.on('close', (code, reason) =>
      Object.assign(clientClose, { closed: true, code, reason: String(reason), atMs: Date.now() - t0 }),
    );
    let readAfterPause = { messages: 0, bytes: 0 };
    sock.on('message', (d) => {
      readAfterPause.messages++;
      readAfterPause.bytes += /** @type {Buffer} */ (d).length;
    });
    sock.pause(); // stop reading: the kernel buffers fill, then the server's queues
    await srv.call('sample');
    t0 = Date.now();
    const outside = outsideSampler(srv.child.pid);
    const ok = await srv.call('push', { total: -1, burst: 1000, rssCap });
    // Paused for `seconds`; with a short heartbeat, until 2 s after the server closed it.
    /** @type {number | null} */
    let closedAt = null;
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(250);
      if (!heartbeat) continue;
      const st = await srv.stats();
      if (closedAt === null && (st.channelEvents.length > 0 || st.disconnects.length > 0))
        closedAt = Date.now();
      if (closedAt !== null && Date.now() - closedAt >= 2000) break;
    }
    out.pausedForMs = Date.now() - t0;
    const perSecondOutside = outside.stop();
    await srv.call('stop').catch(() => {});
    const st = await srv.stats(10000);
    const clientCloseWhilePaused = { ...clientClose };
    // Read again: the close frame the server sent (if any) comes after what it had queued.
    const facts = closeFacts(st, t0);
    const serverClosed = st.channelEvents.length > 0 || st.disconnects.length > 0;
    if (serverClosed) {
      readAfterPause = { messages: 0, bytes: 0 };
      const r0 = Date.now();
      sock.resume();
      await Promise.race([new Promise((r) => sock.once('close', r)), sleep(3000)]);
      out.afterPause = {
        readAgainMs: Date.now() - r0,
        messages: readAfterPause.messages,
        MB: MB(readAfterPause.bytes),
        close: { ...clientClose },
      };
    }
    sock.terminate();
    out.perSecondRssFromProc = perSecondOutside;
    const thrown = sum(st.pushThrows);
    const first = facts.serverChannelEvents[0] ?? facts.serverDisconnectEvents[0];
    Object.assign(out, {
      pushStarted: ok,
      remoteTellCalls: st.pushed + thrown,
      remoteTellOk: st.pushed,
      remoteTellThrew: thrown,
      remoteTellThrewByCode: st.pushThrows,
      firstThrow: st.pushFirstThrow,
      rssCapHitAtMs: st.rssCapHitAtMs,
      note: heartbeat
        ? `server heartbeat { interval: ${heartbeat.interval}, timeout: ${heartbeat.timeout} }: a client that reads nothing answers no ping`
        : `server heartbeat defaults to { interval: 25000, timeout: 30000 }: no heartbeat close is possible within ${seconds} s`,
      serverClosedConnection: serverClosed,
      serverClose: first
        ? {
            atMs: first.atMs,
            code: first.code,
            reason: first.reason,
            how: 'event' in first ? `channel ${first.event}` : 'disconnect event',
          }
        : null,
      ...facts,
      serverTcpSocketCloses: st.socketCloses.map((d) => ({ atMs: d.at - t0 })),
      clientSawCloseWhilePaused: clientCloseWhilePaused,
      socketQueuedAtEndMB: MB(st.socketQueued),
      peakChannelBufferedMB: MB(st.mem.peakChannelBuffered),
      serverErrorEvents: st.serverErrors,
      ...memSummary(st),
      perSecond: st.mem.samples.map((x) => ({
        t: x.t,
        rssMB: MB(x.rss),
        heapMB: MB(x.heapUsed),
        extMB: MB(x.external),
        socketQueuedMB: MB(x.socketQueued),
        channelBufferedMB: MB(x.channelBuffered),
        pushedOk: x.pushed,
        threw: x.pushThrows,
      })),
    });
    out.sessionsAfter = await sessionsAfter(srv);
  } catch (e) {
    out.failure = messageOf(e);
  } finally {
    try {
      ws?.terminate();
    } catch {}
    out.serverExit = await srv.stop();
    out.serverVmHWM_MB = srv.vmHwmMB();
    if (out.serverExit.code !== 0 && out.serverExit.code !== null)
      out.serverStderr = srv.stderr().slice(-1500);
  }
  return out;
}

// ---- D -------------------------------------------------------------------------------

/**
 * The credit a message carrying tells or asks spends: the sum over its frames of each frame's
 * JSON length + 1 (a batch: its length - 1; a single frame: its length + 1).
 * @param {string} text
 * @param {boolean} batch
 */
const messageCost = (text, batch) => (batch ? text.length - 1 : text.length + 1);

/**
 * A raw resumable client that floods asks and bad tells, reads everything, answers pings,
 * respects the credit window, and never ACKs.
 * @param {number} seconds
 * @returns {Promise<DResult>}
 */
async function scenarioD(seconds) {
  const srv = spawnServer('D');
  /** @type {DResult} */
  const out = {
    clientHello: { resumable: true },
    seconds,
    asksPerTurn: 2000,
    badTellsPerTurn: 500,
    answerBytes: 1024,
    clientSendsAck: false,
  };
  /** @type {import('ws').WebSocket | undefined} */
  let ws;
  try {
    const { port } = await srv.ready;
    const pair = await rawPair(port, { v: PROTOCOL_VERSION, route: '/d', actor: 'c1', resumable: true });
    const sock = pair.ws;
    ws = sock;
    const target = pair.welcome.actor ?? 'root';
    const window = pair.welcome.window ?? null;
    out.windowFromWelcome = window;
    const c = {
      resolve: 0,
      /** @type {Record<string, number>} */ reject: {},
      /** @type {Record<string, number>} */ error: {},
      ping: 0,
      pong: 0,
      ack: 0,
      lastAck: 0,
      credits: 0,
      lastCredit: 0,
      other: 0,
      messages: 0,
      bytes: 0,
    };
    /** @type {ClientClose} */
    const clientClose = { closed: false };
    let t0 = Date.now();
    // Credit: bytes of tell/ask messages sent, and whether the loop waits for a CREDIT frame.
    let sent = 0;
    let waitingForCredit = false;
    let pastWindow = false;
    /** @param {unknown[]} f */
    const count = (f) => {
      switch (f[0]) {
        case Kind.RESOLVE:
          c.resolve++;
          break;
        case Kind.REJECT:
          inc(c.reject, wireCode(f[2]));
          break;
        case Kind.ERROR:
          inc(c.error, wireCode(f[1]));
          break;
        case Kind.PING:
          c.ping++;
          if (sock.readyState === sock.OPEN) {
            sock.send(JSON.stringify([Kind.PONG]));
            c.pong++;
          }
          break;
        case Kind.ACK:
          c.ack++;
          c.lastAck = Number(f[1]);
          break;
        case Kind.CREDIT:
          c.credits++;
          c.lastCredit = Math.max(c.lastCredit, Number(f[1]));
          if (waitingForCredit) {
            waitingForCredit = false;
            setImmediate(step);
          }
          break;
        default:
          c.other++;
      }
    };
    sock.on('message', (d) => {
      c.messages++;
      c.bytes += /** @type {Buffer} */ (d).length;
      for (const f of framesOf(JSON.parse(String(d)))) count(f);
    });
    sock.on('close', (code, reason) =>
      Object.assign(clientClose, { closed: true, code, reason: String(reason), atMs: Date.now() - t0 }),
    );
    await srv.call('sample');
    t0 = Date.now();
    const outside = outsideSampler(srv.child.pid);
    let id = 0;
    let asks = 0;
    let badTells = 0;
    let messages = 0;
    let waitsForCredit = 0;
    let waitsForSocket = 0;
    let running = true;
    // One turn: 4 batches of 500 asks, then a batch of 500 tells to a missing actor.
    let part = 0;
    /** @type {{ text: string, asks: number, badTells: number } | null} */
    let held = null;
    const nextMessage = () => {
      const batch = [];
      if (part < 4) {
        for (let k = 0; k < 500; k++) batch.push([Kind.ASK, ++id, target, 'big', null]);
        return { text: JSON.stringify(batch), asks: 500, badTells: 0 };
      }
      for (let k = 0; k < 500; k++) batch.push([Kind.TELL, 'no-such-actor', 'x', k]);
      return { text: JSON.stringify(batch), asks: 0, badTells: 500 };
    };
    function step() {
      if (!running || sock.readyState !== sock.OPEN) return;
      // Keep the client's own send queue bounded (this process is not the one measured).
      if (sock.bufferedAmount > 8 * MIB) {
        waitsForSocket++;
        setTimeout(step, 5);
        return;
      }
      for (let m = 0; m < 5; m++) {
        const msg = held ?? nextMessage();
        held = null;
        const cost = messageCost(msg.text, true);
        if (window !== null && sent + cost > c.lastCredit + window) {
          // out of credit: wait for the next CREDIT frame
          held = msg;
          waitsForCredit++;
          waitingForCredit = true;
          return;
        }
        sock.send(msg.text);
        sent += cost;
        if (window !== null && sent - c.lastCredit > window) pastWindow = true;
        messages++;
        asks += msg.asks;
        badTells += msg.badTells;
        part = (part + 1) % 5;
      }
      setImmediate(step);
    }
    setImmediate(step);
    // Flood for `seconds`, or until 500 ms after the server closed the connection.
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(100);
      if (clientClose.closed && Date.now() - t0 - (clientClose.atMs ?? 0) >= 500) break;
    }
    running = false;
    out.perSecondRssFromProc = outside.stop();
    const st = await srv.stats(15000).catch((e) => ({ failed: messageOf(e) }));
    Object.assign(out, {
      clientSent: {
        asks,
        badTells,
        messages,
        creditBytes: sent,
        waitsForCredit,
        waitsForSocket,
        neverPastWindow: !pastWindow,
      },
      clientReceived: {
        resolves: c.resolve,
        rejects: c.reject,
        errors: c.error,
        pings: c.ping,
        pongsSent: c.pong,
        acksFromServer: c.ack,
        lastAckValue: c.lastAck,
        credits: c.credits,
        lastCredit: c.lastCredit,
        other: c.other,
        messages: c.messages,
        MB: MB(c.bytes),
      },
      clientSawClose: { ...clientClose },
    });
    if ('failed' in st) out.statsFailure = st.failed;
    else {
      Object.assign(out, {
        serverAsksHandled: st.asksHandled,
        serverClosedConnection:
          st.disconnects.length > 0 || st.channelEvents.length > 0 || st.socketCloses.length > 0,
        ...closeFacts(st, t0),
        serverErrorEvents: st.serverErrors,
        ...memSummary(st),
        heapUsedAtEndMB: MB(st.mem.now.heapUsed),
        perSecond: st.mem.samples.map((x) => ({
          t: x.t,
          rssMB: MB(x.rss),
          heapMB: MB(x.heapUsed),
          extMB: MB(x.external),
          asksHandled: x.asksHandled,
        })),
        note: 'the client is resumable and never ACKs: the server keeps every answer (RESOLVE, ERROR) for replay until acknowledged, within its answerBuffer (16 MiB by default)',
      });
    }
    sock.terminate();
    out.sessionsAfter = await sessionsAfter(srv);
  } catch (e) {
    out.failure = messageOf(e);
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

/** @returns {Promise<EResult>} */
async function scenarioE() {
  const { WebSocket } = await import('ws');
  const srv = spawnServer('E');
  /** @type {EResult} */
  const out = { helloActorLength: 300 };
  try {
    const { port } = await srv.ready;
    const ws = new WebSocket(url(port), { perMessageDeflate: false });
    openSockets.add(ws);
    ws.on('error', () => {});
    /** @type {string[]} */
    const frames = [];
    /** @type {ClientClose} */
    const clientClose = { closed: false };
    const t0 = Date.now();
    ws.on('message', (d) => frames.push(String(d).slice(0, 200)));
    const closed = new Promise((r) =>
      ws.on('close', (code, reason) => {
        Object.assign(clientClose, { closed: true, code, reason: String(reason), atMs: Date.now() - t0 });
        r(null);
      }),
    );
    await withCap(new Promise((r) => ws.once('open', r)), 5000, 'ws open');
    ws.send(JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, route: '/e', actor: 'a'.repeat(300) }]));
    const exit = await Promise.race([
      srv.exited,
      closed.then(() => sleep(300)).then(() => null),
      sleep(2000).then(() => null),
    ]);
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
      const session = await withCap(
        connect(url(port), { route: '/e', actor: defineActor({}), reconnect: false }),
        5000,
        'connect',
      );
      out.normalClientAfterwards = await session.server.ask('ping', null, { timeout: 3000 });
      await session.close();
      out.sessionsAfter = await sessionsAfter(srv);
      const st = await srv.stats();
      out.serverErrorEvents = st.serverErrors;
      out.serverErrorSample = st.serverErrorSample;
      Object.assign(out, closeFacts(st, t0));
    }
    ws.terminate();
  } catch (e) {
    out.failure = messageOf(e);
  } finally {
    const alive = srv.alive();
    const ex = await srv.stop();
    if (!out.serverExitCode && !alive) out.serverExit = ex;
  }
  return out;
}

// ---- main ----------------------------------------------------------------------------

function parseArgs() {
  /** @type {{ label: string, outs: string[], only: Set<string> | null, quick: boolean }} */
  const o = { label: 'latest', outs: [], only: null, quick: false };
  /** @param {string} flag */
  const value = (flag) => {
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--label') o.label = value(a);
    else if (a === '--out') o.outs.push(resolve(value(a)));
    else if (a === '--only')
      o.only = new Set(
        value(a)
          .split(',')
          .map((x) => x.trim().toUpperCase()),
      );
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
    const commit = execSync('git rev-parse HEAD', { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    // not trim(): the first line's leading status column (" M path") is part of the format
    const dirty = execSync('git status --porcelain', { cwd: HERE, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trimEnd();
    const files = dirty ? dirty.split('\n').map((l) => l.slice(3)) : [];
    return { commit, uncommitted: files.slice(0, 10), dirtyFiles: files.length };
  } catch {
    return { commit: null };
  }
}

const HARD_CAP_MS = 175_000;

async function main() {
  const opts = parseArgs();
  const started = Date.now();
  /** @type {Results} */
  const results = {
    label: opts.label,
    date: new Date().toISOString(),
    ...gitInfo(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    totalMemMB: MB(os.totalmem()),
    protocolVersion: PROTOCOL_VERSION,
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
  /** @param {string} why */
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
  process.on('SIGHUP', () => bail('hung up'));
  process.on('uncaughtException', (e) => bail(`uncaught exception: ${e?.stack ?? e}`));
  process.on('unhandledRejection', (e) =>
    bail(`unhandled rejection: ${e instanceof Error ? e.stack : String(e)}`),
  );
  const cap = setTimeout(
    () => bail(`whole-run hard cap of ${HARD_CAP_MS} ms reached; partial results saved`),
    HARD_CAP_MS,
  );

  /** @param {string} k */
  const want = (k) => !opts.only || opts.only.has(k);
  /** Milliseconds left of the whole-run budget. */
  const left = () => HARD_CAP_MS - (Date.now() - started);
  /**
   * @param {string} key
   * @param {string} what
   * @param {() => Promise<ScenarioResult>} fn
   * @param {number} capMs
   */
  const run = async (key, what, fn, capMs) => {
    if (left() < capMs + 5000) {
      results.scenarios[key] = {
        skipped: `time budget (${Math.round(left() / 1000)} s left of the run's ${HARD_CAP_MS / 1000} s)`,
      };
      process.stderr.write(`[flow] ${key}: skipped (time budget)\n`);
      return;
    }
    const t = Date.now();
    process.stderr.write(`[flow] ${key}: ${what} ... `);
    /** @type {ScenarioResult} */
    let r;
    try {
      r = await withCap(fn(), capMs, key);
    } catch (e) {
      r = { failure: messageOf(e) };
      killAll();
    }
    r.scenarioMs = Date.now() - t;
    results.scenarios[key] = r;
    process.stderr.write(`${r.failure ? `FAILED: ${r.failure}` : 'ok'} (${r.scenarioMs} ms)\n`);
  };

  const big = opts.quick ? 20000 : 200000;
  const rssCap = Math.min(3 * 1024 ** 3, Math.floor(os.totalmem() * 0.3));
  const cSeconds = opts.quick ? 5 : 20;
  // the short-heartbeat variant needs time for the close (about 6 s) even with --quick
  const cFastSeconds = Math.max(cSeconds, 12);
  const fastHeartbeat = { interval: 2000, timeout: 5000 };
  const dSeconds = opts.quick ? 4 : 12;

  if (want('E')) await run('E', 'HELLO with a 300-character actor guid', () => scenarioE(), 20000);
  if (want('A')) {
    const K = `${big / 1000}k`;
    await run(
      `A_${K}_reconnectOn`,
      `${big} tells client->server, reconnect on`,
      () => scenarioA(big, true),
      60000,
    );
    await run(
      `A_${K}_reconnectOff`,
      `${big} tells client->server, reconnect: false`,
      () => scenarioA(big, false),
      60000,
    );
    if (big !== 20000) {
      await run(
        'A_20k_reconnectOn',
        '20000 tells client->server, reconnect on',
        () => scenarioA(20000, true),
        40000,
      );
      await run(
        'A_20k_reconnectOff',
        '20000 tells client->server, reconnect: false',
        () => scenarioA(20000, false),
        40000,
      );
    }
  }
  if (want('B')) {
    const K = `${big / 1000}k`;
    await run(
      `B_${K}_reconnectOn`,
      `${big} remote.tell server->client, reconnect on`,
      () => scenarioB(big, true, 0),
      60000,
    );
    await run(
      `B_${K}_reconnectOff`,
      `${big} remote.tell server->client, reconnect: false`,
      () => scenarioB(big, false, 0),
      60000,
    );
    await run(
      'B_1k_slowHandler',
      '1000 remote.tell server->client, ~10 ms handler',
      () => scenarioB(1000, true, 10),
      30000,
    );
  }
  if (want('C')) {
    const capC = cSeconds * 1000 + 25000;
    const capFast = cFastSeconds * 1000 + 25000;
    await run(
      'C_paused_nonResumable',
      `raw client stops reading for ${cSeconds} s (hello resumable: false)`,
      () => scenarioC(false, cSeconds, rssCap, null),
      capC,
    );
    await run(
      'C_paused_resumable',
      `raw client stops reading for ${cSeconds} s (hello resumable: true)`,
      () => scenarioC(true, cSeconds, rssCap, null),
      capC,
    );
    await run(
      'C_paused_nonResumable_hb2s',
      `same, server heartbeat 2 s / 5 s (hello resumable: false)`,
      () => scenarioC(false, cFastSeconds, rssCap, fastHeartbeat),
      capFast,
    );
    await run(
      'C_paused_resumable_hb2s',
      `same, server heartbeat 2 s / 5 s (hello resumable: true)`,
      () => scenarioC(true, cFastSeconds, rssCap, fastHeartbeat),
      capFast,
    );
  }
  if (want('D'))
    await run(
      'D_noAck_flood',
      `raw resumable client floods asks + bad tells for ${dSeconds} s within its credit, never ACKs`,
      () => scenarioD(dSeconds),
      dSeconds * 1000 + 30000,
    );

  clearTimeout(cap);
  killAll();
  save();
  console.log(JSON.stringify(results));
  console.log(table(results));
  console.log(`\nsaved: ${opts.outs.join(', ')}`);
  process.exit(0);
}

// ---- summary table -------------------------------------------------------------------

/**
 * Per-second RSS read from /proc by the parent, and heap sampled inside the server (as its event loop allows).
 * @param {{ perSecondRssFromProc?: ProcSample[], perSecond?: SecondSample[] }} v
 */
function series(v) {
  const out = [];
  const p = v.perSecondRssFromProc ?? [];
  out.push(`  t(s)          ${p.map((x) => String(Math.round(x.t)).padStart(6)).join('')}`);
  out.push(`  RSS MB (proc) ${p.map((x) => String(Math.round(x.rssMB ?? 0)).padStart(6)).join('')}`);
  out.push(
    `  heapUsed MB (in-process, t:MB): ${(v.perSecond ?? []).map((x) => `${x.t}:${Math.round(x.heapMB ?? 0)}`).join(' ')}`,
  );
  return out;
}

/** @param {Record<string, number> | undefined} o */
const codes = (o) => {
  const e = Object.entries(o ?? {});
  return e.length ? e.map(([k, v]) => `${k}×${v}`).join(' ') : '0';
};

/** @param {SessionsAfter | undefined} s */
const sessionsText = (s) =>
  !s
    ? '-'
    : s.failure
      ? `? (${s.failure})`
      : s.returnedToZero
        ? `0 (${s.waitedMs} ms)`
        : `${s.sessions} (${s.suspended} suspended)`;

/**
 * The closes the server made or saw: `code reason` of its channel events, else of its disconnect events.
 * @param {Common} v
 */
const closesText = (v) => {
  const ch = v.serverChannelEvents ?? [];
  const d = v.serverDisconnectEvents ?? [];
  const list = ch.length
    ? ch.map((e) => `${e.event} ${e.code} "${e.reason}"`)
    : d.map((e) => `${e.code} "${e.reason}"`);
  return list.length ? list.join('; ') : 'none';
};

/** @param {Results} r */
function table(r) {
  const S = r.scenarios;
  const lines = [];
  /** @param {unknown} s @param {number} n */
  const pad = (s, n) => String(s ?? '-').padEnd(n);
  lines.push('');
  lines.push(
    `ActorSpace flow figures [${r.label}] protocol v${r.protocolVersion} commit ${r.commit?.slice(0, 12)} ${r.dirtyFiles ? `(uncommitted: ${r.uncommitted?.join(', ')})` : ''} node ${r.node}, ${r.cpus} cpus`,
  );
  lines.push('');
  lines.push('A/B: tells in bursts of 1,000 per event-loop turn');
  const hdr = [
    'scenario',
    'sent',
    'threw at sender',
    'delivered',
    'order (gaps/backwards)',
    'error events seen',
    'wall ms',
    'srv peak RSS MB',
    'sessions after',
    'server closes',
  ];
  const w = [22, 8, 26, 10, 22, 38, 8, 15, 15, 30];
  lines.push(hdr.map((h, i) => pad(h, w[i] ?? 10)).join(' '));
  for (const [k, res] of Object.entries(S)) {
    if (!k.startsWith('A_') && !k.startsWith('B_')) continue;
    if (res.failure || res.skipped) {
      lines.push(
        `${pad(k, w[0] ?? 22)} ${res.failure ? `FAILED: ${res.failure}` : `skipped (${res.skipped})`}`,
      );
      continue;
    }
    let cells;
    if (k.startsWith('A_')) {
      const v = /** @type {AResult} */ (res);
      cells = [
        v.total,
        `${v.tellThrew} ${v.tellThrew ? `(${codes(v.tellThrewByCode)})` : ''}`,
        v.serverReceived,
        `${v.inOrder ? 'in order' : 'REORDERED'} ${v.gaps}/${v.backwards}`,
        `client ${v.sessionErrorEvents?.count} (${codes(v.sessionErrorEvents?.byCode)})`,
        v.wallMs,
        v.peakRssMB,
      ];
    } else {
      const v = /** @type {BResult} */ (res);
      cells = [
        v.total,
        `${v.remoteTellThrew} ${v.remoteTellThrew ? `(${codes(v.remoteTellThrewByCode)})` : ''}`,
        v.clientDelivered,
        `${v.inOrder ? 'in order' : 'REORDERED'} ${v.gaps}/${v.backwards}`,
        `server ${codes(v.serverErrorEvents)}; client ${v.clientSessionErrorEvents?.count}`,
        v.wallMs,
        v.peakRssMB,
      ];
    }
    cells.push(sessionsText(res.sessionsAfter), closesText(res));
    lines.push([k, ...cells].map((c, i) => pad(c, w[i] ?? 10)).join(' '));
  }
  for (const k of [
    'C_paused_nonResumable',
    'C_paused_resumable',
    'C_paused_nonResumable_hb2s',
    'C_paused_resumable_hb2s',
  ]) {
    const v = /** @type {CResult | undefined} */ (S[k]);
    if (!v) continue;
    lines.push('');
    if (v.failure || v.skipped) {
      lines.push(`${k}: ${v.failure ? `FAILED: ${v.failure}` : `skipped (${v.skipped})`}`);
      continue;
    }
    const hb = v.serverOptions?.heartbeat;
    const close = v.serverClose
      ? `at ${v.serverClose.atMs} ms, ${v.serverClose.code} "${v.serverClose.reason}" (${v.serverClose.how})`
      : `no (within ${Math.round((v.pausedForMs ?? 0) / 1000)} s)`;
    const wire = v.afterPause
      ? `; reading again, the client got ${v.afterPause.messages} messages (${v.afterPause.MB} MB) then ${v.afterPause.close.closed ? `close ${v.afterPause.close.code} "${v.afterPause.close.reason}"` : `no close within ${v.afterPause.readAgainMs} ms`}`
      : '';
    lines.push(
      `${k}: client paused ${Math.round((v.pausedForMs ?? 0) / 100) / 10} s, server heartbeat ${hb?.interval}/${hb?.timeout} ms; remote.tell ok ${v.remoteTellOk}, threw ${v.remoteTellThrew} (${codes(v.remoteTellThrewByCode)})`,
    );
    lines.push(`  server closed it: ${close}${wire}`);
    lines.push(
      `  peak RSS ${v.peakRssMB} MB (VmHWM ${v.serverVmHWM_MB} MB), peak channel.bufferedAmount ${v.peakChannelBufferedMB} MB, longest event-loop stall ${v.maxEventLoopStallMs} ms, sessions after: ${sessionsText(v.sessionsAfter)}${v.rssCapHitAtMs ? `; SAFETY CAP hit at ${v.rssCapHitAtMs} ms, pushing stopped` : ''}`,
    );
    lines.push(...series(v));
    lines.push(
      `  socket write queue MB (in-process, t:MB): ${(v.perSecond ?? []).map((x) => `${x.t}:${Math.round(x.socketQueuedMB ?? 0)}`).join(' ')}`,
    );
    lines.push(
      `  channel.bufferedAmount MB (in-process, t:MB): ${(v.perSecond ?? []).map((x) => `${x.t}:${x.channelBufferedMB}`).join(' ')}`,
    );
  }
  const d = /** @type {DResult | undefined} */ (S.D_noAck_flood);
  if (d) {
    lines.push('');
    if (d.failure || d.skipped)
      lines.push(`D_noAck_flood: ${d.failure ? `FAILED: ${d.failure}` : `skipped (${d.skipped})`}`);
    else {
      const sent = d.clientSent;
      const got = d.clientReceived;
      lines.push(
        `D_noAck_flood: ${d.seconds} s; client sent ${sent?.asks} asks + ${sent?.badTells} bad tells (${sent?.creditBytes} credit bytes, window ${d.windowFromWelcome}, waited for credit ${sent?.waitsForCredit}×, never past the window: ${sent?.neverPastWindow}); got ${got?.resolves} resolves, rejects ${codes(got?.rejects)}, errors ${codes(got?.errors)}, ${got?.credits} CREDIT frames, ${got?.acksFromServer} ACKs`,
      );
      lines.push(
        `  client saw close: ${d.clientSawClose?.closed ? `${d.clientSawClose.code} "${d.clientSawClose.reason}" at ${d.clientSawClose.atMs} ms` : 'no'}; server closes: ${closesText(d)}; server alive at end: ${d.serverAliveAtEnd}; sessions after: ${sessionsText(d.sessionsAfter)}`,
      );
      lines.push(
        `  server asks handled ${d.serverAsksHandled}; peak RSS ${d.peakRssMB} MB (VmHWM ${d.serverVmHWM_MB} MB), peak heap ${d.peakHeapUsedMB} MB, longest event-loop stall ${d.maxEventLoopStallMs} ms`,
      );
      if (d.perSecond) lines.push(...series(d));
    }
  }
  const e = /** @type {EResult | undefined} */ (S.E);
  if (e) {
    lines.push('');
    lines.push(
      e.failure && e.serverSurvived === undefined
        ? `E: FAILED: ${e.failure}`
        : `E (HELLO actor of 300 chars): server ${e.serverSurvived ? 'survived' : `DIED (exit code ${e.serverExitCode}, signal ${e.serverExitSignal})`}; client got ${JSON.stringify(e.framesClientGot)}, close ${e.clientClose?.closed ? `${e.clientClose.code} "${e.clientClose.reason}"` : 'none'}; ${e.serverSurvived ? `a normal client afterwards got ${JSON.stringify(e.normalClientAfterwards)}; server errors ${codes(e.serverErrorEvents)}; sessions after: ${sessionsText(e.sessionsAfter)}` : ''}${e.serverStderrHead ? `stderr: ${e.serverStderrHead.split('\n').find((l) => /Error:/.test(l)) ?? ''}` : ''}${e.failure ? `; FAILED: ${e.failure}` : ''}`,
    );
  }
  return lines.join('\n');
}

// ---- entry point ----------------------------------------------------------------------

if (argv[0] === '--server') await runServer();
else await main();
