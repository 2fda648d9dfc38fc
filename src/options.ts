/**
 * The option table: every setting gru-check takes, once. A row names the option (its key is the
 * suite key, the library option, commander's attribute and the provenance key), what a value is
 * (a Kind: the check, the words of "expected ...", the JSON Schema, the CLI's parser), and where it
 * applies: the command line (flag, help, commands, default), a suite, the library. From the rows:
 *   src/cli/flags.ts       the commander options of run, diagnose and inspect, in this order, and
 *                          the flags a failing run repeats in its diagnose command (cli/next.ts);
 *   src/suite/suite.ts     the suite keys and their validation; the suite-over-flags merge;
 *   src/suite/schema.ts    schema/suite.schema.json (schema/make-suite-schema.ts writes it);
 *   src/options-check.ts   the library's run-time validation of checkCase's options and the others;
 *   `from`                 the provenance map: the suite that set a setting whose source a report
 *                          names (rows with `provenance`); else its flag (compare/tolerance.ts).
 * Pure data and parsers: no commander, no file access. Parsers throw GruCheckError('USAGE'), which
 * the CLI turns into commander's usage error.
 */
import { GruCheckError } from './errors.js';
import { CANDIDATE_LAYOUTS } from './candidate/align.js';
import { PADDED_STEPS_MODES } from './compare/padded.js';
import { PORT_PRECISIONS, TOLERANCE_KEYS, isCosine, isErrorStat, isKeyedSpec, isQuantile, isToleranceSpec, parseCosineSpec, parseErrorStatSpec, parseToleranceSpec, type Keyed, type ToleranceSpec } from './compare/tolerance.js';
import { ERROR_STATS, type ErrorStat } from './compare/stats.js';
import { OUTSIDE_FLAG } from './suite/paths.js';

/** What a value of an option is, wherever it is given. */
export interface Kind<T> {
  /** Is this a value (a suite's JSON value, a library caller's option)? */
  is: (v: unknown) => boolean;
  /** What a value must be, in "<where>: expected <this>, got <value>". */
  expected: string;
  /** The suite schema of one value (absent: not a suite value). */
  schema?: Record<string, unknown>;
  /** The CLI's argument as a value; throws GruCheckError('USAGE') worded for the flag. */
  parse?: (text: string, flag: string) => T;
  /** An enumeration's values: commander's choices, the schema's enum. */
  values?: readonly T[];
  /** One value or values by tensor/check: the CLI writes it back as `output:1e-3,h_n:1e-4`. */
  keyed?: true;
  /** Phantom: the value's type. */
  readonly type?: T;
}

