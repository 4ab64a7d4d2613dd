// @ts-check
/** Small statistics helpers shared by the harness and the report. */

/**
 * Nearest-rank percentile of an already sorted ascending array.
 * @param {number[]} sorted
 * @param {number} p in [0, 1]
 */
export function percentileSorted(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/**
 * Median (mean of the two middle values for even counts), min and max of the finite values.
 * @param {(number | null | undefined)[]} values
 * @returns {{ median: number, min: number, max: number, n: number } | null}
 */
export function summarize(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  const s = /** @type {number[]} */ (v).slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}
