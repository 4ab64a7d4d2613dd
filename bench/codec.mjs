// @ts-check
/**
 * Micro-benchmark of the codec's hot path, in one process: the plain-JSON fast path and the
 * one-pass serializer for rich values, next to plain JSON and superjson on the same payloads.
 * `pnpm bench:codec` (after `pnpm build`). Figures are per stringify+parse round trip.
 */

import { decodeData, encodeData } from '@actorspace/core';
import SuperJSON from 'superjson';
import { Bench } from 'tinybench';

const plain = { id: 1, text: 'hello world', tags: ['a', 'b'], at: 1_700_000_000_000 };
const rich = {
  ...plain,
  at: new Date(1_700_000_000_000),
  meta: new Map([
    ['k', 1],
    ['j', 2],
  ]),
};

/** @param {unknown} value */
function actorspaceRoundTrip(value) {
  const { json, meta } = encodeData(value, null);
  const wire = JSON.parse(JSON.stringify([json, meta ?? null]));
  return decodeData(wire[0], wire[1] ?? undefined, null);
}

const bench = new Bench({ time: 400, warmupTime: 100 });
bench
  .add('JSON, plain', () => JSON.parse(JSON.stringify(plain)))
  .add('ActorSpace codec, plain (fast path)', () => actorspaceRoundTrip(plain))
  .add('superjson, plain', () => SuperJSON.parse(SuperJSON.stringify(plain)))
  .add('ActorSpace codec, rich (one-pass serializer)', () => actorspaceRoundTrip(rich))
  .add('superjson, rich', () => SuperJSON.parse(SuperJSON.stringify(rich)));
await bench.run();
console.table(
  bench.tasks.map((task) => {
    const result = /** @type {{ throughput: { mean: number }, latency: { mean: number } }} */ (
      /** @type {unknown} */ (task.result)
    );
    return {
      case: task.name,
      'ops/s': Math.round(result.throughput.mean),
      'µs/op': (result.latency.mean * 1000).toFixed(2),
    };
  }),
);