const usage = (message: string): never => {
  throw new GruCheckError('USAGE', message);
};
/** A number from the command line that `ok` accepts, or the flag's one-line usage error. */
const numberArg = (ok: (x: number, text: string) => boolean, what: string) => (text: string, flag: string): number => {
  const x = Number(text);
  return text.trim() !== '' && Number.isFinite(x) && ok(x, text) ? x : usage(`${flag} expects ${what}, got '${text}'`);
};
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A string; `nonEmpty` refuses ''. */
export const text = (expected: string, nonEmpty = true): Kind<string> => ({
  is: (v) => typeof v === 'string' && (!nonEmpty || v.length > 0),
  expected,
  schema: nonEmpty ? { type: 'string', minLength: 1 } : { type: 'string' },
  parse: (s) => s,
});
export const BOOL: Kind<boolean> = { is: (v) => typeof v === 'boolean', expected: 'true or false', schema: { type: 'boolean' } };
export const oneOf = <T extends string | number>(values: readonly T[]): Kind<T> => ({
  is: (v) => (values as readonly unknown[]).includes(v),
  expected: values.map((x) => JSON.stringify(x)).join(', '),
  schema: { enum: [...values] },
  values,
});
const POSITIVE: Kind<number> = { is: (v) => finite(v) && v > 0, expected: 'a positive number', schema: { type: 'number', exclusiveMinimum: 0 }, parse: numberArg((x) => x > 0, 'a positive number') };
const QUANTILE: Kind<number> = { is: isQuantile, expected: 'a number from 0 to 1', schema: { type: 'number', minimum: 0, maximum: 1 }, parse: numberArg((x) => x >= 0 && x <= 1, 'a number from 0 to 1') };
const AT_LEAST_ONE: Kind<number> = { is: (v) => finite(v) && v >= 1, expected: 'a number >= 1', schema: { type: 'number', minimum: 1 }, parse: numberArg((x) => x >= 1, 'a number >= 1') };
const THREADS: Kind<number> = { is: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 256, expected: 'a whole number from 1 to 256', parse: numberArg((x, s) => /^\s*\d+\s*$/.test(s) && x >= 1 && x <= 256, 'a whole number from 1 to 256') };
/** 4G, 512M, 1000000 (bytes); the library takes a number. */
const BYTES: Kind<number> = {
  is: (v) => finite(v) && v > 0,
  expected: 'a finite number > 0',
  parse: (s, flag) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(s);
    if (!m) usage(`${flag} expects a size such as 4G, 512M or 1000000, got '${s}'`);
    return Math.floor(Number(m![1]) * 1024 ** ' kmgt'.indexOf((m![2] || ' ').toLowerCase()));
  },
};
const NUMBERS: Kind<number[]> = {
  is: (v) => Array.isArray(v) && v.every(finite),
  expected: 'a list of numbers',
  schema: { type: 'array', items: { type: 'number' } },
  parse: (s, flag) => {
    const xs = s.split(',').map((v) => v.trim());
    return xs.some((v) => v === '' || !Number.isFinite(Number(v))) ? usage(`${flag} expects comma-separated numbers, got '${s}'`) : xs.map(Number);
  },
};
const ACTIVATIONS: Kind<string[]> = {
  is: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  expected: 'a list of ONNX activation names',
  schema: { type: 'array', items: { type: 'string' } },
  parse: (s, flag) => {
    const xs = s.split(',').map((v) => v.trim());
    return xs.some((v) => !/^[A-Za-z]+$/.test(v)) ? usage(`${flag} expects comma-separated activation names, got '${s}'`) : xs;
  },
};
/** One value for every check or values by tensor/check (compare/tolerance.ts TOLERANCE_KEYS). */
const keyed = <T>(one: Record<string, unknown>, is: (v: unknown) => boolean, expected: string, parse: (s: string, flag: string) => Keyed<T>): Kind<Keyed<T>> => ({
  is,
  expected,
  schema: { oneOf: [one, { type: 'object', minProperties: 1, additionalProperties: false, properties: Object.fromEntries(TOLERANCE_KEYS.map((k) => [k, one])) }] },
  parse,
  keyed: true,
});
const tolerance = (example = ''): Kind<ToleranceSpec> => keyed({ type: 'number', minimum: 0 }, isToleranceSpec, `a number >= 0, or numbers by tensor/check${example}`, parseToleranceSpec);
const ERROR_STAT: Kind<Keyed<ErrorStat>> = keyed({ enum: [...ERROR_STATS] }, (v) => isKeyedSpec(v, isErrorStat), `one of ${ERROR_STATS.map((x) => `"${x}"`).join(', ')}, or those by tensor/check, e.g. {"candidate": "mean"}`, parseErrorStatSpec);
const COSINE: Kind<ToleranceSpec> = keyed({ type: 'number', minimum: -1, maximum: 1 }, (v) => isKeyedSpec(v, isCosine), 'a number from -1 to 1, or numbers by tensor/check', parseCosineSpec);

// What only the library takes (a script hands objects where the CLI and suites name files).
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isTensor = (v: unknown): boolean => isObj(v) && Array.isArray(v.shape) && v.shape.every((d) => Number.isInteger(d) && (d as number) >= 0) && (ArrayBuffer.isView(v.data) || Array.isArray(v.data));
export const isBundle = (v: unknown): boolean => isObj(v) && v.arrays instanceof Map && typeof v.source === 'string';
const lib = (is: (v: unknown) => boolean, expected: string): Kind<unknown> => ({ is, expected });
const BUNDLE = lib(isBundle, 'a bundle from loadArrays');
const FN = lib((v) => typeof v === 'function', 'a function');
const SIGNAL = lib((v) => typeof AbortSignal !== 'undefined' && v instanceof AbortSignal, 'an AbortSignal');

