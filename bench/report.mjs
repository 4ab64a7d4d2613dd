#!/usr/bin/env node
// @ts-check
/**
 * Turn a results JSON (from bench/run.mjs) into docs/benchmarks.md and docs/benchmarks.svg.
 *
 *   node bench/report.mjs [results.json] [--md=docs/benchmarks.md] [--svg=docs/benchmarks.svg] [--stdout]
 *
 * Defaults: bench/results/latest.json -> docs/benchmarks.md + docs/benchmarks.svg.
 * Every ratio is "system median / floor median" from the same run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = resolve(benchDir, '..');

/** Name of the ActorSpace system in results (see bench/systems/index.mjs). */
const ACTORSPACE = 'actorspace';

/** Byte thresholds of the absolute targets (kB = 1,000 bytes, as size-limit reads "kB"). */
const KB = 1000;

/**
 * @typedef {{ values: (number|null)[], median: number|null, min: number|null, max: number|null, n: number }} Metric
 * @typedef {{ label: string, notes?: string, metrics: Record<string, Metric>, failures: { rep: number, case: string, error: string }[], rich: { exact: boolean, reason?: string } | null }} SystemResult
 * @typedef {{ entry: string|null, minBytes: number|null, gzipBytes: number|null, note?: string, error?: string, modules?: Array<{ module: string, minBytes: number }> }} BundleResult
 * @typedef {object} Results
 * @property {string} date
 * @property {boolean} quick
 * @property {any} machine
 * @property {{ available: boolean, used: boolean, note: string }} pinning
 * @property {number} reps
 * @property {number} repsPlanned
 * @property {number} [idleReps]
 * @property {number} wallSeconds
 * @property {Record<string, number>} counts
 * @property {Record<string, string|null>} versions
 * @property {string} floor
 * @property {Record<string, SystemResult>} systems
 * @property {Record<string, BundleResult>} bundles
 * @property {FanoutResult} [fanout]
 */
/**
 * The fan-out section (bench/lib/fanout-run.mjs).
 * @typedef {object} FanoutResult
 * @property {string} date
 * @property {boolean} quick
 * @property {number} reps
 * @property {number} repsPlanned
 * @property {number} wallSeconds
 * @property {number[]} loadAvgAtStart
 * @property {number[] | null} loadAvgAtEnd
 * @property {{ subscribers: number, procs: number, perProc: number[], connectConcurrency: number, warmup: number, events: number, window: number, burst: number, pacedEvents: number, pacedRate: number }} counts
 * @property {string} reference
 * @property {number} target
 * @property {string} clock
 * @property {Record<string, { label: string, notes: string, metrics: Record<string, Metric>, failures: { rep: number, case: string, error: string }[], checks: any[] }>} systems
 */

// ───────────────────────────── formatting ─────────────────────────────

