/**
 * Run-time validation of the library's options. TypeScript checks a caller's options at compile
 * time; JavaScript callers (and `as any`) get nothing, and an option the code never reads was
 * silently ignored: `checkCase('case.npz', { candidate: 'port.npz' })` checked only the reference
 * and passed. Here every option object an entry point of src/index.ts takes is held to a table of
 * the names it knows and what each must be; anything else is a GruCheckError('USAGE') naming the
 * entry point and the option, the way the CLI refuses an unknown flag.
 */
import { GruCheckError } from './errors.js';
import { clip } from './io/text.js';
import { isCosine, isErrorStat, isQuantile } from './compare/tolerance.js';
import { ERROR_STATS } from './compare/stats.js';
import { isBundle, libraryRules } from './options.js';

type Rule = [check: (v: unknown) => boolean, expected: string];

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const bool: Rule = [(v) => typeof v === 'boolean', 'true or false'];
const str: Rule = [(v) => typeof v === 'string', 'a string'];
const fn: Rule = [(v) => typeof v === 'function', 'a function'];
const oneOf = (...xs: readonly unknown[]): Rule => [(v) => xs.includes(v), xs.map((x) => JSON.stringify(x)).join(', ')];
const positive: Rule = [(v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a finite number > 0'];
const threads: Rule = [(v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 256, 'a whole number from 1 to 256'];
const isFloatArray = (v: unknown): boolean => v instanceof Float32Array || v instanceof Float64Array;
const isTensor = (v: unknown): boolean => isObj(v) && Array.isArray(v.shape) && v.shape.every((d) => Number.isInteger(d) && (d as number) >= 0) && (ArrayBuffer.isView(v.data) || Array.isArray(v.data));
const isGruCase = (v: unknown): boolean => isObj(v) && isObj(v.params) && isObj(v.config) && isFloatArray(v.input);
const signal: Rule = [(v) => typeof AbortSignal !== 'undefined' && v instanceof AbortSignal, 'an AbortSignal'];

/** The option table's library rows (src/options.ts) as rules. */
const fromTable = (scope: 'case' | 'check'): Record<string, Rule> => Object.fromEntries(Object.entries(libraryRules(scope)).map(([k, kind]) => [k, [kind.is, kind.expected] as Rule]));

/** CaseOptions (model/case.ts): loadCase, buildCase, inspectBundle, and within checkCase's. */
const CASE = fromTable('case');
/** CheckOptions (check.ts): checkCase and diagnoseCase. */
const CHECK = fromTable('check');

/**
 * Every entry point's options. checkCase's and the case readers' come from the option table; the
 * lower-level functions (loading arrays, running a stack, comparing two tensors) take options of
 * their own, in their own units, listed here.
 */
export const OPTION_TABLES = {
  checkCase: CHECK,
  diagnoseCase: CHECK,
  loadCase: { ...CASE, weightsPath: str },
  buildCase: CASE,
  inspectBundle: CASE,
  loadArrays: { maxBytes: positive, onProgress: fn },
  runGru: { precision: oneOf('f32', 'f64', 'f16'), math: [(v) => isObj(v) || Array.isArray(v), 'a GateMath or one per direction'] },
  runGruFast: { precision: oneOf('f32', 'f64'), math: [(v) => isObj(v) || Array.isArray(v), 'a GateMath or one per direction'], threads, kernel: oneOf('auto', 'js'), signal, onProgress: fn },
  compareTensors: { rtol: [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number >= 0'], atol: [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number >= 0'], equalNan: bool, checkErrorStat: [isErrorStat, ERROR_STATS.join(', ')], errorQuantile: [isQuantile, 'a number from 0 to 1'], minCosine: [isCosine, 'a number from -1 to 1'], maxRelL2: [(v) => typeof v === 'number' && v >= 0, 'a number >= 0'] },
} satisfies Record<string, Record<string, Rule>>;

export type EntryPoint = keyof typeof OPTION_TABLES;

/** What a value is, for "got ..." (never the value itself past a few characters). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(clip(v, 40))}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (typeof v === 'function') return 'a function';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return `an object with keys ${clip(Object.keys(v as object).join(', '), 60) || '(none)'}`;
  return typeof v;
}

/** Edit distance, for "did you mean": small strings only. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}

/**
 * Throws GruCheckError('USAGE') unless `options` is undefined or a plain object whose every key is
 * one `entry` takes, with a value of the right type (undefined stands for "not given").
 */
export function checkOptionsObject(entry: EntryPoint, options: unknown): void {
  if (options === undefined) return;
  const fail = (what: string, hint?: string): never => {
    throw new GruCheckError('USAGE', `${entry}: ${what}`, hint ? { hint } : {});
  };
  if (!isObj(options) || ArrayBuffer.isView(options)) fail(`options: expected an object, got ${describeValue(options)}`);
  const table: Record<string, Rule> = OPTION_TABLES[entry];
  for (const [k, v] of Object.entries(options as object)) {
    const rule = Object.prototype.hasOwnProperty.call(table, k) ? table[k] : undefined;
    if (!rule) {
      const known = Object.keys(table);
      const near = known.filter((n) => distance(k.slice(0, 40), n) <= 2).sort((a, b) => distance(k, a) - distance(k, b))[0];
      fail(`option '${clip(k, 40)}' is not an option of ${entry}`, near ? `did you mean '${near}'?` : `options: ${known.join(', ')}`);
    }
    if (v === undefined) continue;
    if (!rule![0](v)) fail(`option ${k}: expected ${rule![1]}, got ${describeValue(v)}`);
  }
}

/** The first argument of checkCase: a path, a bundle from loadArrays, or a case from loadCase/buildCase. */
export function checkCaseInput(entry: string, v: unknown, accept: { path?: boolean; bundle?: boolean; gruCase?: boolean }): void {
  if (accept.path && typeof v === 'string') return;
  if (accept.bundle && isBundle(v)) return;
  if (accept.gruCase && isGruCase(v)) return;
  const wanted = [accept.path && 'a path', accept.bundle && 'a bundle from loadArrays', accept.gruCase && 'a case from loadCase or buildCase'].filter(Boolean).join(', or ');
  throw new GruCheckError('USAGE', `${entry}: expected ${wanted}, got ${describeValue(v)}`, accept.gruCase && !accept.path && typeof v === 'string' ? { hint: `load it first: ${entry}(await loadCase(path))` } : {});
}

/** runGru / runGruFast's input: the arrays of a case, typed. */
export function checkRunInput(entry: string, v: unknown): void {
  const bad = (what: string): never => {
    throw new GruCheckError('USAGE', `${entry}: ${what}`, { hint: 'pass a GruCase from loadCase or buildCase (its params, input, seqLen, batchSize, h0)' });
  };
  if (!isObj(v)) bad(`input: expected { params, input, seqLen, batchSize, h0 }, got ${describeValue(v)}`);
  const r = v as Record<string, unknown>;
  if (!isObj(r.params) || !Array.isArray(r.params.layers)) bad(`input.params: expected GruParams, got ${describeValue(r.params)}`);
  for (const k of ['input', 'h0']) if (!isFloatArray(r[k])) bad(`input.${k}: expected a Float32Array or Float64Array, got ${describeValue(r[k])}`);
  for (const k of ['seqLen', 'batchSize']) if (!Number.isInteger(r[k]) || (r[k] as number) < 0) bad(`input.${k}: expected a whole number, got ${describeValue(r[k])}`);
  if (r.lengths !== undefined && !(r.lengths instanceof Int32Array)) bad(`input.lengths: expected an Int32Array, got ${describeValue(r.lengths)}`);
}

/** compareTensors' tensors: { shape, data }. */
export function checkTensorArg(entry: string, name: string, v: unknown): void {
  if (!isTensor(v)) throw new GruCheckError('USAGE', `${entry}: ${name}: expected a tensor { shape: number[], data: a typed array }, got ${describeValue(v)}`);
}
