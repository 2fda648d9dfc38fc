/**
 * Tolerances and pass criteria, per check. The defaults are torch.testing.assert_close's, chosen by
 * the expected tensor's dtype, so a gru-check pass means what a PyTorch test's pass means:
 * isclose, |a - e| <= atol + rtol·|e|, on every element ('elemwise').
 *
 * Every setting takes one value for every check or values per tensor and per check, in flags
 * (`--atol output:1e-3,h_n:1e-4`, `--rtol candidate:1e-3`, `--check-error-stat candidate:mean`) and
 * in suites; the most specific key wins: `candidate.h_n` over `h_n` over `candidate` over a bare
 * value. The settings:
 *   rtol, atol        the isclose tolerances;
 *   checkErrorStat    'elemwise' (default), or 'max' | 'mean' | 'median' | 'quantile': then the check
 *                     passes when STAT(|a - e|) <= atol + rtol·STAT(|e|), one statistic of the error
 *                     against isclose's additive bound on the same statistic of the expected values
 *                     (compare/isclose.ts). This is NOT Polygraphy's CompareFunc.simple, which
 *                     passes when STAT(|a - e|) <= atol OR STAT(|a - e| / |e|) <= rtol (either
 *                     bound alone, and the relative statistic taken of the elementwise ratios;
 *                     test/fixtures/tolerance/stats.json -> polygraphy_rule): the same numbers can
 *                     decide differently, e.g. a tensor with small errors on large values passes
 *                     Polygraphy's relative branch at an rtol our bound, scaled by STAT(|e|), fails.
 *   errorQuantile     q of the reported quantiles and of 'quantile' (default 0.99);
 *   minCosine, maxRelL2  extra criteria: cosine(a, e) >= minCosine, ||a - e|| / ||e|| <= maxRelL2.
 * A precision preset (--port-precision fp16|bf16|int8, PORT_PRESETS) sets documented values for the
 * candidate's checks; an explicit setting overrides the preset's value for the checks it names.
 */
import { GruCheckError } from '../errors.js';
import type { FloatDType } from '../model/types.js';
import { DEFAULT_ERROR_QUANTILE, ERROR_STATS, type ErrorStat } from './stats.js';
import type { PortPrecision, Tolerance } from '../result.js';

export type { PortPrecision, Tolerance } from '../result.js';

export const DEFAULT_TOLERANCES: Record<FloatDType, { rtol: number; atol: number }> = {
  float16: { rtol: 1e-3, atol: 1e-5 },
  float32: { rtol: 1.3e-6, atol: 1e-5 },
  float64: { rtol: 1e-7, atol: 1e-7 },
};

export type TensorName = 'output' | 'h_n';
/** What is being checked: the reference (against the dump) or the candidate (a port). */
export type CheckSubject = 'reference' | 'candidate';

/** One value for every check, or values by key ('*' for the rest); see TOLERANCE_KEYS. */
export type Keyed<T> = T | Readonly<Record<string, T>>;
export type ToleranceSpec = Keyed<number>;

/** Keys of a per-tensor / per-check setting, most specific first ('*': every other check). */
export const TOLERANCE_KEYS = ['candidate.output', 'candidate.h_n', 'reference.output', 'reference.h_n', 'output', 'h_n', 'candidate', 'reference', '*'] as const;

export const PORT_PRECISIONS: readonly PortPrecision[] = ['fp16', 'bf16', 'int8'];

/**
 * A precision preset: the criteria for a candidate's checks, each number with where it comes from.
 * Sourced numbers say their source; the rest are marked as gru-check's own choice, with the reason.
 * Their decisions on the fixture ports are recomputed with numpy by
 * test/fixtures/tolerance/make_tolerance_fixtures.py (stats.json -> presets).
 */
export interface PortPreset {
  rtol: number;
  atol: number;
  checkErrorStat: ErrorStat;
  maxRelL2?: number;
  minCosine?: number;
  /** One line for the reports: what the preset holds the port to. */
  summary: string;
  /** Where each value comes from, by setting. */
  sources: Partial<Record<'rtol' | 'atol' | 'checkErrorStat' | 'maxRelL2' | 'minCosine', string>>;
}