/** @param {number | null | undefined} n @param {number} [d] */
function num(n, d = 0) {
  if (n == null || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
}

/** Decimals that keep ~3 significant digits for small values. @param {number} v */
function autoDigits(v) {
  const a = Math.abs(v);
  return a >= 100 ? 0 : a >= 10 ? 1 : 2;
}

/**
 * "median (min–max)" or just the value with a single rep.
 * @param {Metric | undefined} m
 * @param {number} [d] decimals (default: automatic)
 */
function cell(m, d) {
  if (!m || m.median == null) return '—';
  const dd = d ?? autoDigits(m.median);
  if (m.n > 1 && m.min != null && m.max != null)
    return `${num(m.median, dd)} (${num(m.min, dd)}–${num(m.max, dd)})`;
  return num(m.median, dd);
}

/** @param {number | null | undefined} r */
function ratio(r) {
  if (r == null || !Number.isFinite(r)) return '—';
  return `${r.toFixed(2)}×`;
}

/**
 * @param {Metric | undefined} m
 * @param {Metric | undefined} base
 */
function rel(m, base) {
  // Ratios of positive quantities only: a non-positive floor (e.g. an RSS delta lost in noise) has none.
  if (!m || !base || m.median == null || base.median == null || !(base.median > 0)) return null;
  return m.median / base.median;
}

/** @param {string} s */
const esc = (s) => s.replace(/\|/g, '\\|');

/**
 * @param {string[]} head
 * @param {string[][]} rows
 * @param {string} [align] one letter per column, l or r (default: first left, the rest right)
 */
function table(head, rows, align = 'l' + 'r'.repeat(head.length - 1)) {
  const sep = head.map((_, i) => ((align[i] ?? 'r') === 'r' ? '---:' : '---'));
  const lines = [`| ${head.join(' | ')} |`, `|${sep.join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

// ───────────────────────────── targets ─────────────────────────────

/**
 * @param {Results} res
 * @returns {{ name: string, threshold: string, measured: string, pass: boolean | null }[]}
 */
export function evaluateTargets(res) {
  const f = res.systems[res.floor]?.metrics ?? {};
  const a = res.systems[ACTORSPACE];
  const m = a?.metrics ?? {};
  /** @param {number | null} v @param {(v: number) => boolean} ok */
  const judge = (v, ok) => (v == null || !Number.isFinite(v) ? null : ok(v));
  const askR = rel(m.askReqPerSec, f.askReqPerSec);
  const richR = rel(m.richReqPerSec, f.askReqPerSec);
  const tellR = rel(m.tellMsgsPerSec, f.tellMsgsPerSec);
  const p50R = rel(m.latencyPinnedP50Us, f.latencyPinnedP50Us);
  const rss = m.idleRssBytesPerConn?.median ?? null;
  const bundle = res.bundles[ACTORSPACE]?.gzipBytes ?? null;
  const richLossy = a?.rich && !a.rich.exact;
  return [
    {
      name: 'Ask throughput (plain, 100 in flight)',
      threshold: '≥ 1.00× floor',
      measured: ratio(askR),
      pass: judge(askR, (v) => v >= 1.0),
    },
    {
      name: 'Ask throughput, rich payload (Date + Map)',
      threshold: "≥ 0.50× floor's plain",
      measured: richLossy ? 'n/a (lossy)' : ratio(richR),
      pass: richLossy ? false : judge(richR, (v) => v >= 0.5),
    },
    {
      name: 'Tell throughput (msgs/s at the server)',
      threshold: '≥ 1.50× floor',
      measured: ratio(tellR),
      pass: judge(tellR, (v) => v >= 1.5),
    },
    {
      name: 'Ask latency p50, pinned (1 in flight)',
      threshold: '≤ 1.15× floor',
      measured: ratio(p50R),
      pass: judge(p50R, (v) => v <= 1.15),
    },
    {
      name: 'Server memory per idle connection (RSS)',
      threshold: `≤ 16 kB (${num(16 * KB)} B)`,
      measured:
        rss == null
          ? '—'
          : `${num(rss)} B (${ratio(rel(m.idleRssBytesPerConn, f.idleRssBytesPerConn))} floor)`,
      pass: judge(rss, (v) => v <= 16 * KB),
    },
    {
      name: 'Browser bundle `connect` (min + gzip -9)',
      threshold: `≤ 10 kB (${num(10 * KB)} B)`,
      measured: bundle == null ? (res.bundles[ACTORSPACE]?.error ? 'not bundled' : '—') : `${num(bundle)} B`,
      pass: judge(bundle, (v) => v <= 10 * KB),
    },
  ];
}

// ───────────────────────────── SVG chart ─────────────────────────────

/** @param {string} s */
const xml = (s) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Grouped horizontal bars of "× floor" per measure, one panel per measure.
 * @param {Results} res
 * @param {string[]} names
 */
export function renderSvg(res, names) {
  const f = res.systems[res.floor]?.metrics ?? {};
  /** @type {{ title: string, metric: string, base?: string, better: 'higher' | 'lower' }[]} */
  const panels = [
    { title: 'Ask throughput (req/s)', metric: 'askReqPerSec', better: 'higher' },
    { title: 'Tell throughput (msgs/s)', metric: 'tellMsgsPerSec', better: 'higher' },
    {
      title: 'Rich ask throughput (vs floor plain)',
      metric: 'richReqPerSec',
      base: 'askReqPerSec',
      better: 'higher',
    },
    { title: 'Ask latency p50, pinned', metric: 'latencyPinnedP50Us', better: 'lower' },
    { title: 'Server CPU per ask', metric: 'askServerCpuUsPerReq', better: 'lower' },
    { title: 'Server RSS per idle connection', metric: 'idleRssBytesPerConn', better: 'lower' },
  ];
  const palette = [
    '#8a8f98',
    '#4e79a7',
    '#f28e2b',
    '#59a14f',
    '#b07aa1',
    '#76b7b2',
    '#edc948',
    '#ff9da7',
    '#9c755f',
  ];
  const color = (/** @type {string} */ n, /** @type {number} */ i) =>
    n === res.floor
      ? palette[0]
      : n === ACTORSPACE
        ? '#e15759'
        : palette[1 + ((i - 1 + palette.length - 1) % (palette.length - 1))];

  const W = 760;
  const labelW = 190;
  const valueW = 70;
  const barH = 14;
  const gap = 4;
  const panelGap = 18;
  const titleH = 18;
  const plotW = W - labelW - valueW - 20;
  let y = 36;
  /** @type {string[]} */
  const body = [];
  for (const p of panels) {
    const rows = names.map((n) => {
      const m = res.systems[n]?.metrics ?? {};
      const lossy = p.metric.startsWith('rich') && res.systems[n]?.rich && !res.systems[n].rich?.exact;
      return { n, r: lossy ? null : rel(m[p.metric], f[p.base ?? p.metric]), lossy };
    });
    const maxR = Math.max(1.25, ...rows.map((r) => r.r ?? 0));
    const scaleMax = Math.min(4, Math.ceil(maxR * 4) / 4);
    const x = (/** @type {number} */ r) => labelW + (Math.min(r, scaleMax) / scaleMax) * plotW;
    body.push(
      `<text x="10" y="${y + 12}" class="t">${xml(p.title)} <tspan class="s">— × floor, ${p.better} is better</tspan></text>`,
    );
    y += titleH + 2;
    // The 1.00x reference line goes first so bars and labels are drawn over it.
    const x1 = x(1).toFixed(1);
    const bottom = y + rows.length * (barH + gap) - gap;
    body.push(`<line x1="${x1}" x2="${x1}" y1="${y - 3}" y2="${bottom + 3}" class="one"/>`);
    rows.forEach((row, i) => {
      const label = res.systems[row.n]?.label ?? row.n;
      body.push(
        `<text x="${labelW - 6}" y="${y + barH - 3}" class="l" text-anchor="end">${xml(label)}</text>`,
      );
      if (row.r == null) {
        body.push(
          `<text x="${labelW + 4}" y="${y + barH - 3}" class="s">${row.lossy ? 'n/a (lossy)' : 'not measured'}</text>`,
        );
      } else {
        const w = Math.max(1, x(row.r) - labelW);
        body.push(
          `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color(row.n, i)}" rx="2"/>`,
        );
        const clipped = row.r > scaleMax ? ' ▸' : '';
        body.push(
          `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 3}" class="v">${row.r.toFixed(2)}×${clipped}</text>`,
        );
      }
      y += barH + gap;
    });
    y += panelGap;
  }
  const H = y + 8;
  const sub = `${res.quick ? 'QUICK smoke run (not comparable) · ' : ''}${res.reps} rep(s), medians · node ${res.machine?.node} · ${res.machine?.cpus} × ${res.machine?.cpuModel} · ${res.date?.slice(0, 10)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
  .h { font-size: 15px; font-weight: 600; fill: #222; }
  .t { font-size: 12.5px; font-weight: 600; fill: #222; }
  .s { font-size: 11px; font-weight: 400; fill: #666; }
  .l { font-size: 11.5px; fill: #333; }
  .v { font-size: 11px; fill: #333; }
  .one { stroke: #222; stroke-width: 1; stroke-dasharray: 3 2; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="18" class="h">Ratio to the floor (raw ws + JSON = 1.00×, dashed line)</text>
<text x="10" y="31" class="s">${xml(sub)}</text>
${body.join('\n')}
</svg>
`;
}

// ───────────────────────────── fan-out ─────────────────────────────

/**
 * The "Fan-out" section: one server-side publisher, many WebSocket subscribers.
 * @param {FanoutResult} fo
 * @returns {string[]} markdown lines
 */
