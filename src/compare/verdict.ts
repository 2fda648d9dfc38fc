/**
 * Deciding pass from a check's metrics (metrics.ts): isclose on every element, or one statistic of
 * |a - e| held to isclose's bound on the same statistic of |e|; then the distance criteria
 * (minimum cosine, maximum relative L2) on top.
 */
import type { Metrics } from './metrics.js';
import type { ErrorStat } from './stats.js';

export interface Criteria {
  rtol: number;
  atol: number;
  checkErrorStat: ErrorStat;
  minCosine?: number | undefined;
  maxRelL2?: number | undefined;
}

export interface Verdict {
  pass: boolean;
  /** Smallest atol that passes at this rtol under the criterion; null when no atol can (NaN/inf mismatches). */
  requiredAtol: number | null;
  /** With a statistic: STAT(|a - e|), STAT(|e|), and the bound atol + rtol * STAT(|e|) it was held to. */
  stat?: { statError: number | null; statExpected: number | null; statLimit: number | null };
}

/** STAT(|a - e|) and STAT(|e|) over the elements with a finite difference; nulls when there are none. */
function statistic(k: Metrics, stat: Exclude<ErrorStat, 'elemwise'>): [number | null, number | null] {
  if (k.m === 0) return [null, null];
  let err: number;
  let exp: number;
  if (stat === 'max') [err, exp] = [k.maxAbs, k.maxAbsExpected];
  else if (stat === 'mean') [err, exp] = [k.m === k.finiteCount ? k.meanAbs : k.sumAbs / k.m, k.sumAbsExpected / k.m];
  else if (stat === 'median') [err, exp] = [k.abs!.median, k.expected!.median];
  else [err, exp] = [k.abs!.quantile, k.expected!.quantile];
  // |e| summed past float64: the bound is as loose as it gets.
  return [err, Number.isFinite(exp) ? exp : Number.MAX_VALUE];
}

export function decideVerdict(k: Metrics, c: Criteria): Verdict {
  let pass = k.mismatched === 0;
  let requiredAtol: number | null = k.nonFinite > 0 ? null : k.required;
  let stat: Verdict['stat'];
  if (c.checkErrorStat !== 'elemwise') {
    const [err, exp] = statistic(k, c.checkErrorStat);
    const limit = exp === null ? null : c.atol + c.rtol * exp;
    stat = { statError: err, statExpected: exp, statLimit: limit };
    pass = k.nonFinite === 0 && (err === null || err <= limit!);
    requiredAtol = k.nonFinite > 0 ? null : err === null ? 0 : Math.max(0, err - c.rtol * exp!);
  }
  // Zero vectors have no cosine and no relative L2: equal ones still meet the criterion.
  const same = k.nonFinite === 0 && k.d2 === 0;
  if (c.minCosine !== undefined && !(k.cosine !== null ? k.cosine >= c.minCosine : same)) pass = false;
  if (c.maxRelL2 !== undefined && !(k.relL2 !== null ? k.relL2 <= c.maxRelL2 : same)) pass = false;
  return { pass, requiredAtol, ...(stat ? { stat } : {}) };
}