const TORCH = "torch.testing.assert_close's defaults (torch/testing/_comparison.py, _DTYPE_PRECISIONS)";
const RECURRENT = "gru-check's choice: a GRU carries rounding from step to step, so single elements exceed a per-element bound the mean error stays well inside (the fp16 fixture port: 53 of 270 outputs fail isclose at torch.testing's float16 rtol 1e-3, while its mean error is under half of what that rtol allows the mean)";
// fp16 / bf16: measured on real ports (test/fixtures/tolerance/make_precision_ports.py, numpy's
// numbers in precision_ports.json): Keras 3 mixed_float16 / mixed_bfloat16 (TensorFlow), PyTorch
// CPU autocast and .to(dtype), of 108 real PyTorch GRUs (1-3 layers, uni- and bidirectional,
// T 20-200, H 32 and 128, untrained and trained). Their rel L2 and mean-error ratio reach ~2
// epsilons of the dtype and barely grow with depth, direction or T; each bound is 4 epsilons.
const MEASURED = 'test/fixtures/tolerance/make_precision_ports.py over 648 real port tensors (precision_ports.json)';

export const PORT_PRESETS: Record<PortPrecision, PortPreset> = {
  fp16: {
    rtol: 2 ** -8,
    atol: 1e-5,
    checkErrorStat: 'mean',
    maxRelL2: 2 ** -8,
    summary: 'fp16 port: mean |error| <= 1e-5 + 2^-8·mean|expected|, rel L2 <= 2^-8 (4 float16 epsilons; real float16 ports of 1-3 layer GRUs, T <= 200, measured up to 2)',
    sources: {
      rtol: `gru-check's choice, measured: 4 float16 epsilons (2^-8 = 3.91e-3), 3.1x the worst real port's mean |error| / mean |expected| (1.25e-3, PyTorch .to(float16), 3 layers, bidirectional, T=200, H=128) in ${MEASURED}; torch.testing's float16 rtol 1e-3 rejected real 2- and 3-layer ports`,
      atol: `float16 in ${TORCH}`,
      checkErrorStat: RECURRENT,
      maxRelL2: `gru-check's choice, measured: 4 float16 epsilons (2^-8), 2.0x the worst real port's rel L2 (1.93e-3, the same port) in ${MEASURED}; 1 epsilon (2^-10) rejected 16 of 324 real float16 ports, Keras mixed_float16 among them; the least float32 mistake measured (r/z swapped, reset_after=False) has rel L2 0.14`,
    },
  },
  bf16: {
    rtol: 2 ** -5,
    atol: 1e-5,
    checkErrorStat: 'mean',
    maxRelL2: 2 ** -5,
    summary: 'bf16 port: mean |error| <= 1e-5 + 2^-5·mean|expected|, rel L2 <= 2^-5 (4 bfloat16 epsilons; real bfloat16 ports of 1-3 layer GRUs, T <= 200, measured up to 2.3)',
    sources: {
      rtol: `gru-check's choice, measured: 4 bfloat16 epsilons (2^-5 = 3.13e-2), 2.5x the worst real port's mean |error| / mean |expected| (1.23e-2, PyTorch .to(bfloat16), 3 layers, bidirectional, T=200, H=128) in ${MEASURED}`,
      atol: `bfloat16 in ${TORCH}`,
      checkErrorStat: RECURRENT,
      maxRelL2: `gru-check's choice, measured: 4 bfloat16 epsilons (2^-5), 1.8x the worst real port's rel L2 (1.76e-2, the same port) in ${MEASURED}; 1 epsilon (2^-7) rejected 20 of 324 real bfloat16 ports; the least float32 mistake measured has rel L2 0.14`,
    },
  },
  int8: {
    rtol: 2 / 127,
    atol: 1e-5,
    checkErrorStat: 'max',
    maxRelL2: 10 ** (-35 / 20),
    summary: 'int8 port: max |error| <= 1e-5 + (2/127)·max|expected| (two int8 steps of the full scale), SQNR >= 35 dB (rel L2 <= 1.78e-2)',
    sources: {
      rtol: "gru-check's choice: symmetric int8 quantization steps by max|x|/127; the greatest error may be two steps of the expected tensor's full scale (the int8 fixture port: 1.16 steps)",
      atol: `float32 in ${TORCH}`,
      checkErrorStat: "gru-check's choice: int8 error is relative to a tensor's full scale, not to each element, so the max error is held to the max value",
      maxRelL2: "SQNR >= 35 dB, the bound PyTorch's quantization tests hold a per-channel int8 model to against float (test/test_quantized_models.py, test_float_quant_compare_per_channel)",
    },
  },
};