/** 4 GiB: far above any real GRU dump, far below what would take the machine down. */
export const DEFAULT_MAX_BYTES = 4 * 2 ** 30;

export type Command = 'run' | 'diagnose' | 'inspect';
const CASE: readonly Command[] = ['run', 'diagnose', 'inspect'];
const CHECK: readonly Command[] = ['run', 'diagnose'];
const RUN: readonly Command[] = ['run'];

/** The command line side of an option. */
export interface CliSide {
  /** The flag as commander takes it: `--rtol <r>`, `--equal-nan` (a switch), `--no-color`. */
  flag: string;
  help: string;
  commands: readonly Command[];
  default?: unknown;
  /** How --help shows the default, when not as the value itself (4G, not 4294967296). */
  defaultText?: string;
  /** The words the flag takes when they are not the values themselves (`--onnx-layout 0|1`). */
  words?: Readonly<Record<string, unknown>>;
  /** A switch setting the option to false (`--seq-first` for batchFirst). */
  off?: { flag: string; help: string };
  /** The key of an option this one cannot be given with. */
  conflicts?: string;
  /** false: a failing run's diagnose command leaves it out (it changes how, not what, is checked). */
  carried?: false;
}

/** The library side: 'case' options reach every entry point that reads a case, 'check' ones checkCase and diagnoseCase. */
export interface LibrarySide {
  scope: 'case' | 'check';
  /** What the library takes instead of the suite's value (a bundle, not a path). */
  value?: Kind<unknown>;
  /** What checkCase and diagnoseCase take, when more than the other entry points. */
  inCheck?: Kind<unknown>;
}

export interface OptionRow {
  key: string;
  value: Kind<unknown>;
  cli?: CliSide;
  /** A suite key; 'path': a path, resolved against the suite's folder. */
  suite?: { path?: true; doc?: string };
  library?: LibrarySide;
  /** Reports name who set it ('--rtol', 'suite case', ...): `from` carries the suite's name. */
  provenance?: true;
}

const row = <const R extends OptionRow>(r: R): R => r;

