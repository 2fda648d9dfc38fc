/**
 * Text sparklines of error over time (▁▂▃▄▅▆▇█), and the one-line "output |err| over time" summary
 * the table renderer (and markdown) print under a case. Pure functions, no colour.
 *
 * Why these choices:
 * - Downsampling takes the MAX of each bucket, never the mean: a single bad time step among
 *   thousands is exactly what the line is for, and averaging would wash it out.
 * - Errors span orders of magnitude (float32 noise ~1e-7 next to a real bug ~1e-2), so heights are
 *   log10-scaled between a floor and the series' max. floor = max(smallest positive value,
 *   max * 1e-6): the 1e-6 cap keeps a lone denormal-sized value from squashing every real value
 *   into the top block, and six decades is more than eight block heights can show anyway.
 * - Zeros (and anything at or below the floor) draw as the lowest block; an all-zero series is all
 *   ▁. A flat non-zero series has no shape to show and draws as ▄, mid-height, so it reads as
 *   neither "no error" nor "spike" — the printed max tells the magnitude. (Equal non-zero values
 *   among zeros are a shape, zero vs peak, and draw as █.)
 * - NaN/±Infinity are the worst possible error and draw as █. (stepMaxAbs from compare/ holds
 *   finite differences only, but the function is general.)
 */
import type { CheckResult } from '../result.js';
import { sci } from './format.js';

export const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** Bucket maxima: `values` cut into at most `width` contiguous buckets, each its max. */
export function downsampleMax(values: readonly number[], width: number): number[] {
  const n = values.length;
  const w = Math.max(1, Math.floor(width));
  if (n <= w) return values.slice();
  const out = new Array<number>(w);
  for (let b = 0; b < w; b++) {
    // Integer bucket edges: every value lands in exactly one bucket, sizes differ by at most 1.
    const lo = Math.floor((b * n) / w);
    const hi = Math.floor(((b + 1) * n) / w);
    let m = -Infinity;
    for (let i = lo; i < hi; i++) {
      const v = values[i]!;
      // NaN would poison Math.max silently; it is the worst error, so treat it as +Infinity.
      const x = Number.isNaN(v) ? Infinity : v;
      if (x > m) m = x;
    }
    out[b] = m;
  }
  return out;
}

/** The log scale floor used for `values`: see the file comment. 0 when nothing is positive. */
export function logFloor(values: readonly number[], decades = 6): number {
  let max = 0;
  let minPos = Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v > max) max = v;
    if (v < minPos) minPos = v;
  }
  if (max === 0) return 0;
  return Math.max(minPos, max * 10 ** -decades);
}

export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return '';
  const v = downsampleMax(values, width).map((x) => (Number.isNaN(x) ? Infinity : Math.abs(x)));
  const finite = v.filter((x) => Number.isFinite(x));
  const max = finite.reduce((a, b) => Math.max(a, b), 0);
  const floor = logFloor(finite);
  const top = BLOCKS.length - 1;
  const hasZero = v.some((x) => x === 0);
  const span = max > 0 ? Math.log10(max) - Math.log10(floor) : 0;
  return v
    .map((x) => {
      if (!Number.isFinite(x)) return BLOCKS[top];
      if (x <= 0 || max === 0) return BLOCKS[0];
      // All positive values are equal: next to zeros they are the peak; alone, a flat series.
      if (span === 0) return hasZero ? BLOCKS[top] : BLOCKS[3];
      const f = (Math.log10(Math.max(x, floor)) - Math.log10(floor)) / span;
      return BLOCKS[Math.min(top, Math.max(0, Math.round(f * top)))];
    })
    .join('');
}

/** Index of the first greatest value (NaN counts as greatest); -1 for an empty series. */
export function argMax(values: readonly number[]): number {
  let at = -1;
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = Number.isNaN(values[i]!) ? Infinity : values[i]!;
    if (at < 0 || x > m) {
      m = x;
      at = i;
    }
  }
  return at;
}

/** How a check is named when it is not the usual reference-vs-expected one. */
export function checkLabel(k: Pick<CheckResult, 'tensor' | 'subject' | 'against' | 'label'>): string {
  const name = tensorName(k);
  return k.subject === 'reference' && k.against === 'expected' ? name : `${name} (${k.subject} vs ${k.against})`;
}