/** The settings of a check; `from` in ToleranceOverrides says who set them. */
export interface ToleranceSettings {
  rtol?: ToleranceSpec | undefined;
  atol?: ToleranceSpec | undefined;
  checkErrorStat?: Keyed<ErrorStat> | undefined;
  errorQuantile?: number | undefined;
  minCosine?: ToleranceSpec | undefined;
  maxRelL2?: ToleranceSpec | undefined;
  /** Presets apply to the candidate's checks only: the reference is held to float32 as ever. */
  portPrecision?: PortPrecision | undefined;
}

/**
 * The settings, and who set them for the report ('suite defaults', 'suite case'): the provenance
 * map options.ts fills for its rows marked `provenance`. A setting it does not name was set by its
 * flag, and options.ts names every flag after its key: maxRelL2 -> --max-rel-l2.
 */
export interface ToleranceOverrides extends ToleranceSettings {
  from?: { readonly [K in keyof ToleranceSettings]?: string | undefined } | undefined;
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** Who set `key`: the source `from` names, else its flag. */
const setBy = (o: ToleranceOverrides, key: keyof ToleranceSettings): string => o.from?.[key] ?? `--${kebab(key)}`;

/** The value a spec sets for one check, and the key it came from ('' for a bare value). */
export function pickKeyed<T>(spec: Keyed<T> | undefined, tensor: TensorName, subject: CheckSubject): { value: T; key: string } | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec !== 'object' || spec === null) return { value: spec as T, key: '' };
  const keyed = spec as Readonly<Record<string, T>>;
  for (const key of [`${subject}.${tensor}`, tensor, subject, '*']) {
    const v = keyed[key];
    if (v !== undefined) return { value: v, key: key === '*' ? '' : key };
  }
  return undefined;
}

/** pickKeyed for tolerances (kept for the published API). */
export function pickTolerance(spec: ToleranceSpec | undefined, tensor: TensorName, subject: CheckSubject): { value: number; key: string } | undefined {
  return pickKeyed(spec, tensor, subject);
}

/** Is this a valid spec: a value `ok` accepts, or a non-empty object of known keys to such values? */
export function isKeyedSpec(v: unknown, ok: (x: unknown) => boolean): boolean {
  if (ok(v)) return true;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length > 0 && entries.every(([k, x]) => (TOLERANCE_KEYS as readonly string[]).includes(k) && ok(x));
}

const nonNegative = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/** Is this a valid tolerance spec (a number >= 0, or a non-empty object of known keys to numbers >= 0)? */
export function isToleranceSpec(v: unknown): v is ToleranceSpec {
  return isKeyedSpec(v, nonNegative);
}

export const isErrorStat = (x: unknown): x is ErrorStat => typeof x === 'string' && (ERROR_STATS as readonly string[]).includes(x);
/** A cosine bound: a number in [-1, 1]. */
export const isCosine = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= -1 && x <= 1;
/** A quantile: a number in [0, 1]. */
export const isQuantile = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;

/**
 * `v`, `key:v,key:v`, `v,key:v` -> a keyed spec of values `value` parses; GruCheckError USAGE with
 * one line otherwise. `what` and `example` word the message.
 */
/**
 * A keyed setting written back as its flag takes it (parseKeyedSpec's inverse): the value for
 * every other check ('*') bare, first; the others as key:value.
 */
