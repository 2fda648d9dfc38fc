/**
 * One comparison of two tensors of a case (a check): isclose and the error statistics
 * (isclose.ts), with the case's layout telling which axis is time and what a heatmap's rows are.
 */
import type { GruCase } from '../model/types.js';
import { hnRowLabel, timeAxis as outputTimeAxis } from '../model/layout.js';
import type { CheckResult, Tolerance } from '../result.js';
import { compareTensors } from './isclose.js';

/** Which summaries a check makes beyond pass and the error metrics (see CheckOptions). */
export interface PairDetails {
  stepErrors?: boolean | undefined;
  errorMaps?: boolean | undefined;
  statistics?: boolean | undefined;
  histograms?: boolean | undefined;
  /** null: an `output` that holds no time axis (Keras's return_sequences=False). */
  timeAxis?: null;
}

/** One comparison of two tensors of the case; tolerances from the `against`-side dtype unless overridden. */
export function checkPair(
  c: GruCase,
  tensor: 'output' | 'h_n',
  subject: CheckResult['subject'],
  actual: { shape: number[]; data: ArrayLike<number> },
  against: CheckResult['against'],
  reference: { shape: number[]; data: ArrayLike<number> },
  tol: Tolerance,
  equalNan: boolean,
  details: PairDetails = {},
): CheckResult {
  const timeAxis = tensor === 'output' && details.timeAxis !== null ? outputTimeAxis(c) : undefined;
  const k = compareTensors(actual, reference, {
    tensor, subject, against, timeAxis,
    stepErrors: details.stepErrors !== false,
    errorMap: details.errorMaps !== false,
    // A caller that wants neither per-step errors nor error maps is scoring (diagnose's variants read
    // pass and maxAbsError only): no medians or histograms unless it asks for them.
    statistics: details.statistics ?? !(details.stepErrors === false && details.errorMaps === false),
    histogram: details.histograms !== false,
    mapRowAxis: timeAxis ?? 0,
    mapRowLabel: tensor === 'output' && timeAxis !== undefined ? (c.config.cell ? 'call' : 'time step') : hnRowLabel(c),
    mapColLabel: tensor === 'output' && timeAxis !== undefined ? 'feature' : 'hidden unit',
  }, { rtol: tol.rtol, atol: tol.atol, equalNan, checkErrorStat: tol.checkErrorStat, errorQuantile: tol.errorQuantile, minCosine: tol.minCosine, maxRelL2: tol.maxRelL2 });
  // A GRUCell's output is `h`: checked as the one-step run's output, named as the user knows it.
  return c.config.cell && tensor === 'output' ? { ...k, label: 'h' } : k;
}
