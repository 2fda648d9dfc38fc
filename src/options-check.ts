/**
 * Run-time validation of the library's options. TypeScript checks a caller's options at compile
 * time; JavaScript callers (and `as any`) get nothing, and an option the code never reads was
 * silently ignored: `checkCase('case.npz', { candidate: 'port.npz' })` checked only the reference
 * and passed. Here every option object an entry point of src/index.ts takes is held to a table of
 * the names it knows and what each must be; anything else is a GruCheckError('USAGE') naming the
 * entry point and the option, the way the CLI refuses an unknown flag. The exports' other arguments
 * (a case, a bundle, a runner, a summary, a string, a number) are held to ARG and the check*
 * functions below: a string where a structure belongs is named as such, never a TypeError from
 * deep inside. test/core/safety.ts calls every export of dist/index.js from plain JavaScript.
 */
import { GruCheckError } from './errors.js';
import { clip } from './io/text.js';
import { isCosine, isErrorStat, isQuantile } from './compare/tolerance.js';
import { ERROR_STATS } from './compare/stats.js';
import { isBundle, libraryRules } from './options.js';
import { ACTIVATIONS } from './model/math.js';

/** A value's check and what it must be; `required`: the option must be given (its type says so). */
export type Rule = readonly [check: (v: unknown) => boolean, expected: string, required?: true];

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
const need = (r: Rule): Rule => [r[0], r[1], true];
const whole = (min: number): Rule => [(v) => Number.isInteger(v) && (v as number) >= min, `a whole number >= ${min}`];
const isActivation = (v: unknown): boolean => isObj(v) && (ACTIVATIONS as readonly unknown[]).includes(v.name) && typeof v.alpha === 'number' && typeof v.beta === 'number';
const activation: Rule = [isActivation, `an Activation { name: ${ACTIVATIONS.join(' | ')}, alpha, beta }`];

/** GateMath (result.ts), key by key: withMath's change, and every key of its base. */
const GATE_MATH: Record<string, Rule> = {
  linearBeforeReset: bool,
  f: activation,
  g: activation,
  clip: [(v) => v === null || (typeof v === 'number' && v > 0), 'a number > 0 or null'],
  update: oneOf('standard', 'inverted'),
  bHnOutsideReset: bool,
  gateOrder: [(v) => typeof v === 'string' && [...v].sort().join('') === 'nrz', 'the gate blocks\' order, a permutation of "rzn"'],
};
const isGateMath = (v: unknown): boolean => isObj(v) && Object.keys(GATE_MATH).every((k) => GATE_MATH[k]![0](v[k])) && Object.keys(v).every((k) => k in GATE_MATH);
const math: Rule = [(v) => isGateMath(v) || (Array.isArray(v) && v.length > 0 && v.every(isGateMath)), 'a GateMath (PYTORCH_MATH, withMath(...)) or one per direction'];
const PRECISION_ANY = need(oneOf('f32', 'f64', 'f16'));
const CONTROL = { onProgress: fn, signal };
const TENSOR_AT = { tensor: need(oneOf('output', 'h_n')), subject: need(oneOf('reference', 'candidate')) };

/** The option table's library rows (src/options.ts) as rules. */
const fromTable = (scope: 'case' | 'check'): Record<string, Rule> => Object.fromEntries(Object.entries(libraryRules(scope)).map(([k, kind]) => [k, [kind.is, kind.expected] as Rule]));

/** CaseOptions (model/case.ts): loadCase, buildCase, inspectBundle, and within checkCase's. */
const CASE = fromTable('case');
/** CheckOptions (check.ts): checkCase and diagnoseCase. */
const CHECK = fromTable('check');