export function formatKeyedSpec<T>(v: Keyed<T>, show: (x: T) => string = String): string {
  if (typeof v !== 'object' || v === null) return show(v as T);
  const entries = Object.entries(v as Record<string, T>);
  const rest = entries.filter(([k]) => k !== '*').map(([k, x]) => `${k}:${show(x)}`);
  return [...entries.filter(([k]) => k === '*').map(([, x]) => show(x)), ...rest].join(',');
}

export function parseKeyedSpec<T>(text: string, flag: string, value: (s: string) => T | undefined, what: string, example: string): Keyed<T> {
  const items = text.split(',').map((s) => s.trim());
  const one = (s: string): T => {
    const x = s === '' ? undefined : value(s);
    if (x === undefined) throw new GruCheckError('USAGE', `${flag} expects ${what} or tensor:value pairs, got '${text}'`, { hint: `e.g. ${example}` });
    return x;
  };
  if (items.length === 1 && !items[0]!.includes(':')) return one(items[0]!);
  const spec: Record<string, T> = {};
  for (const item of items) {
    const i = item.lastIndexOf(':');
    const key = i < 0 ? '*' : item.slice(0, i).trim();
    if (!(TOLERANCE_KEYS as readonly string[]).includes(key) || key === '*' && i >= 0) {
      throw new GruCheckError('USAGE', `${flag}: '${key}' is not a tensor or check`, { hint: `use ${TOLERANCE_KEYS.filter((k) => k !== '*').join(', ')}` });
    }
    if (key in spec) throw new GruCheckError('USAGE', `${flag}: '${i < 0 ? 'a bare value' : key}' is given twice in '${text}'`);
    spec[key] = one(i < 0 ? item : item.slice(i + 1).trim());
  }
  return spec;
}

const numberIf = (ok: (x: number) => boolean) => (s: string): number | undefined => {
  const x = Number(s);
  return Number.isFinite(x) && ok(x) ? x : undefined;
};

/** `1e-5`, `output:1e-3,h_n:1e-4`, `1e-5,candidate.h_n:1e-3` -> a spec; GruCheckError USAGE otherwise. */
export function parseToleranceSpec(text: string, flag: string): ToleranceSpec {
  return parseKeyedSpec(text, flag, numberIf((x) => x >= 0), 'a non-negative number', `${flag} 1e-4 or ${flag} output:1e-3,h_n:1e-4`);
}

/** `mean`, `candidate:median,reference:elemwise` -> a spec of error statistics. */
export function parseErrorStatSpec(text: string, flag: string): Keyed<ErrorStat> {
  return parseKeyedSpec(text, flag, (s) => (isErrorStat(s) ? s : undefined), `one of ${ERROR_STATS.join(', ')}`, `${flag} mean or ${flag} candidate:quantile`);
}

/** `0.9999`, `candidate:0.999` -> a spec of cosine bounds in [-1, 1]. */
export function parseCosineSpec(text: string, flag: string): ToleranceSpec {
  return parseKeyedSpec(text, flag, numberIf((x) => x >= -1 && x <= 1), 'a number from -1 to 1', `${flag} 0.9999 or ${flag} candidate:0.999`);
}

/**
 * The settings for one check: explicit values (most specific key), else the preset's (candidate
 * checks), else the dtype's defaults. Two tensors of different dtypes (a float16 port's output
 * against a float32 reference) get the looser rtol and the looser atol of the two, as
 * assert_close(check_dtype=False) does (torch/testing/_comparison.py, default_tolerances).
 */
