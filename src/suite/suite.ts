/**
 * Suites: many cases in one run, each with its own candidate (or ONNX model), weights, prefix,
 * layout, tolerances and baseline (`gru-check run --suite FILE.json`), and shards to split a list of
 * cases across CI jobs. The file format is schema/suite.schema.json; this module validates a suite
 * once, at the boundary, naming the first wrong key by its path (`cases[2].rtol: ...`), and resolves
 * every path relative to the suite file. An unknown key is refused: a misspelt "candiate" would
 * otherwise check a case without its port and pass.
 *
 * Pure: the caller reads the file (io/json.ts readBoundedText) and hands the text; the text is parsed
 * as bounded JSON (depth, finite numbers, no `__proto__` keys). Messages quote the suite's own keys
 * and values, clipped, and only once the file has said it is a suite ("gruCheckSuite": 1): a path
 * that names some other JSON file gets no line of its content printed.
 */
import { GruCheckError } from '../errors.js';
import { parseBoundedJson } from '../io/json.js';
import { clip } from '../io/text.js';
import { CANDIDATE_LAYOUTS, type CandidateLayout } from '../candidate/align.js';
import { PORT_PRECISIONS, isCosine, isErrorStat, isKeyedSpec, isQuantile, isToleranceSpec, type Keyed, type PortPrecision, type ToleranceSpec } from '../compare/tolerance.js';
import { ERROR_STATS, type ErrorStat } from '../compare/stats.js';
import { PADDED_STEPS_MODES, type PaddedStepsMode } from '../check.js';

/** What a suite entry (or the suite's defaults) may set; paths as written in the file. */
export interface SuiteSettings {
  candidate?: string;
  candidateLayout?: CandidateLayout;
  paddedSteps?: PaddedStepsMode;
  onnx?: string;
  onnxMap?: string;
  weights?: string;
  prefix?: string;
  node?: string;
  layout?: 'pytorch' | 'onnx' | 'keras';
  batchFirst?: boolean;
  linearBeforeReset?: boolean;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  onnxLayout?: 0 | 1;
  gateOrder?: 'zrn' | 'rzn';
  clip?: number;
  activations?: string[];
  activationAlpha?: number[];
  activationBeta?: number[];
  /** One number for every check, or values per tensor / check (compare/tolerance.ts). */
  rtol?: ToleranceSpec;
  atol?: ToleranceSpec;
  /** How checks pass: 'elemwise' or a statistic, one for all or per tensor / check. */
  checkErrorStat?: Keyed<ErrorStat>;
  errorQuantile?: number;
  minCosine?: ToleranceSpec;
  maxRelL2?: ToleranceSpec;
  portPrecision?: PortPrecision;
  equalNan?: boolean;
  precision?: 'f32' | 'f64';
  baseline?: string;
  baselineFactor?: number;
}

export interface SuiteEntry extends SuiteSettings {
  /** The case: an .npz, a .npy folder, ... */
  case: string;
  /** A label for reports (default: the case path). */
  name?: string;
}

export interface Suite {
  file: string;
  defaults: SuiteSettings;
  cases: SuiteEntry[];
}

type Check = (v: unknown) => boolean;
const isNum: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const str: Check = (v) => typeof v === 'string' && v.length > 0;
const bool: Check = (v) => typeof v === 'boolean';
const oneOf = (...xs: unknown[]): Check => (v) => xs.includes(v);
const strings: Check = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const numbers: Check = (v) => Array.isArray(v) && v.every(isNum);

/** Every key a suite entry may hold, with its check and what it must be (for messages). */
const SETTINGS: Record<keyof SuiteSettings, [Check, string]> = {
  candidate: [str, 'a path'],
  candidateLayout: [oneOf(...CANDIDATE_LAYOUTS), CANDIDATE_LAYOUTS.map((l) => `"${l}"`).join(', ')],
  paddedSteps: [oneOf(...PADDED_STEPS_MODES), PADDED_STEPS_MODES.map((m) => `"${m}"`).join(' or ')],
  onnx: [str, 'a path to an .onnx model'],
  onnxMap: [str, 'role=name pairs, e.g. "input=X,output=Y"'],
  weights: [str, 'a path'],
  prefix: [(v) => typeof v === 'string', 'a module prefix'],
  node: [str, 'an ONNX node name'],
  layout: [oneOf('pytorch', 'onnx', 'keras'), '"pytorch", "onnx" or "keras"'],
  batchFirst: [bool, 'true or false'],
  linearBeforeReset: [bool, 'true or false'],
  direction: [oneOf('forward', 'reverse', 'bidirectional'), '"forward", "reverse" or "bidirectional"'],
  onnxLayout: [oneOf(0, 1), '0 or 1'],
  gateOrder: [oneOf('zrn', 'rzn'), '"zrn" or "rzn"'],
  clip: [(v) => isNum(v) && (v as number) > 0, 'a positive number'],
  activations: [strings, 'a list of ONNX activation names'],
  activationAlpha: [numbers, 'a list of numbers'],
  activationBeta: [numbers, 'a list of numbers'],
  rtol: [isToleranceSpec, 'a number >= 0, or numbers by tensor/check, e.g. {"output": 1e-3, "h_n": 1e-4}'],
  atol: [isToleranceSpec, 'a number >= 0, or numbers by tensor/check, e.g. {"output": 1e-3, "candidate.h_n": 1e-4}'],
  checkErrorStat: [(v) => isKeyedSpec(v, isErrorStat), `one of ${ERROR_STATS.map((x) => `"${x}"`).join(', ')}, or those by tensor/check, e.g. {"candidate": "mean"}`],
  errorQuantile: [isQuantile, 'a number from 0 to 1'],
  minCosine: [(v) => isKeyedSpec(v, isCosine), 'a number from -1 to 1, or numbers by tensor/check'],
  maxRelL2: [isToleranceSpec, 'a number >= 0, or numbers by tensor/check'],
  portPrecision: [oneOf(...PORT_PRECISIONS), PORT_PRECISIONS.map((p) => `"${p}"`).join(', ')],
  equalNan: [bool, 'true or false'],
  precision: [oneOf('f32', 'f64'), '"f32" or "f64"'],
  baseline: [str, 'a path to a baseline written by --save-baseline'],
  baselineFactor: [(v) => isNum(v) && (v as number) >= 1, 'a number >= 1'],
};
/** Keys that hold paths: resolved relative to the suite file. */
const PATH_KEYS = ['candidate', 'onnx', 'weights', 'baseline'] as const;