function pick(table: Record<string, Rule>, ...keys: string[]): Record<string, Rule> {
  return Object.fromEntries(keys.map((k) => [k, table[k]!]));
}
const nonNegative: Rule = [(v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number >= 0'];
/** CompareOptions (compare/isclose.ts): compareTensors and isClose. */
const COMPARE: Record<string, Rule> = { rtol: need(nonNegative), atol: need(nonNegative), equalNan: need(bool), checkErrorStat: [isErrorStat, ERROR_STATS.join(', ')], errorQuantile: [isQuantile, 'a number from 0 to 1'], minCosine: [isCosine, 'a number from -1 to 1'], maxRelL2: nonNegative };

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
  runGru: { precision: PRECISION_ANY, math },
  runGruFast: { precision: need(oneOf('f32', 'f64')), math, threads, kernel: oneOf('auto', 'js'), ...CONTROL },
  compareTensors: COMPARE,
  // The other exports' options; `entry.argument` for an argument besides the options.
  runStack: { precision: PRECISION_ANY, math },
  'runStack.control': CONTROL,
  fastRunner: { precision: need(oneOf('f32', 'f64')), math, threads, kernel: oneOf('auto', 'js'), ...CONTROL },
  computeGru: { engine: oneOf('fast', 'reference'), threads, precision: PRECISION_ANY, math, decorate: fn, ...CONTROL, trace: bool },
  isClose: COMPARE,
  'resolveTolerance.overrides': pick(CHECK, 'rtol', 'atol', 'checkErrorStat', 'errorQuantile', 'minCosine', 'maxRelL2', 'portPrecision', 'from'),
  'resolveTolerance.at': TENSOR_AT,
  'withMath.base': Object.fromEntries(Object.entries(GATE_MATH).map(([k, r]) => [k, need(r)])),
  'withMath.change': GATE_MATH,
  renderHtml: { maxCells: whole(1), maxPoints: whole(1) },
  renderTable: { colorLevel: need(oneOf(0, 1, 2, 3)), width: whole(1), next: [(v) => Array.isArray(v) && v.every((x) => x === undefined || typeof x === 'string'), 'an array of commands (strings) by case'] },
} satisfies Record<string, Record<string, Rule>>;

/** An options table's key: an entry point, or `entry.argument` for an argument other than its options. */
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
 * Throws GruCheckError('USAGE') unless `options` is a plain object whose every key is one `entry`
 * takes, with a value of the right type (undefined stands for "not given"), holding every key the
 * type requires. Undefined is no options, unless the table requires a key or `given` (the argument
 * is not optional). `entry.argument` names an argument other than the options: `runStack.control`.
 */
export function checkOptionsObject(entry: EntryPoint, options: unknown, given = false): void {
  const [fn, arg] = entry.split('.') as [string, string | undefined];
  const table: Record<string, Rule> = OPTION_TABLES[entry];
  const whose = arg ? `${fn}'s ${arg}` : fn;
  const fail = (what: string, hint?: string): never => {
    throw new GruCheckError('USAGE', `${fn}: ${arg ? `${arg}: ` : ''}${what}`, hint ? { hint } : {});
  };
  const required = Object.keys(table).filter((k) => table[k]![2]);
  if (options === undefined && !given && required.length === 0) return;
  if (!isObj(options) || ArrayBuffer.isView(options)) fail(`${arg ? '' : 'options: '}expected an object${required.length ? ` with ${required.join(', ')}` : ''}, got ${describeValue(options)}`);
  for (const [k, v] of Object.entries(options as object)) {
    const rule = Object.prototype.hasOwnProperty.call(table, k) ? table[k] : undefined;
    if (!rule) {
      const known = Object.keys(table);
      const near = known.filter((n) => distance(k.slice(0, 40), n) <= 2).sort((a, b) => distance(k, a) - distance(k, b))[0];
      fail(`option '${clip(k, 40)}' is not an option of ${whose}`, near ? `did you mean '${near}'?` : `options: ${known.join(', ')}`);
    }
    if (v === undefined) continue;
    if (!rule![0](v)) fail(`option ${k}: expected ${rule![1]}, got ${describeValue(v)}`);
  }
  for (const k of required) if ((options as Record<string, unknown>)[k] === undefined) fail(`option ${k} is required: ${table[k]![1]}`);
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

// ---------------------------------------------------------------------------------------------
// The other arguments of the exports: strings, numbers, runners, results and summaries.

/** Throws GruCheckError('USAGE') `entry: name: expected ..., got ...` unless `rule` holds of `v`. */
export function checkArg(entry: string, name: string, v: unknown, rule: Rule, hint?: string): void {
  if (!rule[0](v)) throw new GruCheckError('USAGE', `${entry}: ${name}: expected ${rule[1]}, got ${describeValue(v)}`, hint ? { hint } : {});
}

const isNumbers = (v: unknown): boolean => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array));
const isRunner = (v: unknown): boolean => isObj(v) && typeof v.name === 'string' && typeof v.floatType === 'function' && typeof v.runLayer === 'function' && ['refuse', 'alloc', 'outsideDone', 'end'].every((k) => v[k] === undefined || typeof v[k] === 'function');