/** Every option, in the order of the help text. */
export const OPTIONS = [
  // Every command that reads a case.
  row({ key: 'weights', value: text('a path'), cli: { flag: '--weights <file>', help: 'take the weights from this file instead of the case: .npz, .npy directory, torch.save (.pt/.pth), .safetensors, .onnx (a GRU node), Keras .weights.h5 / .keras', commands: CASE }, suite: { path: true, doc: 'Take the weights from this file (.npz, .npy folder, .pt/.pth, .safetensors, .onnx) instead of the case.' }, library: { scope: 'case', value: BUNDLE, inCheck: lib((v) => isBundle(v) || typeof v === 'string', 'a path or a bundle from loadArrays') } }),
  row({ key: 'prefix', value: text('a module prefix', false), cli: { flag: '--prefix <prefix>', help: 'module prefix of the GRU weights when the file holds several (e.g. encoder.rnn)', commands: CASE }, suite: { doc: 'Module prefix of the GRU\'s weights when the file holds several (e.g. "encoder.rnn").' }, library: { scope: 'case' } }),
  row({ key: 'node', value: text('an ONNX node name'), cli: { flag: '--node <name>', help: 'with --weights model.onnx holding several GRUs: any GRU node of the one to check', commands: CASE }, suite: { doc: 'With an .onnx weights file holding several GRUs: any GRU node of the one to check.' }, library: { scope: 'case' } }),
  row({ key: 'batchFirst', value: BOOL, cli: { flag: '--batch-first', help: 'input and output are (batch, seq, feature)', commands: CASE, off: { flag: '--seq-first', help: 'input and output are (seq, batch, feature)' } }, suite: {}, library: { scope: 'case' } }),
  row({ key: 'layout', value: oneOf(['pytorch', 'onnx', 'keras'] as const), cli: { flag: '--layout <layout>', help: 'weight names and tensor layout (default: config.layout, else recognised from the names)', commands: CASE }, suite: {}, library: { scope: 'case' } }),
  row({ key: 'linearBeforeReset', value: BOOL, cli: { flag: '--linear-before-reset <n>', help: 'ONNX layout: linear_before_reset (default: config, else 0 as in ONNX)', commands: CASE, words: { 0: false, 1: true } }, suite: { doc: 'ONNX layout: linear_before_reset.' }, library: { scope: 'case' } }),
  row({ key: 'direction', value: oneOf(['forward', 'reverse', 'bidirectional'] as const), cli: { flag: '--direction <d>', help: 'ONNX layout: direction (default: config, else from W)', commands: CASE }, suite: { doc: 'ONNX layout: direction.' }, library: { scope: 'case' } }),
  row({ key: 'onnxLayout', value: oneOf([0, 1] as const), cli: { flag: '--onnx-layout <n>', help: "ONNX layout: the node's layout attribute, 0 (X [T, B, I]) or 1 (X [B, T, I]); --batch-first / --seq-first mean 1 / 0", commands: CASE, words: { 0: 0, 1: 1 } }, suite: { doc: "ONNX layout: the node's layout attribute." }, library: { scope: 'case' } }),
  row({ key: 'gateOrder', value: oneOf(['zrn', 'rzn'] as const), cli: { flag: '--gate-order <order>', help: "ONNX layout: how W, R and B stack the gates: zrn (ONNX's z|r|h, default) or rzn (r|z|h, as WebNN's gru may)", commands: CASE }, suite: { doc: "ONNX layout: the order of the gate blocks in W, R and B: zrn (ONNX's z|r|h) or rzn (r|z|h, as WebNN's gru may store them)." }, library: { scope: 'case' } }),
  row({ key: 'clip', value: POSITIVE, cli: { flag: '--clip <x>', help: 'ONNX layout: clip threshold for the gate pre-activations (default: config.clip, else none)', commands: CASE }, suite: { doc: 'ONNX layout: clip threshold.' }, library: { scope: 'case' } }),
  row({ key: 'activations', value: ACTIVATIONS, cli: { flag: '--activations <list>', help: 'ONNX layout: activations f,g (f,g,f,g when bidirectional), e.g. HardSigmoid,Tanh', commands: CASE }, suite: { doc: 'ONNX layout: activations f,g (f,g,f,g when bidirectional).' }, library: { scope: 'case' } }),
  row({ key: 'activationAlpha', value: NUMBERS, cli: { flag: '--activation-alpha <list>', help: 'ONNX layout: activation_alpha values, comma-separated', commands: CASE }, suite: {}, library: { scope: 'case' } }),
  row({ key: 'activationBeta', value: NUMBERS, cli: { flag: '--activation-beta <list>', help: 'ONNX layout: activation_beta values, comma-separated', commands: CASE }, suite: {}, library: { scope: 'case' } }),
  row({ key: 'maxBytes', value: BYTES, cli: { flag: '--max-bytes <size>', help: 'refuse inputs, or a computation, needing more memory than this (e.g. 512M, 8G)', commands: CASE, default: DEFAULT_MAX_BYTES, defaultText: '4G', carried: false }, library: { scope: 'case' } }),
  row({ key: 'color', value: BOOL, cli: { flag: '--no-color', help: 'no colours (also NO_COLOR=1)', commands: CASE, carried: false } }),
  // run and diagnose: what is checked against what.
  row({ key: 'candidate', value: text('a path'), cli: { flag: '--candidate <file>', help: "a port's output and/or h_n (also read: Y/Y_h, forward_h/backward_h, a GRUCell's h) to check against the reference", commands: CHECK }, suite: { path: true, doc: "A port's output and/or h_n (.npz or .npy folder), relative to the suite file." }, library: { scope: 'check', value: lib((v) => typeof v === 'string' || (isObj(v) && typeof v.source === 'string' && (isTensor(v.output) || isTensor(v.h_n) || Array.isArray(v.states))), "a path (.npz, .npy folder, ...) or the tensors readCandidate returns ({ source, output?, h_n? })") } }),
  row({ key: 'onnx', value: text('a path to an .onnx model'), cli: { flag: '--onnx <model>', help: 'run this ONNX model on the case (ONNX Runtime: npm install --no-save --ignore-scripts onnxruntime-node@1.30.0) and check its outputs as the candidate', commands: CHECK, conflicts: 'candidate' }, suite: { path: true, doc: 'An ONNX model to run on the case\'s input with ONNX Runtime; its outputs are the candidate.' }, library: { scope: 'check', value: lib((v) => isObj(v) && typeof v.model === 'string' && (v.map === undefined || (isObj(v.map) && Object.values(v.map).every((x) => typeof x === 'string'))) && Object.keys(v).every((k) => k === 'model' || k === 'map'), '{ model: path, map?: { input?: name, ... } }') } }),
  row({ key: 'onnxMap', value: text('role=name pairs, e.g. "input=X,output=Y"'), cli: { flag: '--onnx-map <map>', help: 'with --onnx: the model\'s input/output names by role, e.g. input=X,h0=initial_h,output=Y,h_n=Y_h', commands: CHECK }, suite: { doc: 'The ONNX model\'s input/output names by role, e.g. "input=X,h0=initial_h,output=Y,h_n=Y_h".' } }),
  row({ key: 'candidateLayout', value: oneOf(CANDIDATE_LAYOUTS), cli: { flag: '--candidate-layout <layout>', help: "how the candidate's output is laid out, when its shape cannot tell (batch == time steps)", commands: CHECK }, suite: { doc: "How the candidate's output is laid out when its shape cannot tell (batch == time steps)." }, library: { scope: 'check' } }),
  row({ key: 'paddedSteps', value: oneOf(PADDED_STEPS_MODES), cli: { flag: '--padded-steps <mode>', help: "a case with lengths: strict compares the candidate's output at padded steps (t >= lengths[b]) with PyTorch's zeros; ignore compares the valid steps only (Keras masking, Flax seq_lengths)", commands: CHECK, default: 'strict' }, suite: { doc: 'A case with lengths: "strict" (default) compares the candidate\'s output at padded steps (t >= lengths[b]) with PyTorch\'s zeros; "ignore" compares the valid steps only (Keras masking, Flax seq_lengths).' }, library: { scope: 'check' } }),
  row({ key: 'rtol', value: tolerance(', e.g. {"output": 1e-3, "h_n": 1e-4}'), cli: { flag: '--rtol <r>', help: "relative tolerance, one value or per tensor/check: output:1e-3,h_n:1e-4,candidate.h_n:1e-3 (default: torch.testing.assert_close's for the dtype)", commands: CHECK }, suite: { doc: 'One value for every check, or values by tensor/check; the most specific key wins: candidate.h_n over h_n over candidate over *.' }, library: { scope: 'check' }, provenance: true }),
  row({ key: 'atol', value: tolerance(', e.g. {"output": 1e-3, "candidate.h_n": 1e-4}'), cli: { flag: '--atol <a>', help: "absolute tolerance, one value or per tensor/check, as --rtol (default: torch.testing.assert_close's for the dtype)", commands: CHECK }, suite: { doc: 'One value for every check, or values by tensor/check; the most specific key wins: candidate.h_n over h_n over candidate over *.' }, library: { scope: 'check' }, provenance: true }),
  row({ key: 'equalNan', value: BOOL, cli: { flag: '--equal-nan', help: 'count NaN == NaN as a match', commands: CHECK }, suite: {}, library: { scope: 'check' } }),
  row({ key: 'precision', value: oneOf(['f32', 'f64'] as const), cli: { flag: '--precision <p>', help: 'f32: round the state to float32 each step; f64: keep float64 (default: f64 for float64 dumps, else f32)', commands: CHECK }, suite: {}, library: { scope: 'check' } }),
  row({ key: 'engine', value: oneOf(['fast', 'reference'] as const), cli: { flag: '--engine <engine>', help: 'fast: blocked wasm SIMD products on worker threads; reference: the plain loops, easy to audit', commands: CHECK, default: 'fast', carried: false }, library: { scope: 'check' } }),
  row({ key: 'threads', value: THREADS, cli: { flag: '--threads <n>', help: 'worker threads for the fast engine (default: all cores for long runs, 1 for short ones)', commands: CHECK, carried: false }, library: { scope: 'check' } }),
  // run's pass criteria beyond isclose (compare/tolerance.ts); diagnose holds its variants to isclose.
  row({ key: 'checkErrorStat', value: ERROR_STAT, cli: { flag: '--check-error-stat <stat>', help: 'how a check passes: elemwise (isclose on every element, the default), or max|mean|median|quantile: that statistic of |a-e| <= atol + rtol x the same statistic of |e|; one value or per tensor/check, as --rtol', commands: RUN }, suite: { doc: 'How a check passes: "elemwise" (isclose on every element, the default) or "max" | "mean" | "median" | "quantile": that statistic of |a - e| <= atol + rtol * the same statistic of |e|. One value or values by tensor/check, as rtol.' }, library: { scope: 'check' }, provenance: true }),
  row({ key: 'errorQuantile', value: QUANTILE, cli: { flag: '--error-quantile <q>', help: 'q of the reported quantile of |error| and of --check-error-stat quantile (default 0.99)', commands: RUN }, suite: { doc: 'q of the reported quantile of |error| and of checkErrorStat "quantile" (default 0.99).' }, library: { scope: 'check' } }),
  row({ key: 'minCosine', value: COSINE, cli: { flag: '--min-cosine <c>', help: 'also require cosine(actual, expected) >= c; one value or per tensor/check', commands: RUN }, suite: { doc: 'Also require cosine(actual, expected) >= this; one value or values by tensor/check.' }, library: { scope: 'check' }, provenance: true }),
  row({ key: 'maxRelL2', value: tolerance(), cli: { flag: '--max-rel-l2 <x>', help: 'also require ||actual - expected|| / ||expected|| <= x; one value or per tensor/check', commands: RUN }, suite: { doc: 'Also require ||actual - expected|| / ||expected|| <= this; one value or values by tensor/check.' }, library: { scope: 'check' }, provenance: true }),
  row({ key: 'portPrecision', value: oneOf(PORT_PRECISIONS), cli: { flag: '--port-precision <p>', help: "judge the candidate's checks by a documented preset for a port computing in this precision (docs/tolerances.md: Choosing tolerances); explicit flags override its values", commands: RUN }, suite: { doc: "Judge the candidate's checks by this precision preset (docs/tolerances.md: Choosing tolerances); the case's own rtol, atol, checkErrorStat, minCosine, maxRelL2 override its values." }, library: { scope: 'check' }, provenance: true }),
  // run only: which cases, what is written, baselines.
  row({ key: 'suite', value: text('a path'), cli: { flag: '--suite <file>', help: 'run the cases of this suite file, each with its own candidate, weights and tolerances (schema/suite.schema.json)', commands: RUN } }),
  row({ key: 'shard', value: text('K/N'), cli: { flag: '--shard <K/N>', help: 'check only shard K of N of the cases (round robin, in the order given): split a suite across CI jobs', commands: RUN } }),
  row({ key: 'allowOutsideSuite', value: BOOL, cli: { flag: OUTSIDE_FLAG, help: "let a suite's paths leave the suite's folder (.., absolute paths, symbolic links out)", commands: RUN } }),
  row({ key: 'format', value: oneOf(['table', 'json', 'junit', 'markdown', 'html'] as const), cli: { flag: '--format <format>', help: 'output format', commands: RUN, default: 'table' } }),
  row({ key: 'report', value: text('a path'), cli: { flag: '--report <file>', help: 'also write a report to this file; format from the extension: .xml (JUnit), .md, .html, .json', commands: RUN } }),
  row({ key: 'saveBaseline', value: text('a path'), cli: { flag: '--save-baseline <file>', help: "record each check's max abs error to this file: entries of the cases checked are replaced, others kept", commands: RUN } }),
  row({ key: 'baseline', value: text('a path to a baseline written by --save-baseline'), cli: { flag: '--baseline <file>', help: 'fail any check whose max abs error grew past --baseline-factor x the recorded one', commands: RUN }, suite: { path: true, doc: 'A baseline written by --save-baseline; this case fails if its errors grew past baselineFactor times the recorded ones.' } }),
  row({ key: 'baselineFactor', value: AT_LEAST_ONE, cli: { flag: '--baseline-factor <x>', help: 'allowed growth over the baseline', commands: RUN, default: 2 }, suite: {} }),
  // diagnose and inspect print a table or JSON.
  row({ key: 'format', value: oneOf(['table', 'json'] as const), cli: { flag: '--format <format>', help: 'output format', commands: ['diagnose', 'inspect'], default: 'table', carried: false } }),
  // The library's own: what a script asks of the check beyond the settings.
  row({ key: 'requireExpected', value: BOOL, library: { scope: 'case' } }),
  row({ key: 'signal', value: SIGNAL, library: { scope: 'check' } }),
  row({ key: 'stepErrors', value: BOOL, library: { scope: 'check' } }),
  row({ key: 'errorMaps', value: BOOL, library: { scope: 'check' } }),
  row({ key: 'statistics', value: BOOL, library: { scope: 'check' } }),
  row({ key: 'histograms', value: BOOL, library: { scope: 'check' } }),
  row({ key: 'trace', value: BOOL, library: { scope: 'check' } }),
  row({ key: 'fingerprint', value: BOOL, library: { scope: 'check' } }),
  row({ key: 'onProgress', value: FN, library: { scope: 'check' } }),
] as const satisfies readonly OptionRow[];