/** A value from the suite as a message shows it: JSON, clipped to a few words. */
const shown = (v: unknown): string => clip(JSON.stringify(v) ?? String(v), 60);
/** A key from the suite as a message shows it. */
const shownKey = (k: string): string => clip(k, 60);

function settings(o: unknown, where: string, file: string, extra: string[]): SuiteSettings & Record<string, unknown> {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new GruCheckError('BAD_CONFIG', `${where}: expected an object, got ${shown(o)}`, { file });
  for (const [k, v] of Object.entries(o)) {
    if (extra.includes(k)) continue;
    // Own keys only: "toString" must be "not a suite key", not Object.prototype's function.
    const rule = Object.prototype.hasOwnProperty.call(SETTINGS, k) ? SETTINGS[k as keyof SuiteSettings] : undefined;
    if (!rule) {
      throw new GruCheckError('BAD_CONFIG', `${where}.${shownKey(k)}: not a suite key`, { file, hint: `keys: ${[...extra, ...Object.keys(SETTINGS)].join(', ')} (schema/suite.schema.json)` });
    }
    if (!rule[0](v)) throw new GruCheckError('BAD_CONFIG', `${where}.${k}: expected ${rule[1]}, got ${shown(v)}`, { file });
  }
  return o as SuiteSettings & Record<string, unknown>;
}

/**
 * Parses and validates a suite. `resolve(path, where)` turns a path written in the suite into one
 * the caller can open (relative to the suite file's folder), or throws; `where` names the key
 * (`cases[2].baseline`) for its message.
 */
export function parseSuite(text: string, file: string, resolve: (p: string, where: string) => string): Suite {
  const doc = parseBoundedJson(text, 'suite', file);
  // First of all: is this a suite? Until it says so, nothing of it is quoted.
  const version = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as { gruCheckSuite?: unknown }).gruCheckSuite : undefined;
  if (version === undefined) throw new GruCheckError('BAD_CONFIG', 'not a gru-check suite: expected an object with "gruCheckSuite": 1', { file, hint: 'see schema/suite.schema.json' });
  if (version !== 1) throw new GruCheckError('BAD_CONFIG', `suite: gruCheckSuite must be 1, got ${shown(version)}`, { file, hint: 'see schema/suite.schema.json' });
  const d = settings(doc, 'suite', file, ['gruCheckSuite', 'defaults', 'cases', '$schema', 'description']);
  for (const k of Object.keys(SETTINGS)) {
    if (k in d) throw new GruCheckError('BAD_CONFIG', `suite.${k}: settings go in "defaults" or in a case`, { file });
  }
  const defaults = d.defaults === undefined ? {} : settings(d.defaults, 'defaults', file, []);
  if (!Array.isArray(d.cases) || d.cases.length === 0) throw new GruCheckError('BAD_CONFIG', 'suite.cases: expected a non-empty list of cases', { file });
  const fix = <T extends SuiteSettings>(s: T, where: string): T => {
    const out: Record<string, unknown> = { ...(s as Record<string, unknown>) };
    for (const k of PATH_KEYS) if (typeof out[k] === 'string') out[k] = resolve(out[k] as string, `${where}.${k}`);
    return out as T;
  };
  const cases = (d.cases as unknown[]).map((c, i) => {
    const e = settings(c, `cases[${i}]`, file, ['case', 'name']);
    if (!str(e.case)) throw new GruCheckError('BAD_CONFIG', `cases[${i}].case: expected the path of a case, got ${shown(e.case)}`, { file });
    if (e.name !== undefined && !str(e.name)) throw new GruCheckError('BAD_CONFIG', `cases[${i}].name: expected a label, got ${shown(e.name)}`, { file });
    const entry = fix(e as unknown as SuiteEntry, `cases[${i}]`);
    entry.case = resolve(e.case as string, `cases[${i}].case`);
    if (entry.candidate !== undefined && entry.onnx !== undefined) throw new GruCheckError('BAD_CONFIG', `cases[${i}]: candidate and onnx both name the port: keep one`, { file });
    return entry;
  });
  return { file, defaults: fix(defaults, 'defaults'), cases };
}

/** `K/N` -> [K, N] with 1 <= K <= N. */
export function parseShard(text: string): [number, number] {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new GruCheckError('USAGE', `--shard expects K/N with 1 <= K <= N, got '${text}'`, { hint: 'e.g. --shard 2/4 runs the second of four shards' });
  return [k, n];
}

/**
 * Shard K of N: items i with i % N == K - 1, in order. Deterministic for a given list, every item
 * in exactly one shard, sizes within one of each other.
 */
export function shardOf<T>(items: readonly T[], k: number, n: number): T[] {
  return items.filter((_, i) => i % n === k - 1);
}