/** The rules of the exports' other arguments, by what they must be. */
export const ARG = {
  string: str,
  function: fn,
  number: [(v) => typeof v === 'number', 'a number'],
  nonNegative,
  positive,
  quantile: [isQuantile, 'a number from 0 to 1'],
  threads,
  dtype: oneOf('float16', 'float32', 'float64'),
  array: [Array.isArray, 'an array'],
  numbers: [isNumbers, 'an array or typed array of numbers'],
  error: [(v) => v instanceof GruCheckError, 'a GruCheckError'],
  runner: [isRunner, 'a Runner { name, floatType(), runLayer() } (REFERENCE_RUNNER, fastRunner(...), afterEachLayer(...))'],
  baseline: [(v) => isObj(v) && (v.gruCheckBaseline === 1 || v.gruCheckBaseline === 2) && isObj(v.cases), 'a baseline from makeBaseline or parseBaseline ({ gruCheckBaseline, cases })'],
} satisfies Record<string, Rule>;

/** A whole number from `min` to `max`, named `name`. */
export function checkWhole(entry: string, name: string, v: unknown, min: number, max: number): void {
  checkArg(entry, name, v, [(x) => Number.isInteger(x) && (x as number) >= min && (x as number) <= max, `a whole number from ${min} to ${max}`]);
}

/** The fields of a CaseResult (result.ts) the renderers, baselines and exit codes read, each named by its path. */
export function checkCaseResult(entry: string, path: string, v: unknown): void {
  const hint = 'pass what checkCase or diagnoseCase returned';
  checkArg(entry, path, v, [isObj, 'a case result from checkCase ({ case, pass, checks })'], hint);
  const c = v as Record<string, unknown>;
  checkArg(entry, `${path}.case`, c.case, str, hint);
  checkArg(entry, `${path}.pass`, c.pass, bool, hint);
  if (c.error !== undefined) checkArg(entry, `${path}.error`, c.error, str, hint);
  checkArg(entry, `${path}.checks`, c.checks, [Array.isArray, 'an array of checks'], hint);
  (c.checks as unknown[]).forEach((k, i) => {
    const at = `${path}.checks[${i}]`;
    checkArg(entry, at, k, [(x) => isObj(x) && typeof x.tensor === 'string' && typeof x.subject === 'string' && typeof x.against === 'string' && typeof x.pass === 'boolean' && Array.isArray(x.shape), 'a check { tensor, subject, against, pass, shape, ... } from compareTensors'], hint);
  });
}

/** A RunSummary (result.ts), as summarize returns it. */
export function checkSummary(entry: string, name: string, v: unknown): void {
  const hint = 'pass summarize(results) over checkCase results';
  checkArg(entry, name, v, [(x) => isObj(x) && typeof x.pass === 'boolean' && isObj(x.summary) && Array.isArray(x.cases), 'a run summary from summarize ({ pass, summary, cases })'], hint);
  const s = v as { summary: Record<string, unknown>; cases: unknown[] };
  for (const k of ['cases', 'passed', 'failed', 'errors']) checkArg(entry, `${name}.summary.${k}`, s.summary[k], whole(0), hint);
  s.cases.forEach((c, i) => checkCaseResult(entry, `${name}.cases[${i}]`, c));
}

/** toUserLayout's result of a run: { output, hN }. */
export function checkRunResult(entry: string, name: string, v: unknown): void {
  checkArg(entry, name, v, [isObj, 'a run result { output, hN } from runGru or runGruFast']);
  const r = v as Record<string, unknown>;
  checkArg(entry, `${name}.output`, r.output, [isFloatArray, 'a Float32Array or Float64Array']);
  checkArg(entry, `${name}.hN`, r.hN, [(x) => x instanceof Float64Array, 'a Float64Array']);
}
