/**
 * `inspect`: what is in a file — every array's name, dtype, shape, min/max/mean and NaN/Inf counts —
 * and the GRU configuration gru-check infers from it (or why it cannot). Pure: takes a loaded
 * bundle, returns a plain result.
 */
import { GruCheckError } from './errors.js';
import type { ArrayBundle, NdArray } from './io/types.js';
import { buildCase, type CaseOptions } from './model/case.js';
import type { GruConfig, LayoutSource } from './model/types.js';

export interface ArrayStats {
  name: string;
  dtype: string;
  shape: number[];
  size: number;
  /** Over finite values; null when there are none (or for strings). */
  min: number | null;
  max: number | null;
  mean: number | null;
  nan: number;
  inf: number;
  /** A 0-d unicode array's text (the config), shortened. */
  text?: string;
}

export interface InspectResult {
  source: string;
  arrays: ArrayStats[];
  config?: GruConfig;
  layoutSource?: LayoutSource;
  prefix?: string;
  seqLen?: number;
  batchSize?: number;
  /** Why no GRU configuration could be inferred. */
  configError?: string;
}

export function arrayStats(a: NdArray): ArrayStats {
  const size = a.shape.reduce((x, y) => x * y, 1);
  const s: ArrayStats = { name: a.name, dtype: a.dtype, shape: a.shape, size, min: null, max: null, mean: null, nan: 0, inf: 0 };
  if (a.dtype === 'unicode') {
    const text = (a.data as string[]).join(' ');
    s.text = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    return s;
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  const d = a.data as ArrayLike<number | bigint>;
  for (let i = 0; i < d.length; i++) {
    const v = Number(d[i]!);
    if (Number.isNaN(v)) s.nan++;
    else if (!Number.isFinite(v)) s.inf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      n++;
    }
  }
  if (n > 0) {
    s.min = min;
    s.max = max;
    s.mean = sum / n;
  }
  return s;
}

export function inspectBundle(bundle: ArrayBundle, options: CaseOptions = {}): InspectResult {
  const arrays = [...bundle.arrays.values()].sort((a, b) => a.name.localeCompare(b.name)).map(arrayStats);
  const r: InspectResult = { source: bundle.source, arrays };
  try {
    const c = buildCase(bundle, { ...options, requireExpected: false });
    r.config = c.config;
    r.layoutSource = c.layoutSource;
    r.prefix = c.prefix;
    r.seqLen = c.seqLen;
    r.batchSize = c.batchSize;
  } catch (e) {
    if (!(e instanceof GruCheckError)) throw e;
    r.configError = e.hint ? `${e.message} (${e.hint})` : e.message;
  }
  return r;
}