export function renderFanout(fo) {
  const c = fo.counts;
  const names = Object.keys(fo.systems);
  const ref = fo.systems[fo.reference]?.metrics ?? {};
  const L = (/** @type {string} */ n) => {
    const label = esc(fo.systems[n]?.label ?? n);
    return n === ACTORSPACE || n === fo.reference ? `**${label}**` : label;
  };
  /** @type {string[]} */
  const out = [];
  out.push(`## Fan-out (one publisher, ${num(c.subscribers)} subscribers)`);
  out.push('');
  if (fo.quick) {
    out.push(
      '> **Warning: QUICK smoke run** of the fan-out section (1 rep, fewer events). Do not compare or quote these figures.',
    );
    out.push('');
  }
  const tr = rel(fo.systems[ACTORSPACE]?.metrics.deliveriesPerSec, ref.deliveriesPerSec);
  const refLabel = esc(fo.systems[fo.reference]?.label ?? fo.reference);
  out.push(
    `Server code publishes events to one topic, and ${num(c.subscribers)} subscribers receive them over WebSocket, spread over ${c.procs} subscriber processes (${c.perProc.map((x) => num(x)).join(' + ')}). Ratios are against **${refLabel}**. Measured ${fo.date.slice(0, 16).replace('T', ' ')} UTC: ${fo.reps}${fo.reps !== fo.repsPlanned ? ` of ${fo.repsPlanned} planned (time budget)` : ''} interleaved rep(s), cells are median (min–max), ${num(fo.wallSeconds)} s for the section. Load average (1 min) at start / end: ${num(fo.loadAvgAtStart?.[0], 2)} / ${num(fo.loadAvgAtEnd?.[0], 2)}.`,
  );
  out.push('');
  out.push(
    table(
      ['goal', 'threshold', 'measured (median)', 'result'],
      [
        [
          'ActorSpace fan-out deliveries/s',
          `≥ ${fo.target.toFixed(2)}× ${refLabel}`,
          ratio(tr),
          tr == null || !Number.isFinite(tr) ? 'not measured' : tr >= fo.target ? '✅ pass' : '❌ miss',
        ],
      ],
      'llrl',
    ),
  );
  out.push('');
  out.push(
    table(
      [
        'system',
        'deliveries/s',
        `× ${esc(fo.systems[fo.reference]?.label.split(' ')[0] ?? fo.reference)}`,
        'server CPU µs/delivery',
        'client CPU µs/delivery',
        `p50 ms (${num(c.pacedRate)}/s)`,
        `p99 ms (${num(c.pacedRate)}/s)`,
        'p50 ms (loaded)',
        'p99 ms (loaded)',
        'every event once, in order',
      ],
      names.map((n) => {
        const s = fo.systems[n];
        const m = s.metrics;
        const failed = s.failures.length;
        const bad = m.failedDeliveries?.max ?? null;
        const check =
          s.checks.length === 0
            ? failed
              ? 'failed (see below)'
              : '—'
            : bad
              ? `❌ ${num(bad)} bad or missing`
              : `✅ ${s.checks.length}/${s.checks.length} rep(s)`;
        return [
          L(n),
          cell(m.deliveriesPerSec, 0),
          ratio(rel(m.deliveriesPerSec, ref.deliveriesPerSec)),
          cell(m.serverCpuUsPerDelivery, 1),
          cell(m.clientCpuUsPerDelivery, 1),
          cell(m.pacedP50Ms, 1),
          cell(m.pacedP99Ms, 1),
          cell(m.loadedP50Ms, 1),
          cell(m.loadedP99Ms, 1),
          check,
        ];
      }),
      'lrrrrrrrrl',
    ),
  );
  out.push('');
  const other = names.flatMap((n) => fo.systems[n].metrics.otherCpus?.values ?? []).filter((v) => v != null);
  const otherMax = other.length ? Math.max(.../** @type {number[]} */ (other)) : null;
  out.push(
    [
      `- **Deliveries/s** = events received by all subscribers ÷ (last delivery − first publish), over a run of ${num(c.events)} events (${num(c.events * c.subscribers)} deliveries) after ${num(c.warmup)} warm-up events. The publisher publishes one event per event-loop turn${c.burst > 1 ? ` (here ${c.burst} per turn)` : ''}, as server code reacting to one input at a time would, and never gets more than ${num(c.window)} events ahead of the slowest subscriber process: each subscriber process reports on a side channel the last event all its subscribers have, so no queue in either system grows without bound and the rate is the one they sustain. Each event goes to every subscriber, so ${num(c.subscribers)} deliveries per event.`,
      '- **CPU µs/delivery**: `process.cpuUsage()` (user + system) of the server process, and of the subscriber processes summed, over the measured run, divided by the deliveries. With 2 CPUs shared by all the processes, deliveries/s follows the sum of the two.',
      `- **Latency** = receive time − publish time. The publisher puts \`performance.timeOrigin + performance.now()\` in the event and each subscriber subtracts it from its own clock of the same kind: wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine (monotonic hrtime is not). The **${num(c.pacedRate)}/s** columns publish ${num(c.pacedEvents)} events at a fixed ${num(c.pacedRate)} events/s (${num(c.pacedRate * c.subscribers)} deliveries/s offered, the same for every system and below what each sustains): the time an event takes to reach the subscribers, the last of which waits for the server to write to the ${num(c.subscribers - 1)} before it. The **loaded** columns come from the deliveries/s run (up to ${num(c.window)} events queued).`,
      '- **Gathering**: an ActorSpace topic sends an event at once while the topic is quiet (the paced columns), and gathers the events published within `batch` ms (default 1) of its last send while it is busy: each subscriber then gets one WebSocket message per send with every event since the last, one write instead of several. That is where the deliveries/s come from, and why the loaded latency is higher: an event published during a send to 1,000 subscribers waits for the next one. The `batch: 0` row writes every event at once, as Socket.IO and the raw floor do.',
      `- **Checked**: every subscriber must receive every event of every phase exactly once and in order (by the id the publisher numbers them with). Anything else is counted and listed below.`,
      `- Payload: the plain payload \`{ id, text: "hello world", tags: ["a","b"], at: Date.now() }\` plus \`sentAt\`. Fresh server and subscriber processes for each system and rep, connections opened ${num(c.connectConcurrency)} at a time per process. All processes share the machine's CPUs, unpinned.${otherMax != null ? ` Other work on the machine (CPU time not spent by the bench's processes, from \`/proc/stat\`) took up to ${num(otherMax, 2)} CPUs on average during a measured run.` : ''}`,
      '- Rerun this section alone with `node bench/run.mjs --only-section=fanout` (the other sections keep their figures); see `bench/README.md` for its options.',
    ].join('\n'),
  );
  out.push('');
  out.push('| system | how |');
  out.push('|---|---|');
  for (const n of names) out.push(`| ${L(n)} | ${esc(fo.systems[n].notes)} |`);
  out.push('');
  const fails = names.flatMap((n) => fo.systems[n].failures.map((x) => ({ n, ...x })));
  if (fails.length) {
    out.push('Failed fan-out cases:');
    out.push('');
    out.push(
      table(
        ['system', 'rep', 'case', 'error'],
        fails.map((x) => [L(x.n), String(x.rep), x.case, esc(x.error)]),
        'lrll',
      ),
    );
    out.push('');
  }
  return out;
}

// ───────────────────────────── markdown ─────────────────────────────

/**
 * @param {Results} res
 * @param {{ svgName?: string, source?: string }} [o]
 */
export function renderMarkdown(res, o = {}) {
  const names = Object.keys(res.systems);
  const floor = res.systems[res.floor];
  const f = floor?.metrics ?? {};
  const L = (/** @type {string} */ n) => {
    const s = res.systems[n];
    const label = esc(s?.label ?? n);
    return n === res.floor ? `**${label}**` : n === ACTORSPACE ? `**${label}**` : label;
  };
  /**
   * One row per system: each metric's median cell, followed by its ratio to the floor when asked.
   * @param {Array<[string, number, boolean]>} cols metric key, digits, with ratio
   */
  const metricRows = (cols) =>
    names.map((n) => {
      const m = res.systems[n].metrics;
      return [
        L(n),
        ...cols.flatMap(([key, digits, withRatio]) =>
          withRatio ? [cell(m[key], digits), ratio(rel(m[key], f[key]))] : [cell(m[key], digits)],
        ),
      ];
    });
  const c = res.counts ?? {};
  const pinnedWord = res.pinning?.used ? 'pinned' : 'shared (NOT pinned: taskset unavailable)';
  /** @type {string[]} */
  const out = [];

  out.push('# Benchmarks');
  out.push('');
  out.push(
    `<!-- Generated by bench/report.mjs from ${o.source ?? 'bench/results/latest.json'}. Do not edit by hand: rerun the benchmark. -->`,
  );
  out.push('');
  if (res.quick) {
    out.push(
      '> **Warning: QUICK smoke run** (1 rep, a tenth of the counts). These figures check that the harness works. Do not compare them or quote them.',
    );
    out.push('');
  }
  out.push(
    `ActorSpace's wire performance is measured next to its peers in a single run of \`bench/run.mjs\`. A ratio is a system's median divided by the **floor's** median from the same run. The floor is raw \`ws\` + JSON with a numeric correlation id and one \`ws.send\` per message. Absolute numbers change between machines and between runs, so compare ratios.`,
  );
  out.push('');
  const mc = res.machine ?? {};
  out.push(
    table(
      ['run', ''],
      [
        ['date', res.date],
        [
          'machine',
          `${mc.cpus} × ${esc(mc.cpuModel ?? '?')}, ${num((mc.totalMemBytes ?? 0) / 2 ** 30, 0)} GiB, ${esc(mc.platform ?? '')}`,
        ],
        ['node', `${mc.node} (V8 ${mc.v8})`],
        [
          'repetitions',
          `${res.reps}${res.reps !== res.repsPlanned ? ` of ${res.repsPlanned} planned (time budget)` : ''}, interleaved across systems; cells are median (min–max)`,
        ],
        ['CPU pinning for p50', esc(res.pinning?.note ?? 'unknown')],
        ['wall time', `${num(res.wallSeconds)} s`],
        [
          'load average (1 min) at start / end',
          `${num(mc.loadAvgAtStart?.[0], 2)} / ${num(mc.loadAvgAtEnd?.[0], 2)}. The benchmark keeps about 2 processes busy, so a higher value means other work shared the CPUs.`,
        ],
        [
          'versions',
          Object.entries(res.versions ?? {})
            .filter(([k, v]) => v && (!k.startsWith('@actorspace/') || names.includes(ACTORSPACE)))
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
      ],
      'll',
    ),
  );
  out.push('');
  out.push(`![Ratios to the floor](${o.svgName ?? 'benchmarks.svg'})`);
  out.push('');

  // Targets
  out.push('## Targets (ActorSpace)');
  out.push('');
  if (!res.systems[ACTORSPACE]) {
    out.push(
      `> The \`actorspace\` system was not part of this run because \`bench/systems/actorspace.mjs\` is missing or did not import. Its wire targets are not checked yet.${res.bundles?.[ACTORSPACE]?.gzipBytes != null ? ' The bundle row measures `@actorspace/browser` directly.' : ''}`,
    );
    out.push('');
  }
  const tg = evaluateTargets(res);
  out.push(
    table(
      ['target', 'threshold', 'measured (median)', 'result'],
      tg.map((t) => [
        t.name,
        t.threshold,
        res.systems[ACTORSPACE] || t.name.startsWith('Browser') ? t.measured : '—',
        t.pass == null ? 'not measured' : t.pass ? '✅ pass' : '❌ miss',
      ]),
      'llrl',
    ),
  );
  out.push('');
  out.push(
    `The latency target uses the pinned p50. The throughput targets use req/s and msgs/s medians, and the rich-payload target divides by the floor's **plain** median. The memory and bundle targets are absolute, with kB = 1,000 B.`,
  );
  out.push('');

  // Latency
  out.push('## Ask latency (1 in flight)');
  out.push('');
  out.push(
    `Each run makes ${num(c.latencyN)} sequential asks after ${num(c.latencyWarmup)} warm-up asks. The p50 comes from runs with both processes ${pinnedWord} on CPU 0 (\`taskset -c 0\`): ${c.pinnedRounds ?? 1} fresh process pairs per rep and system, interleaved across systems, of which the rep keeps the median, because one pinned pair can spend its whole run in a fast or a slow mode of the machine. The p99 comes from an unpinned run. A pinned p99 mostly measures GC helper threads competing for the single CPU, and an unpinned p50 can jump between scheduler placements. Both of those figures are still listed for reference. Lower is better.`,
  );
  out.push('');
  out.push(
    table(
      [
        'system',
        'p50 µs (pinned)',
        '× floor',
        'p99 µs (free)',
        '× floor',
        'p50 µs (free)',
        'p99 µs (pinned)',
      ],
      metricRows([
        ['latencyPinnedP50Us', 0, true],
        ['latencyFreeP99Us', 0, true],
        ['latencyFreeP50Us', 0, false],
        ['latencyPinnedP99Us', 0, false],
      ]),
    ),
  );
  out.push('');

  // Ask throughput
  out.push('## Ask throughput and CPU cost');
  out.push('');
  out.push(
    `Each run makes ${num(c.askN)} asks with ${num(c.inflight)} in flight, after ${num(c.askWarmup)} warm-up asks. Throughput is higher-is-better. CPU is lower-is-better: each process reports its \`process.cpuUsage()\` (user + system) delta over the measured window, divided by the number of asks. CPU per request is usually the steadiest figure.`,
  );
  out.push('');
  out.push(
    table(
      ['system', 'req/s', '× floor', 'server CPU µs/req', '× floor', 'client CPU µs/req', '× floor'],
      metricRows([
        ['askReqPerSec', 0, true],
        ['askServerCpuUsPerReq', 1, true],
        ['askClientCpuUsPerReq', 1, true],
      ]),
    ),
  );
  out.push('');

  // Tell
  out.push('## Tell throughput (one-way)');
  out.push('');
  out.push(
    `Each run sends ${num(c.tellN)} fire-and-forget messages in bursts of ${num(c.tellBurst)} per event-loop turn, after ${num(c.tellWarmup)} warm-up messages. The receiving server counts them, and the rate is taken from the first message received to the last. When every message is its own socket write, the sender is usually the bottleneck. The server's CPU per message isolates the receiving side.`,
  );
  out.push('');
  out.push(
    table(
      [
        'system',
        'msgs/s (at server)',
        '× floor',
        'server CPU µs/msg',
        '× floor',
        'client CPU µs/msg',
        '× floor',
      ],
      metricRows([
        ['tellMsgsPerSec', 0, true],
        ['tellServerCpuUsPerMsg', 2, true],
        ['tellClientCpuUsPerMsg', 2, true],
      ]),
    ),
  );
  out.push('');

  // Rich
  out.push('## Rich payload (Date + Map)');
  out.push('');
  out.push(
    `The rich payload is the plain one with \`at\` as a \`Date\` and a \`meta\` \`Map\` of two entries. Each system first echoes one rich payload and the result is checked for exact equality. Only systems whose echo is exact are measured, with ${num(c.richN)} asks and ${num(c.inflight)} in flight. Ratios are against the floor's **plain** payload, because the floor cannot carry this payload.`,
  );
  out.push('');
  out.push(
    table(
      ['system', 'round trip', 'req/s', '× floor plain', 'server CPU µs/req', '× floor plain'],
      names.map((n) => {
        const s = res.systems[n];
        const m = s.metrics;
        if (s.rich && !s.rich.exact)
          return [L(n), `lossy: ${esc(s.rich.reason ?? '')}`, 'n/a (lossy)', '—', 'n/a (lossy)', '—'];
        if (!s.rich) return [L(n), 'not checked', '—', '—', '—', '—'];
        return [
          L(n),
          'exact',
          cell(m.richReqPerSec, 0),
          ratio(rel(m.richReqPerSec, f.askReqPerSec)),
          cell(m.richServerCpuUsPerReq, 1),
          ratio(rel(m.richServerCpuUsPerReq, f.askServerCpuUsPerReq)),
        ];
      }),
      'llrrrr',
    ),
  );
  out.push('');

  // Idle memory
  out.push('## Server memory per idle connection');
  out.push('');
  out.push(
    `A fresh server process runs with \`--expose-gc\`. It forces GC and samples \`process.memoryUsage()\`. The client then opens ${num(c.idleConns)} connections${c.idleAskOnce ? ' and makes one ask on each' : ''} and leaves them idle. The server forces GC again and samples again. The figure is (after − before) / connections. RSS moves in whole pages and allocator chunks, so \`heapUsed\` is the finer of the two. Lower is better.`,
  );
  out.push('');
  out.push(
    table(
      ['system', 'RSS B/conn', '× floor', 'heapUsed B/conn', '× floor'],
      names.map((n) => {
        const m = res.systems[n].metrics;
        return [
          L(n),
          cell(m.idleRssBytesPerConn, 0),
          ratio(rel(m.idleRssBytesPerConn, f.idleRssBytesPerConn)),
          cell(m.idleHeapBytesPerConn, 0),
          ratio(rel(m.idleHeapBytesPerConn, f.idleHeapBytesPerConn)),
        ];
      }),
    ),
  );
  out.push('');

  if (res.fanout) out.push(...renderFanout(res.fanout));
  const gateway = readGateway();
  if (gateway) out.push(...renderGateway(gateway));
  const cluster = readCluster();
  if (cluster) out.push(...renderCluster(cluster));

  // Bundles
  out.push('## Browser bundle size');
  out.push('');
  out.push(
    `Each client entry is bundled by esbuild ${res.versions?.esbuild ?? ''} from one import statement, with \`bundle\`, \`minify\`, \`format: 'esm'\` and \`platform: 'browser'\`. Other options stay at their defaults, so license comments count. The output is then gzipped with \`node:zlib\` at level 9. The results can differ by a few bytes from the \`gzip -9 -n\` command line. Lower is better.`,
  );
  out.push('');
  const bundleNames = Object.keys(res.bundles ?? {});
  out.push(
    table(
      ['system', 'entry', 'min bytes', 'gzip -9 bytes'],
      bundleNames.map((n) => {
        const b = res.bundles[n];
        const label = res.systems[n] ? L(n) : esc(n);
        if (b.error)
          return [label, b.entry ? `\`${esc(b.entry)}\`` : '—', `not bundled: ${esc(b.error)}`, '—'];
        return [
          label,
          b.entry ? `\`${esc(b.entry)}\`` : esc(b.note ?? '—'),
          num(b.minBytes),
          num(b.gzipBytes),
        ];
      }),
      'llrr',
    ),
  );
  out.push('');
  const modules = res.bundles?.[ACTORSPACE]?.modules;
  if (modules?.length) {
    const total = modules.reduce((a, m) => a + m.minBytes, 0);
    out.push(`### Where ${L(ACTORSPACE)}'s bundle bytes go`);
    out.push('');
    out.push(
      'Minified bytes each source module contributes to the bundle above (gzip compresses the file as a whole, so there is no per-module gzip size). `node bench/bundle-breakdown.mjs` prints the same table.',
    );
    out.push('');
    out.push(
      table(
        ['module', 'min bytes', 'share'],
        modules.map((m) => [
          `\`${esc(m.module)}\``,
          num(m.minBytes),
          `${((m.minBytes / total) * 100).toFixed(1)}%`,
        ]),
        'lrr',
      ),
    );
    out.push('');
  }

  // Systems & notes
  out.push('## Systems');
  out.push('');
  for (const n of names)
    out.push(`- ${L(n)} (\`bench/systems/${n}.mjs\`): ${esc(res.systems[n].notes ?? '')}`);
  out.push('');

  const fails = names.flatMap((n) => res.systems[n].failures.map((x) => ({ n, ...x })));
  if (fails.length) {
    out.push('## Failed cases');
    out.push('');
    out.push(
      'A case that goes over its time cap, or that returns wrong replies, is recorded here. It contributes no figure for that repetition.',
    );
    out.push('');
    out.push(
      table(
        ['system', 'rep', 'case', 'error'],
        fails.map((x) => [L(x.n), String(x.rep), x.case, esc(x.error)]),
        'lrll',
      ),
    );
    out.push('');
  }

  out.push('## Method');
  out.push('');
  out.push(
    [
      '- The server and the client of each system run in **separate child processes** and talk over `127.0.0.1`. The server binds port 0 and prints the port it got.',
      '- Repetitions are **interleaved**: rep 1 of every system runs, then rep 2, and so on, and the system order rotates each rep. A slow moment on the machine therefore affects all systems rather than one.',
      `- Each rep starts process pairs per system. ${c.pinnedRounds ?? 1} pinned pairs, one after the other and interleaved across systems, measure latency. One unpinned pair measures free latency, asks, tells and the rich payload, in that order, with warm-up before each measure. Idle memory uses one more fresh pair, in ${(res.idleReps ?? 1) >= res.reps ? 'every rep' : (res.idleReps ?? 1) === 1 ? 'the first rep only' : `the first ${res.idleReps} reps only`}. It is not repeated more because heapUsed varies by about 1% between reps and setting up ${num(c.idleConns)} connections is slow.`,
      '- Every loop is bounded in count and in time. A case that goes over its cap is killed and recorded as failed.',
      '- The payload is `{ id, text: "hello world", tags: ["a","b"], at: Date.now() }`. The server handler echoes it, and the client checks that every reply carries the id of its request.',
      '- There is no TLS and per-message deflate is off. Browser-side runtime cost is not measured.',
    ].join('\n'),
  );
  out.push('');

  out.push('## How to rerun');
  out.push('');
  out.push(
    [
      '```sh',
      `pnpm bench                      # build the packages, then a full run (${res.quick ? 'about 6 min' : `${Math.max(1, Math.round(res.wallSeconds / 60))} min here`}); rewrites this page`,
      'node bench/run.mjs --quick      # smoke run: 1 rep, a tenth of the counts (results/quick.tmp.json, docs untouched)',
      'node bench/run.mjs --only=birpc,capnweb   # a subset (the floor always runs)',
      'node bench/report.mjs           # regenerate docs/benchmarks.md + .svg from bench/results/latest.json',
      '```',
      '',
      'Raw results, including every repetition, are in `bench/results/latest.json`. To add a system, see `bench/README.md`.',
    ].join('\n'),
  );
  out.push('');
  return out.join('\n');
}

/** bench/results/gateway.json (written by `node bench/gateway.mjs`), or null when it was never run. */
function readGateway() {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'results', 'gateway.json'), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The "Agent to tab" section: one agent asking a paired tab's actor through the gateway, beside
 * a direct WebSocket ask.
 * @param {any} g bench/results/gateway.json
 */
export function renderGateway(g) {
  /** @param {{ median: number, min: number, max: number } | null} s @param {number} d */
  const c = (s, d) => (s ? `${num(s.median, d)} (${num(s.min, d)}–${num(s.max, d)})` : '—');
  const base = g.ways.direct?.p50Ms?.median;
  return [
    '## Agent to tab (the gateway)',
    '',
    `One agent asks the \`echo\` of a paired "tab" (a Node client over a real loopback WebSocket, in the server's process), one ask at a time with the plain payload, ${num(g.asks)} asks after 200 warm-up asks, ${num(g.reps)} rep(s); cells are median (min–max) over the reps. Measured ${String(g.date).slice(0, 16).replace('T', ' ')} UTC, Node ${g.node}. \`node bench/gateway.mjs\` reruns it.`,
    '',
    table(
      ['way', 'p50 ms', 'p99 ms', '× direct p50', 'asks/s'],
      Object.values(g.ways).map((/** @type {any} */ w) => [
        esc(w.label),
        c(w.p50Ms, 3),
        c(w.p99Ms, 3),
        base && w.p50Ms ? ratio(w.p50Ms.median / base) : '—',
        c(w.asksPerSec, 0),
      ]),
      'lrrrr',
    ),
    '',
    "- The three gateway ways take two hops (agent → server → tab and back) where the direct ask takes one; HTTP adds a request per ask (keep-alive connection, JSON body, bearer check), and MCP adds JSON-RPC and the SDK's session handling on both ends.",
    '',
  ];
}

/** bench/results/cluster.json (written by `node bench/cluster.mjs`), or null when it was never run. */
function readCluster() {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'results', 'cluster.json'), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The "Many nodes" section: cross-node asks against single-node asks on each backplane, and a
 * topic's fan-out across three nodes against Socket.IO with its Redis adapter.
 * @param {any} c bench/results/cluster.json
 */
export function renderCluster(c) {
  /** @type {string[]} */
  const out = [];
  const v = c.versions ?? {};
  const asks = c.asks ?? { backplanes: {}, counts: {}, targets: {} };
  const fo = c.fanout ?? { systems: {}, counts: {} };
  const bps = Object.keys(asks.backplanes ?? {});
  const sysNames = Object.keys(fo.systems ?? {});
  const t = asks.targets ?? {};
  const ac = asks.counts ?? {};
  const fc = fo.counts ?? {};
  /** @param {any} m */
  const med = (m) => (m && m.median != null ? m.median : null);
  /** @param {number | null} r @param {number} th @param {'le' | 'ge'} dir */
  const verdict = (r, th, dir) =>
    r == null || !Number.isFinite(r)
      ? 'not measured'
      : (dir === 'le' ? r <= th : r >= th)
        ? '✅ pass'
        : '❌ miss';
  const bpLabel = (/** @type {string} */ b) => esc(asks.backplanes[b]?.label ?? b);
  const refLabel = esc(fo.systems?.[fo.reference]?.label ?? fo.reference ?? 'the reference');
  const refMetrics = fo.systems?.[fo.reference]?.metrics ?? {};

  out.push('## Many nodes (backplanes)');
  out.push('');
  if (c.quick) {
    out.push(
      '> **Warning: QUICK smoke run** of the many-nodes section (1 rep, fewer asks and events). Do not compare or quote these figures.',
    );
    out.push('');
  }
  if (c.experiment) {
    out.push(
      `> **Warning: experiment.** This run used non-default options (${esc(JSON.stringify(c.experiment))}); its figures are not those of ActorSpace as shipped.`,
    );
    out.push('');
  }
  out.push(
    `Several server processes (nodes) act as one through a broker: Redis (\`@actorspace/redis\`, redis-server ${v['redis-server'] ?? '?'}) or NATS (\`@actorspace/nats\`, nats-server ${v['nats-server'] ?? '?'} with JetStream). \`node bench/cluster.mjs\` starts its own brokers on free ports of 127.0.0.1 and every node, tab, agent and subscriber as a separate process, all on this one machine (${c.machine?.cpus ?? '?'} CPUs). Measured ${String(c.date).slice(0, 16).replace('T', ' ')} UTC, Node ${c.node}: ${num(c.reps)}${c.reps !== c.repsPlanned ? ` of ${num(c.repsPlanned)} planned` : ''} rep(s) interleaving every case, fresh processes for each case and rep; cells are median (min–max) over the reps; ${num(c.wallSeconds)} s for the section. Load average (1 min) at start / end: ${num(c.machine?.loadAvgAtStart?.[0], 2)} / ${num(c.machine?.loadAvgAtEnd?.[0], 2)}.`,
  );
  out.push('');

  // Goals
  /** @type {string[][]} */
  const goals = [];
  for (const b of bps) {
    const m = asks.backplanes[b].metrics ?? {};
    goals.push([
      `Cross-node ask p50 (${bpLabel(b)})`,
      `≤ ${num(t.p50Ratio, 2)}× single-node`,
      ratio(med(m.p50Ratio)),
      verdict(med(m.p50Ratio), t.p50Ratio, 'le'),
    ]);
    goals.push([
      `Cross-node ask throughput (${bpLabel(b)})`,
      `≥ ${num(t.throughputRatio, 2)}× single-node`,
      ratio(med(m.throughputRatio)),
      verdict(med(m.throughputRatio), t.throughputRatio, 'ge'),
    ]);
  }
  for (const n of sysNames) {
    if (n === fo.reference) continue;
    const r = rel(fo.systems[n].metrics?.deliveriesPerSec, refMetrics.deliveriesPerSec);
    goals.push([
      `Fan-out across ${fc.nodes ?? 3} nodes, deliveries/s (${esc(fo.systems[n].label)})`,
      `≥ ${num(fo.target, 2)}× ${refLabel}`,
      ratio(r),
      verdict(r, fo.target, 'ge'),
    ]);
  }
  out.push(table(['goal', 'threshold', 'measured (median)', 'result'], goals, 'llrl'));
  out.push('');
  // What the ask figures mean for the goals, from this run's numbers.
  /** @type {string[]} */
  const meaning = [];
  for (const b of bps) {
    const m = asks.backplanes[b].metrics ?? {};
    const p50 = med(m.p50Ratio);
    const single = med(m.singleP50Us);
    const cross = med(m.crossP50Us);
    const nodesCross = (med(m.crossCpu_A) ?? Number.NaN) + (med(m.crossCpu_B) ?? Number.NaN);
    const nodesSingle = (med(m.singleCpu_A) ?? Number.NaN) + (med(m.singleCpu_B) ?? Number.NaN);
    if (p50 == null || single == null || cross == null) continue;
    meaning.push(
      `- **${bpLabel(b)}**: a cross-node ask travels between the nodes on their direct link, not through the broker; the two more process hops put its p50 at ${num(cross)} µs against ${num(single)} µs on one node (${ratio(p50)}). For throughput, which CPU bounds here, it costs nodes A and B together ${num(nodesCross, 1)} µs of CPU against ${num(nodesSingle, 1)} µs for node B alone in the single-node way (${ratio(nodesCross / nodesSingle)}); the broker's part is ${num(med(m.crossCpu_broker), 1)} µs.`,
    );
  }
  if (meaning.length) {
    out.push(meaning.join('\n'));
    out.push('');
  }

  // Asks
  if (bps.length) {
    out.push('### Cross-node ask');
    out.push('');
    out.push(
      `A tab (a Node client whose root actor offers \`echo\` to services) is paired with node B. An agent process holds two services, one connected to node A and one to node B, each with a gateway reference to the tab (\`server.ask('client', id)\`), and asks \`echo\` with the plain payload. **Single-node**: the service on B asks (service → B → tab and back). **Cross-node**: the service on A asks (service → A → B over the nodes' direct link → tab and back). **Broker alone**: two more processes play ping-pong through the broker with the client library the backplane uses (ioredis, @nats-io/transport-node): what a round trip between nodes costs at least where links are off (\`cluster: { link: false }\`) and asks go through the broker. Latency: ${num(ac.latencyN)} sequential asks per way after ${num(ac.latencyWarmup)} warm-up, in ${num(ac.latencyRounds)} rounds alternating the ways, unpinned. Throughput: ${num(ac.askN)} asks with ${num(ac.inflight)} in flight after ${num(ac.askWarmup)}, alternating the ways in ${num(ac.askRounds)} rounds; CPU is \`process.cpuUsage()\` of each process (the broker's from \`/proc\`) over those asks, per ask.`,
    );
    out.push('');
    /** @param {any} m @param {string} w @param {string} who */
    const cpu = (m, w, who) => cell(m[`${w}Cpu_${who}`], 1);
    const otherAsks = bps
      .flatMap((b) => asks.backplanes[b].metrics?.otherCpus?.values ?? [])
      .filter((/** @type {number | null} */ x) => x != null);
    const askOther = otherAsks.length
      ? ` Other work on the machine (\`/proc/stat\` minus the bench's processes) took up to ${num(Math.max(...otherAsks), 2)} CPUs on average during a measured throughput round.`
      : '';
    out.push(
      table(
        [
          'backplane',
          'way',
          'p50 µs',
          'p99 µs',
          `asks/s (${num(ac.inflight)} in flight)`,
          'CPU µs/ask: agent',
          'node A',
          'node B',
          'tab',
          'broker',
        ],
        bps.flatMap((b) => {
          const m = asks.backplanes[b].metrics ?? {};
          /** @param {'single' | 'cross'} w @param {string} label */
          const way = (w, label) => [
            bpLabel(b),
            label,
            cell(m[`${w}P50Us`], 0),
            cell(m[`${w}P99Us`], 0),
            cell(m[`${w}AsksPerSec`], 0),
            ...['agent', 'A', 'B', 'tab', 'broker'].map((who) => cpu(m, w, who)),
          ];
          return [
            way('single', 'single-node (service on B)'),
            way('cross', '**cross-node** (service on A)'),
            [
              bpLabel(b),
              'broker round trip alone',
              cell(m.brokerP50Us, 0),
              cell(m.brokerP99Us, 0),
              '—',
              '—',
              '—',
              '—',
              '—',
              '—',
            ],
          ];
        }),
        'llrrrrrrrr',
      ),
    );
    out.push('');
    out.push(
      table(
        [
          'backplane',
          'p50 cross ÷ single',
          'p99 cross ÷ single',
          'throughput cross ÷ single',
          ...(asks.pinned ? ['p50 pinned: cross ÷ single'] : []),
          'p50 cross − single (µs)',
          'node CPU µs/ask, cross (A + B) vs single (B)',
        ],
        bps.map((b) => {
          const m = asks.backplanes[b].metrics ?? {};
          const crossNodes = (med(m.crossCpu_A) ?? Number.NaN) + (med(m.crossCpu_B) ?? Number.NaN);
          const singleNodes = (med(m.singleCpu_A) ?? Number.NaN) + (med(m.singleCpu_B) ?? Number.NaN);
          return [
            bpLabel(b),
            cell(m.p50Ratio, 2),
            cell(m.p99Ratio, 2),
            cell(m.throughputRatio, 2),
            ...(asks.pinned ? [cell(m.pinnedP50Ratio, 2)] : []),
            num((med(m.crossP50Us) ?? Number.NaN) - (med(m.singleP50Us) ?? Number.NaN)),
            `${num(crossNodes, 1)} vs ${num(singleNodes, 1)} (${ratio(crossNodes / singleNodes)})`,
          ];
        }),
        asks.pinned ? 'lrrrrrr' : 'lrrrrr',
      ),
    );
    out.push('');
    out.push(
      [
        `- Ratios are taken within each rep (same processes, same minute) and their median is shown.${asks.pinned ? ' "p50 pinned" comes from one more pass with every process of the case and the broker on CPU 0, where a round trip costs the CPU work along its path plus the switches between processes.' : ''}`,
        '- A cross-node ask makes the hops of a single-node ask plus one round trip between the nodes on their direct link (a TCP connection each node keeps to every other). "Cross − single" is what that round trip and the two nodes\' work on the message (encoding, decoding, matching the answer) add. The broker only carries who is where (sessions, heartbeats); with links off, each ask and answer would also cross it, adding at least its own round trip ("broker round trip alone").',
        `- Throughput on this machine is bounded by CPU: all the processes share the same ${c.machine?.cpus ?? 2} CPUs, so asks/s follow the CPU a cross-node ask costs in all of them together (the CPU columns), not the network. The last column is the nodes' part of it.`,
        `- The p50 and p99 are taken unpinned, so they include the VM's wake-up times, which dominate round trips this short and move the p50 from run to run (see the caveats of the "Ask latency" section); the p99 mostly shows GC and scheduling.${askOther}`,
      ].join('\n'),
    );
    out.push('');
  }

  // Fan-out
  if (sysNames.length) {
    out.push(`### Fan-out across ${fc.nodes ?? 3} nodes`);
    out.push('');
    out.push(
      `${num(fc.nodes)} node processes share one broker. ${num(fc.subscribers)} WebSocket subscribers are spread evenly over them (${(fc.perProc ?? []).map((/** @type {number} */ x) => num(x)).join(' + ')}, one subscriber process per node: the subscribers of the single-node fan-out section), and node 0's own server code publishes. ${refLabel} runs the same way in the same run: ${num(fc.nodes)} Socket.IO servers with \`@socket.io/redis-adapter\` ${v['@socket.io/redis-adapter'] ?? ''} (ioredis ${v.ioredis ?? ''}) on one Redis, a room joined by every subscriber, \`io.to(room).emit()\` on node 0. **Deliveries/s** = events × subscribers ÷ (last delivery − first publish) over ${num(fc.events)} events (${num((fc.events ?? 0) * (fc.subscribers ?? 0))} deliveries) after ${num(fc.warmup)} warm-up events, one published per event-loop turn and never more than ${num(fc.window)} ahead of the slowest subscriber process, as in the single-node fan-out section. Latency = receive − publish time; the **${num(fc.pacedRate)}/s** columns publish ${num(fc.pacedEvents)} events at ${num(fc.pacedRate)} per second.`,
    );
    out.push('');
    out.push(
      table(
        [
          'system',
          'deliveries/s',
          `× ${refLabel}`,
          'node CPU µs/delivery (all 3)',
          'subscriber CPU µs/delivery',
          'broker CPU µs/event',
          `p50 ms (${num(fc.pacedRate)}/s)`,
          `p99 ms (${num(fc.pacedRate)}/s)`,
          `p50 ms (${num(fc.pacedRate)}/s): node 0's / others'`,
          'p50 ms (loaded)',
          'p99 ms (loaded)',
          'every event once, in order',
        ],
        sysNames.map((n) => {
          const s = fo.systems[n];
          const m = s.metrics ?? {};
          const bad = m.failedDeliveries?.max ?? null;
          const check =
            (s.checks ?? []).length === 0
              ? s.failures?.length
                ? 'failed (see below)'
                : '—'
              : bad
                ? `❌ ${num(bad)} bad or missing`
                : `✅ ${s.checks.length}/${s.checks.length} rep(s)`;
          const label = esc(s.label ?? n);
          return [
            n.startsWith('actorspace') || n === fo.reference ? `**${label}**` : label,
            cell(m.deliveriesPerSec, 0),
            ratio(rel(m.deliveriesPerSec, refMetrics.deliveriesPerSec)),
            cell(m.nodesCpuUsPerDelivery, 1),
            cell(m.clientCpuUsPerDelivery, 1),
            cell(m.brokerCpuUsPerEvent, 0),
            cell(m.pacedP50Ms, 1),
            cell(m.pacedP99Ms, 1),
            `${num(med(m.pacedLocalP50Ms), 1)} / ${num(med(m.pacedRemoteP50Ms), 1)}`,
            cell(m.loadedP50Ms, 1),
            cell(m.loadedP99Ms, 1),
            check,
          ];
        }),
        'lrrrrrrrrrrl',
      ),
    );
    out.push('');
    out.push(
      [
        "- An ActorSpace topic on a backplane sends every event through the broker, which numbers it (a Lua script on Redis, the JetStream stream on NATS) and keeps the last 100 for recovery; every node, the publishing one included, then sends it to its own subscribers, gathering a busy topic's events as on one node. Socket.IO sends the event to the publishing server's own room members at once and PUBLISHes it to Redis for the others, without numbering or history. \"Node 0's / others'\" splits the paced p50 by where the subscribers are.",
        `- Every process shares the machine's ${c.machine?.cpus ?? 2} CPUs, so deliveries/s follow the CPU columns: the nodes' work per delivery (encoding, the writes to the subscribers) and the subscribers' reading. The broker's work is per event, not per delivery (its CPU time comes from \`/proc\` in 10 ms ticks, hence the round figures).`,
        `- Checked: every subscriber must receive every event of every phase exactly once and in order.${(() => {
          const other = sysNames
            .flatMap((n) => fo.systems[n].metrics?.otherCpus?.values ?? [])
            .filter((x) => x != null);
          return other.length
            ? ` Other work on the machine (\`/proc/stat\` minus the bench's processes) took up to ${num(Math.max(...other), 2)} CPUs on average during a measured run.`
            : '';
        })()}`,
      ].join('\n'),
    );
    out.push('');
    out.push('| system | how |');
    out.push('|---|---|');
    for (const n of sysNames)
      out.push(`| ${esc(fo.systems[n].label ?? n)} | ${esc(fo.systems[n].notes ?? '')} |`);
    out.push('');
  }

  const fails = [
    ...bps.flatMap((b) =>
      (asks.backplanes[b].failures ?? []).map((/** @type {any} */ x) => ({ n: bpLabel(b), ...x })),
    ),
    ...sysNames.flatMap((n) =>
      (fo.systems[n].failures ?? []).map((/** @type {any} */ x) => ({
        n: esc(fo.systems[n].label ?? n),
        ...x,
      })),
    ),
  ];
  if (fails.length) {
    out.push('Failed many-nodes cases:');
    out.push('');
    out.push(
      table(
        ['case', 'rep', 'what', 'error'],
        fails.map((x) => [x.n, String(x.rep), esc(x.case), esc(x.error)]),
        'lrll',
      ),
    );
    out.push('');
  }
  out.push(
    '`node bench/cluster.mjs` reruns this section (about 2 to 2½ minutes here; `--quick` about 25 s), `node bench/run.mjs --only-section=cluster` reruns it and regenerates this page; see `bench/README.md` for its options.',
  );
  out.push('');
  return out;
}

/**
 * Write docs/benchmarks.md and docs/benchmarks.svg.
 * @param {Results} res
 * @param {string} [root]
 * @param {{ md?: string, svg?: string, source?: string }} [o]
 * @returns {Promise<string[]>} written paths
 */
export async function writeReport(res, root = rootDir, o = {}) {
  const md = o.md ?? join(root, 'docs', 'benchmarks.md');
  const svg = o.svg ?? join(root, 'docs', 'benchmarks.svg');
  mkdirSync(dirname(md), { recursive: true });
  mkdirSync(dirname(svg), { recursive: true });
  const svgRel = relative(dirname(md), svg) || basename(svg);
  writeFileSync(svg, renderSvg(res, Object.keys(res.systems)));
  writeFileSync(md, renderMarkdown(res, { svgName: svgRel, source: o.source }));
  return [md, svg];
}

// CLI
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (/** @type {string} */ k) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const input = resolve(args.find((a) => !a.startsWith('--')) ?? join(benchDir, 'results', 'latest.json'));
  /** @type {Results} */
  const res = JSON.parse(readFileSync(input, 'utf8'));
  const source = relative(rootDir, input);
  if (args.includes('--stdout')) {
    process.stdout.write(renderMarkdown(res, { source }));
  } else {
    const files = await writeReport(res, rootDir, {
      md: get('md') && resolve(/** @type {string} */ (get('md'))),
      svg: get('svg') && resolve(/** @type {string} */ (get('svg'))),
      source,
    });
    console.log(`wrote ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
}
