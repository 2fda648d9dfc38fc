/**
 * The command a failing `run` suggests: `gru-check diagnose` on the same case with the flags that
 * decide what is checked (files, layout, attributes, tolerances), so it can be pasted as it is.
 * run-only flags (reports, baselines, suites, pass criteria beyond isclose) are left out: diagnose
 * holds its variants to isclose.
 */
import type { Keyed } from '../compare/tolerance.js';
import { num } from '../report/format.js';

/** What of a run's flags carries over to diagnose, by the flag that sets it. */
export interface CarriedFlags {
  weights?: string | undefined;
  node?: string | undefined;
  prefix?: string | undefined;
  layout?: string | undefined;
  batchFirst?: boolean | undefined;
  seqFirst?: boolean | undefined;
  linearBeforeReset?: string | undefined;
  direction?: string | undefined;
  onnxLayout?: string | undefined;
  gateOrder?: string | undefined;
  clip?: number | undefined;
  activations?: string[] | undefined;
  activationAlpha?: number[] | undefined;
  activationBeta?: number[] | undefined;
  candidate?: string | undefined;
  onnx?: string | undefined;
  onnxMap?: string | undefined;
  candidateLayout?: string | undefined;
  paddedSteps?: string | undefined;
  rtol?: Keyed<number> | undefined;
  atol?: Keyed<number> | undefined;
  equalNan?: boolean | undefined;
  precision?: string | undefined;
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const spec = (v: Keyed<number>): string => (typeof v === 'number' ? num(v) : Object.entries(v).map(([k, x]) => `${k}:${num(x)}`).join(','));

/** `gru-check diagnose CASE ...flags`, one line, every word quoted for the shell. */
export function diagnoseCommand(path: string, f: CarriedFlags): string {
  const words = ['gru-check', 'diagnose', path];
  const opt = (flag: string, v: string | number | undefined): void => void (v !== undefined && words.push(flag, String(v)));
  opt('--weights', f.weights);
  opt('--node', f.node);
  opt('--prefix', f.prefix);
  opt('--layout', f.layout);
  if (f.batchFirst) words.push('--batch-first');
  if (f.seqFirst) words.push('--seq-first');
  opt('--linear-before-reset', f.linearBeforeReset);
  opt('--direction', f.direction);
  opt('--onnx-layout', f.onnxLayout);
  opt('--gate-order', f.gateOrder);
  opt('--clip', f.clip);
  opt('--activations', f.activations?.join(','));
  opt('--activation-alpha', f.activationAlpha?.join(','));
  opt('--activation-beta', f.activationBeta?.join(','));
  opt('--candidate', f.candidate);
  opt('--onnx', f.onnx);
  opt('--onnx-map', f.onnxMap);
  opt('--candidate-layout', f.candidateLayout);
  if (f.paddedSteps !== undefined && f.paddedSteps !== 'strict') opt('--padded-steps', f.paddedSteps);
  opt('--rtol', f.rtol === undefined ? undefined : spec(f.rtol));
  opt('--atol', f.atol === undefined ? undefined : spec(f.atol));
  if (f.equalNan) words.push('--equal-nan');
  opt('--precision', f.precision);
  return words.map(shellWord).join(' ');
}