export type OptionKey = (typeof OPTIONS)[number]['key'];
type ValueOf<R> = R extends { value: Kind<infer T> } ? T : never;
type RowOf<K extends OptionKey> = Extract<(typeof OPTIONS)[number], { key: K }>;

/** Every option's value as the CLI and suites hold it (paths as given): the CLI's flags after parsing. */
export type OptionValues = { [K in OptionKey]?: ValueOf<RowOf<K>> };

type SuiteRow = Extract<(typeof OPTIONS)[number], { suite: object }>;
/** What a suite entry (or the suite's defaults) may set; paths as written in the file. */
export type SuiteSettings = { [R in SuiteRow as R['key']]?: ValueOf<R> };

/** The settings whose source the report names. */
export type ProvenanceKey = Extract<(typeof OPTIONS)[number], { provenance: true }>['key'];
/** Who set each of them, when not its flag: 'suite defaults', 'suite case'. */
export type Provenance = Partial<Record<ProvenanceKey, string>>;

export const SUITE_OPTIONS: readonly OptionRow[] = OPTIONS.filter((r: OptionRow) => r.suite !== undefined);
export const PROVENANCE_KEYS = OPTIONS.filter((r: OptionRow) => r.provenance).map((r) => r.key) as ProvenanceKey[];

/** The library's `from`: a source per provenance key. */
export const PROVENANCE: Kind<Provenance> = {
  is: (v) => isObj(v) && Object.entries(v).every(([k, x]) => (PROVENANCE_KEYS as string[]).includes(k) && typeof x === 'string'),
  expected: `an object of sources by setting (${PROVENANCE_KEYS.join(', ')})`,
};

/** The library's rules for an entry point's options: 'case' (loadCase, buildCase, inspectBundle) or 'check' (checkCase, diagnoseCase). */
export function libraryRules(scope: 'case' | 'check'): Record<string, Kind<unknown>> {
  const rules: Record<string, Kind<unknown>> = {};
  for (const r of OPTIONS as readonly OptionRow[]) {
    const l = r.library;
    if (!l || (scope === 'case' && l.scope !== 'case')) continue;
    rules[r.key] = (scope === 'check' ? l.inCheck : undefined) ?? l.value ?? r.value;
  }
  if (scope === 'check') rules.from = PROVENANCE;
  return rules;
}

/** `--max-rel-l2 <x>` -> `--max-rel-l2`. */
export const flagName = (flag: string): string => flag.split(/[ ,]/)[0]!;
