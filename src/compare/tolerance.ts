/**
 * Tolerances. The defaults are torch.testing.assert_close's, chosen by the expected tensor's dtype,
 * so a gru-check pass means what a PyTorch test's pass means. --rtol / --atol (and a suite's
 * "rtol"/"atol") override each separately, with one value for every check or values per tensor and
 * per check: `--atol output:1e-3,h_n:1e-4`, `--rtol candidate:1e-3`, `--atol 1e-5,candidate.h_n:1e-3`.
 * The most specific key wins: `candidate.h_n` over `h_n` over `candidate` over a bare value.
 */
import { GruCheckError } from '../errors.js';
import type { FloatDType } from '../model/types.js';

export const DEFAULT_TOLERANCES: Record<FloatDType, { rtol: number; atol: number }> = {
  float16: { rtol: 1e-3, atol: 1e-5 },
  float32: { rtol: 1.3e-6, atol: 1e-5 },
  float64: { rtol: 1e-7, atol: 1e-7 },
};

export type TensorName = 'output' | 'h_n';
/** What is being checked: the reference (against the dump) or the candidate (a port). */
export type CheckSubject = 'reference' | 'candidate';

/** One value for every check, or values by key ('*' for the rest); see TOLERANCE_KEYS. */
export type ToleranceSpec = number | Readonly<Record<string, number>>;

/** Keys of a per-tensor / per-check tolerance, most specific first ('*': every other check). */
export const TOLERANCE_KEYS = ['candidate.output', 'candidate.h_n', 'reference.output', 'reference.h_n', 'output', 'h_n', 'candidate', 'reference', '*'] as const;

export interface Tolerance {
  rtol: number;
  atol: number;
  /** Where each came from, for the report: 'default for float32', '--atol h_n', ... */
  rtolSource: string;
  atolSource: string;
}

/** Who set rtol/atol, for the report (default '--rtol' / '--atol'). */
export interface ToleranceOverrides {
  rtol?: ToleranceSpec | undefined;
  atol?: ToleranceSpec | undefined;
  rtolFrom?: string | undefined;
  atolFrom?: string | undefined;
}

/** The value a spec sets for one check, and the key it came from ('' for a bare number). */
export function pickTolerance(spec: ToleranceSpec | undefined, tensor: TensorName, subject: CheckSubject): { value: number; key: string } | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec === 'number') return { value: spec, key: '' };
  for (const key of [`${subject}.${tensor}`, tensor, subject, '*']) {
    const v = spec[key];
    if (v !== undefined) return { value: v, key: key === '*' ? '' : key };
  }
  return undefined;
}

/** Is this a valid spec (a number >= 0, or a non-empty object of known keys to numbers >= 0)? */
export function isToleranceSpec(v: unknown): v is ToleranceSpec {
  const ok = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (ok(v)) return true;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length > 0 && entries.every(([k, x]) => (TOLERANCE_KEYS as readonly string[]).includes(k) && ok(x));
}

/** `1e-5`, `output:1e-3,h_n:1e-4`, `1e-5,candidate.h_n:1e-3` -> a spec; GruCheckError USAGE otherwise. */
export function parseToleranceSpec(text: string, flag: string): ToleranceSpec {
  const items = text.split(',').map((s) => s.trim());
  const value = (s: string): number => {
    const x = Number(s);
    if (s === '' || !Number.isFinite(x) || x < 0) throw new GruCheckError('USAGE', `${flag} expects a non-negative number or tensor:value pairs, got '${text}'`, { hint: `e.g. ${flag} 1e-4 or ${flag} output:1e-3,h_n:1e-4` });
    return x;
  };
  if (items.length === 1 && !items[0]!.includes(':')) return value(items[0]!);
  const spec: Record<string, number> = {};
  for (const item of items) {
    const i = item.lastIndexOf(':');
    const key = i < 0 ? '*' : item.slice(0, i).trim();
    if (!(TOLERANCE_KEYS as readonly string[]).includes(key) || key === '*' && i >= 0) {
      throw new GruCheckError('USAGE', `${flag}: '${key}' is not a tensor or check`, { hint: `use ${TOLERANCE_KEYS.filter((k) => k !== '*').join(', ')}` });
    }
    if (key in spec) throw new GruCheckError('USAGE', `${flag}: '${i < 0 ? 'a bare value' : key}' is given twice in '${text}'`);
    spec[key] = value(i < 0 ? item : item.slice(i + 1).trim());
  }
  return spec;
}

/**
 * The tolerance for one check: the overrides' most specific value, else the dtype's default. Two
 * tensors of different dtypes (a float16 port's output against a float32 reference) get the looser
 * rtol and the looser atol of the two, as assert_close(check_dtype=False) does
 * (torch/testing/_comparison.py, default_tolerances).
 */
export function resolveTolerance(dtype: FloatDType, overrides: ToleranceOverrides, at: { tensor: TensorName; subject: CheckSubject } = { tensor: 'output', subject: 'reference' }, other: FloatDType = dtype): Tolerance {
  const dtypes = other === dtype ? [dtype] : [dtype, other];
  const d = { rtol: Math.max(...dtypes.map((t) => DEFAULT_TOLERANCES[t].rtol)), atol: Math.max(...dtypes.map((t) => DEFAULT_TOLERANCES[t].atol)) };
  const byDefault = `default for ${dtypes.join(' vs ')}`;
  const r = pickTolerance(overrides.rtol, at.tensor, at.subject);
  const a = pickTolerance(overrides.atol, at.tensor, at.subject);
  const src = (from: string, key: string): string => (key ? `${from} ${key}` : from);
  return {
    rtol: r?.value ?? d.rtol,
    atol: a?.value ?? d.atol,
    rtolSource: r ? src(overrides.rtolFrom ?? '--rtol', r.key) : byDefault,
    atolSource: a ? src(overrides.atolFrom ?? '--atol', a.key) : byDefault,
  };
}