export function resolveTolerance(dtype: FloatDType, overrides: ToleranceOverrides, at: { tensor: TensorName; subject: CheckSubject } = { tensor: 'output', subject: 'reference' }, other: FloatDType = dtype): Tolerance {
  const dtypes = other === dtype ? [dtype] : [dtype, other];
  const d = { rtol: Math.max(...dtypes.map((t) => DEFAULT_TOLERANCES[t].rtol)), atol: Math.max(...dtypes.map((t) => DEFAULT_TOLERANCES[t].atol)) };
  const preset = at.subject === 'candidate' && overrides.portPrecision ? PORT_PRESETS[overrides.portPrecision] : undefined;
  const presetFrom = `${setBy(overrides, 'portPrecision')} ${overrides.portPrecision}`;
  const src = (from: string, key: string): string => (key ? `${from} ${key}` : from);
  const r = pickKeyed(overrides.rtol, at.tensor, at.subject);
  const a = pickKeyed(overrides.atol, at.tensor, at.subject);
  const s = pickKeyed(overrides.checkErrorStat, at.tensor, at.subject);
  const c = pickKeyed(overrides.minCosine, at.tensor, at.subject);
  const l = pickKeyed(overrides.maxRelL2, at.tensor, at.subject);
  const fallback = preset ? presetFrom : `default for ${dtypes.join(' vs ')}`;
  const t: Tolerance = {
    rtol: r?.value ?? preset?.rtol ?? d.rtol,
    atol: a?.value ?? preset?.atol ?? d.atol,
    rtolSource: r ? src(setBy(overrides, 'rtol'), r.key) : fallback,
    atolSource: a ? src(setBy(overrides, 'atol'), a.key) : fallback,
  };
  const stat = s?.value ?? preset?.checkErrorStat;
  if (stat !== undefined && stat !== 'elemwise') {
    t.checkErrorStat = stat;
    t.checkErrorStatSource = s ? src(setBy(overrides, 'checkErrorStat'), s.key) : presetFrom;
  }
  if (overrides.errorQuantile !== undefined && overrides.errorQuantile !== DEFAULT_ERROR_QUANTILE) t.errorQuantile = overrides.errorQuantile;
  const cos = c?.value ?? preset?.minCosine;
  if (cos !== undefined) {
    t.minCosine = cos;
    t.minCosineSource = c ? src(setBy(overrides, 'minCosine'), c.key) : presetFrom;
  }
  const l2 = l?.value ?? preset?.maxRelL2;
  if (l2 !== undefined) {
    t.maxRelL2 = l2;
    t.maxRelL2Source = l ? src(setBy(overrides, 'maxRelL2'), l.key) : presetFrom;
  }
  if (preset) t.preset = overrides.portPrecision!;
  return t;
}

/** Do two checks' settings agree (so the report can print them once)? */
export function sameCriteria(x: Tolerance | undefined, y: Tolerance): boolean {
  return x !== undefined && x.rtol === y.rtol && x.atol === y.atol && x.checkErrorStat === y.checkErrorStat && x.errorQuantile === y.errorQuantile && x.minCosine === y.minCosine && x.maxRelL2 === y.maxRelL2;
}

/**
 * What an explicit setting replaced of the preset's, one line each (the CLI prints them): the
 * report's tolerance line then says which value came from where.
 */
export function presetOverrides(o: ToleranceOverrides): string[] {
  if (!o.portPrecision) return [];
  const p = PORT_PRESETS[o.portPrecision];
  const from = `${setBy(o, 'portPrecision')} ${o.portPrecision}`;
  const show = (v: unknown): string => formatKeyedSpec(v as Keyed<unknown>);
  const out: string[] = [];
  const pairs = (['rtol', 'atol', 'checkErrorStat', 'minCosine', 'maxRelL2'] as const).map((k) => [kebab(k), o[k], setBy(o, k), p[k]] as const);
  // Keys that reach a candidate's check (a preset holds nothing else).
  const reaches = (v: object): boolean => Object.keys(v).some((k) => !k.startsWith('reference'));
  for (const [name, given, by, preset] of pairs) {
    if (given === undefined) continue;
    const keyed = typeof given === 'object' && given !== null;
    if (keyed && !reaches(given)) continue;
    out.push(`${by} ${show(given)} is used instead of ${from}'s ${name}${preset === undefined ? ' (it sets none)' : ` ${show(preset)}`}${keyed ? ' for the checks it names' : ''}`);
  }
  return out;
}