/** The tensor as the user named it: `h` for a GRUCell's output. */
export function tensorName(k: Pick<CheckResult, 'tensor' | 'label'>): string {
  return k.label ?? k.tensor;
}

export interface SparklineParts {
  /** `output` or `output (candidate vs reference)`. */
  label: string;
  blocks: string;
  /** `max 1.00e-3 at step 2 of 4`, plus the bucket size when downsampled. */
  note: string;
}

/**
 * The pieces of the drift line for a check with a per-step error series of more than one step;
 * null otherwise (one step has no "over time"). Steps are 0-based, like the indices in the table.
 * Renderers that need different markup around the blocks (markdown's code span) use this.
 */
export function sparklineParts(k: CheckResult, width = 40): SparklineParts | null {
  const s = k.stepMaxAbs;
  if (!s || s.length <= 1) return null;
  const at = argMax(s);
  // "at step 0" would be noise for an all-zero series: every step is the max.
  const where = s[at] === 0 ? `over ${s.length} steps` : `at step ${at} of ${s.length}`;
  const per = s.length > width ? `  (1 char = max of ≤${Math.ceil(s.length / width)} steps)` : '';
  return { label: checkLabel(k), blocks: sparkline(s, width), note: `max ${sci(s[at])} ${where}${per}` };
}

/** `output |err| over time: ▁▁█▁  max 1.00e-3 at step 2 of 4` — the line under a case's table. */
export function sparklineLine(k: CheckResult, width = 40): string | null {
  const p = sparklineParts(k, width);
  return p && `${p.label} |err| over time: ${p.blocks}  ${p.note}`;
}

/** Marks where atol falls in the one-line histogram. */
export const ATOL_MARK = '┊';
/** An empty octave in the one-line histogram. */
export const EMPTY_BIN = '·';

/**
 * The |error| histogram as one line of text: one character per octave (a factor of 2) from the
 * smallest error to the largest, block height log-scaled by count (1 element: ▁, the fullest
 * octave: █), · for an empty octave, ┊ before the first octave wholly above atol. "A few outliers"
 * reads as a hump with lone ▁ far to its right; "everything slightly off" as a hump past ┊. Past
 * `width` octaves, neighbouring octaves are summed. null when the check has no histogram.
 */
export function histogramParts(k: CheckResult, width = 48): { label: string; blocks: string; note: string } | null {
  const h = k.errorHistogram;
  if (!h || (h.counts.length === 0 && h.zeros === 0)) return null;
  const per = Math.max(1, Math.ceil(h.counts.length / width));
  const bins: number[] = [];
  for (let i = 0; i < h.counts.length; i += per) bins.push(h.counts.slice(i, i + per).reduce((x, y) => x + y, 0));
  const max = Math.max(0, ...bins);
  const block = (c: number): string => (c === 0 ? EMPTY_BIN : max <= 1 ? BLOCKS[BLOCKS.length - 1]! : BLOCKS[Math.round(((BLOCKS.length - 1) * Math.log(c)) / Math.log(max))]!);
  const chars = bins.map(block);
  // The first bin whose octaves all lie above atol: 2^(minExp + i·per) > atol.
  if (k.atol > 0 && bins.length > 0) {
    const first = Math.floor(Math.log2(k.atol)) + 1;
    const at = Math.min(bins.length, Math.max(0, Math.ceil((first - h.minExp) / per)));
    chars.splice(at, 0, ATOL_MARK);
  }
  const lo = 2 ** h.minExp;
  const hi = 2 ** (h.minExp + bins.length * per);
  const range = bins.length > 0 ? `from ${sci(lo)} to ${sci(hi)}${per > 1 ? ` (1 char = ${per} octaves)` : ''}` : 'no non-zero error';
  const bits = [k.atol > 0 && bins.length > 0 ? `${ATOL_MARK} atol ${sci(k.atol)}` : '', h.zeros > 0 ? `${h.zeros} exact` : ''].filter(Boolean);
  return { label: checkLabel(k), blocks: chars.join(''), note: `${range}${bits.length ? `; ${bits.join(', ')}` : ''}` };
}

/** `output (candidate vs expected) |err| by octave: ▂▅█▃┊····▁  from 3.73e-9 to 1.00e+0; ┊ atol 1.00e-5` */
export function histogramLine(k: CheckResult, width = 48): string | null {
  const p = histogramParts(k, width);
  return p && `${p.label} |err| by octave: ${p.blocks}  ${p.note}`;
}
