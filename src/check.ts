/**
 * One case, end to end and pure: validated arrays in, a plain serialisable CaseResult out. Runs the
 * reference GRU, lays its tensors out in the dump's own axis order and compares each expected
 * tensor. Never prints, exits or touches files; input errors surface as GruCheckError for the
 * caller to turn into a result (see caseError).
 */
import { createRequire } from 'node:module';
import { GruCheckError, formatError } from './errors.js';
import type { CaseBaseline } from './baseline.js';
import type { CaseWarning } from './model/config.js';
import { alignCandidate, type AlignedCandidate, type CandidateLayout, type CandidateTensors } from './candidate/align.js';
import { runOnnxModel, type OnnxRole } from './candidate/onnx-runtime.js';
export type { CandidateTensors, CandidateLayout } from './candidate/align.js';
import type { ArrayBundle } from './io/types.js';
import { loadArrays } from './io/load.js';
import { buildCase, type CaseOptions } from './model/case.js';
import type { FloatArray, FloatDType, GruCase, GruConfig, LayoutSource, Precision, StatePrecision, Tensor } from './model/types.js';
import { floatTensor, swapFirstAxes } from './model/arrays.js';
import { fastRunner, type FastOptions, type FastRunner, type PieceTrace } from './engine/fast.js';
import { wasmBuild } from './engine/wasm.js';
import { runStack, type GruRunInput, type GruRunResult, type Runner } from './gru/stack.js';
import { REFERENCE_RUNNER } from './gru/layer.js';
import { compareTensors, type CheckResult } from './compare/isclose.js';
import { resolveTolerance, sameCriteria, type PortPrecision, type Tolerance, type ToleranceOverrides } from './compare/tolerance.js';
import type { GateMath } from './gru/math.js';
import type { Where } from './diagnose/where.js';
import { hasPaddedSteps, paddedClose, paddedElements, paddedHolds, zeroPadded, type PaddedHolds } from './compare/padded.js';
import { fillPaddedSteps } from './gru/padded.js';
import { cellShape } from './model/cell.js';
import { now } from './clock.js';

export interface CheckOptions extends CaseOptions, ToleranceOverrides {
  equalNan?: boolean | undefined;
  /** Default: f64 for a float64 model, else f32. */
  precision?: Precision | undefined;
  /** A port's outputs to check against the reference and the expected tensors. */
  candidate?: CandidateTensors | undefined;
  /** How the candidate's output is laid out, when its shape cannot tell (batch == time steps). */
  candidateLayout?: CandidateLayout | undefined;
  /**
   * A candidate's output at padded steps (t >= lengths[b]): 'strict' (default) compares them with
   * PyTorch's zeros; 'ignore' compares the valid steps only (what Keras masking and Flax's
   * seq_lengths leave there is then not held against the port).
   */
  paddedSteps?: PaddedStepsMode | undefined;
  /** Run this ONNX model on the case's input (ONNX Runtime) and check its outputs as the candidate. */
  onnx?: { model: string; map?: Partial<Record<OnnxRole, string>> | undefined } | undefined;
  /** 'fast' (default): blocked wasm/worker engine; 'reference': the plain loops of src/gru. */
  engine?: Engine | undefined;
  /** Threads for the fast engine; default: the engine's policy (all cores for long runs, else 1). */
  threads?: number | undefined;
  /** Aborting rejects the check with an AbortError, within about 50 ms. */
  signal?: AbortSignal | undefined;
  /**
   * Per-check summaries only some outputs draw: stepMaxAbs (the table's sparkline, the HTML plot)
   * and errorMap (the HTML heatmap). Default: both; the CLI asks only for what it renders.
   */
  stepErrors?: boolean | undefined;
  errorMaps?: boolean | undefined;
  /**
   * The error statistics (medians, quantiles: compareTensors' second look at the data) and the
   * |error| histogram (the table's line for a failing check, the HTML). Default: both.
   */
  statistics?: boolean | undefined;
  histograms?: boolean | undefined;
  /** Record which thread ran which piece, and when (timings.pieces). */
  trace?: boolean | undefined;
  /** Compute the case's fingerprint (result.fingerprint) for baselines. */
  fingerprint?: boolean | undefined;
  /** Progress of loading (bytes) and of computing (flops). */
  onProgress?: ((done: number, total: number, phase: 'load' | 'compute') => void) | undefined;
}

export type Engine = 'fast' | 'reference';

export const PADDED_STEPS_MODES = ['strict', 'ignore'] as const;
export type PaddedStepsMode = (typeof PADDED_STEPS_MODES)[number];

/** A candidate's output past each sequence's end, when the case has lengths below T. */
export interface PaddedSteps {
  /** --padded-steps: 'strict' compared these steps, 'ignore' did not. */
  mode: PaddedStepsMode;
  /** Output elements at t >= lengths[b]. */
  elements: number;
  /**
   * What the candidate holds there: zeros (PyTorch's and ONNX's), carried (the last valid output
   * carried forward, Keras masking), computed (the recurrence run on over the padding,
   * Flax's nn.RNN(seq_lengths=...)), or other.
   */
  holds: PaddedHolds;
  /**
   * The candidate's valid steps and h_n pass and only the padded steps fail (strict), or would
   * (ignore: the padded steps differ from PyTorch's zeros and were left out).
   */
  onlyDifference: boolean;
}

export interface Timings {
  /** Loading and validating the case (0 when checkCase was given a validated case). */
  loadMs: number;
  /** Time to compute the reference GRU, with whichever engine. */
  referenceMs: number;
  compareMs: number;
  engine?: Engine;
  /** Threads that computed (1 = in-process); 1 for the reference engine. */
  threads?: number;
  /** What computed the products: 'wasm-fma' or 'wasm-simd' (the fast engine's wasm builds), 'js', or 'reference'. */
  kernel?: string;
  /**
   * With CheckOptions.trace (the CLI: GRU_CHECK_TRACE=1): each piece of fast-engine work, who ran it
   * and when, in ms from the start of the computation. How the threads shared the run.
   */
  pieces?: PieceTrace[];
}

/** One porting mistake re-enacted by `diagnose`, scored against the tensors under test. */
export interface DiagnosisEntry {
  /** Stable name, e.g. 'gate-order:zrn', 'reset-before-matmul'. */
  variant: string;
  /** The variant passes the isclose check(s) the tensors under test failed. */
  matches: boolean;
  /**
   * matches: within tolerance; likely: an emulation that cannot be exact (precision) whose error
   * has the port's size and spread; closest: explains most of the error (its max error is at most
   * a tenth of the port's own) without matching; no: none of these.
   */
  verdict: 'matches' | 'likely' | 'closest' | 'no';
  /** Greatest |variant - tested| over the tensors under test. */
  maxAbsError: number;
  /** One line: what to change in the port. */
  fix: string;
  /**
   * Set when the variant was tried only on these sequences (batch indices) and did not reproduce
   * them: it does not match, and maxAbsError is its error on them (a lower bound for the batch).
   */
  screenedOn?: number[];
  /** Set when the screen was also cut to the first steps (a forward-only GRU): how many. */
  screenedSteps?: number;
}

export interface CaseResult {
  /** The case's path, or its name in a suite (then `path` holds the path). */
  case: string;
  path?: string;
  pass: boolean;
  /** One-line description of an input error; the case was not checked. */
  error?: string;
  errorCode?: string;
  config?: GruConfig;
  /** How batch_first was decided. */
  layoutSource?: LayoutSource;
  precision?: Precision;
  /** Reset-gate placement used: true is PyTorch's (ONNX linear_before_reset=1). */
  linearBeforeReset?: boolean;
  /** The gate math computed (src/gru/math.ts): one entry, or one per direction when they differ. */
  math?: GateMath[];
  /** ONNX direction="reverse": the single direction runs backwards. */
  reverseOnly?: boolean;
  /** Path of the candidate (port) outputs, when checked. */
  candidate?: string;
  /** How the candidate's output was read (e.g. "seq-first", "onnx, 6 of 7 steps (read as padded)"). */
  candidateLayout?: string;
  /** The candidate's least precise dtype: its tolerances apply when looser than the case's. */
  candidateDtype?: FloatDType;
  /** The candidate's final states cover only the last layer: its h_n checks compare those rows. */
  candidateStates?: 'every layer' | 'last layer';
  /** The candidate's output at padded steps (a case with lengths below T). */
  paddedSteps?: PaddedSteps;
  /** Whether h0 came from the dump (else zeros). */
  h0Given?: boolean;
  /** Module prefix of the GRU's weights, '' if none. */
  prefix?: string;
  lengths?: number[];
  tolerance?: Record<string, Tolerance>;
  /** The precision preset the candidate's checks were held to (compare/tolerance.ts PORT_PRESETS). */
  portPrecision?: PortPrecision;
  checks: CheckResult[];
  /** Set by `diagnose`: every variant tried, best first. */
  diagnosis?: DiagnosisEntry[];
  /** diagnose: where the tensors under test fail (layer, direction, sequences, first step). */
  where?: Where;
  /** What gru-check read but did not use or had to assume; [] when nothing. */
  warnings?: CaseWarning[];
  /** How something unusual but valid was read (e.g. an output trimmed to max(lengths)). */
  notes?: string[];
  /** Where the weights came from when not a state_dict (e.g. "ONNX nodes /GRU, /GRU_1"). */
  weightsFrom?: string;
  /** SHA-256 of the case's arrays (and of --weights'), with CheckOptions.fingerprint: what baselines key by. */
  fingerprint?: string;
  /** Set with --baseline: whether the case had an entry. */
  baselineCase?: CaseBaseline;
  timings: Timings;
}

export interface UserTensor {
  shape: number[];
  data: FloatArray;
}

/**
 * The reference's output and h_n in the dump's own axis order:
 *   pytorch  output (T, B, D*H) / (B, T, D*H) batch_first / (T, D*H) unbatched; h_n (L*D, B, H) / (L*D, H)
 *   onnx     Y (T, D, B, H); Y_h (D, B, H); with onnx_layout 1 (batchFirst): Y (B, T, D, H), Y_h (B, D, H)
 *   keras    output (B, T, D*H); h_n (B, D*H): a Bidirectional's [forward_h, backward_h] side by side
 */
export function toUserLayout(c: GruCase, r: GruRunResult): { output: UserTensor; h_n: UserTensor } {
  const { seqLen: T, batchSize: B } = c;
  // A GRUCell case's one step over N calls: output (1, N, H) is h in the calls' own order.
  if (c.config.cell) return { output: { shape: cellShape(c.config.cell, c.config.hiddenSize), data: r.output }, h_n: { shape: [1, B, c.config.hiddenSize], data: r.hN } };
  const { numLayers: L, hiddenSize: H, bidirectional, batched, batchFirst, layout } = c.config;
  const D = bidirectional ? 2 : 1;
  const F = D * H;
  if (layout === 'onnx') {
    // Y [T, D, B, H] (layout 0) or [B, T, D, H] (layout 1) from (T, B, D*H).
    const y = new Float64Array(r.output.length);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const at = batchFirst ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H;
          y.set(r.output.subarray((t * B + b) * F + d * H, (t * B + b) * F + (d + 1) * H), at);
        }
      }
    }
    if (!batchFirst) return { output: { shape: [T, D, B, H], data: y }, h_n: { shape: [D, B, H], data: r.hN } };
    return { output: { shape: [B, T, D, H], data: y }, h_n: { shape: [B, D, H], data: swapFirstAxes(r.hN, D, B, H) as Float64Array } };
  }
  if (!batched) {
    return { output: { shape: [T, F], data: r.output }, h_n: { shape: [L * D, H], data: r.hN } };
  }
  const out = batchFirst ? swapFirstAxes(r.output, T, B, F) : r.output;
  const output = { shape: batchFirst ? [B, T, F] : [T, B, F], data: out };
  if (layout === 'keras') return { output, h_n: { shape: [B, D * H], data: D === 2 ? (swapFirstAxes(r.hN, D, B, H) as Float64Array) : r.hN } };
  return { output, h_n: { shape: [L * D, B, H], data: r.hN } };
}

/** Which axis of `output` is time, in the dump's own layout (a GRUCell trace: its calls); undefined: none. */
export function outputTimeAxis(c: GruCase): number | undefined {
  if (c.config.cell) return c.config.cell.trace ? 0 : undefined;
  return c.config.batched && c.config.batchFirst ? 1 : 0;
}

/** Heatmap row label for h_n in the dump's own layout. */
function hnRowLabel(c: GruCase): string {
  if (c.config.layout === 'keras' || (c.config.layout === 'onnx' && c.config.batchFirst)) return 'batch';
  return c.config.layout === 'onnx' ? 'direction' : 'layer*direction';
}

/** Milliseconds to the microsecond: more digits are noise. */
const ms = (x: number): number => Math.round(x * 1000) / 1000;

export function defaultPrecision(dtype: FloatDType): Precision {
  return dtype === 'float64' ? 'f64' : 'f32';
}

/** How the reference is computed: engine, threads and what the run may change (diagnose's variants). */
export interface ComputeOptions {
  engine?: Engine | undefined;
  threads?: number | undefined;
  /** 'f16' (diagnose's emulated float16 ports) always runs on the reference engine. */
  precision: StatePrecision;
  /** Default: the case's own. */
  math?: GateMath | readonly GateMath[] | undefined;
  /** Wraps the engine's runner (diagnose's structural mistakes). */
  decorate?: ((r: Runner) => Runner) | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  trace?: boolean | undefined;
}

export interface Computed {
  result: GruRunResult;
  engine: Engine;
  threads: number;
  kernel: string;
  ms: number;
  pieces?: PieceTrace[];
}

/** The case's GRU as the stack driver runs it, seq-first; `run` may replace parts of the case. */
export async function computeGru(c: GruCase, o: ComputeOptions, run?: GruRunInput): Promise<Computed> {
  const t0 = now();
  const input: GruRunInput = run ?? { params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths };
  const runOptions = { precision: o.precision, math: o.math ?? c.directionMath ?? c.math };
  const engine = o.precision === 'f16' ? 'reference' : o.engine ?? 'fast';
  let runner: Runner;
  let fast: FastRunner | undefined;
  if (engine === 'reference') {
    runner = REFERENCE_RUNNER;
  } else {
    fast = fastRunner(input, { ...runOptions, threads: o.threads } satisfies FastOptions & typeof runOptions);
    runner = fast;
  }
  if (o.decorate) runner = o.decorate(runner);
  const result = await runStack(input, runOptions, runner, { signal: o.signal, onProgress: o.onProgress });
  // Read after the run: by default the fast engine takes the workers that are ready per layer.
  const threads = fast?.threads ?? 1;
  const kernel = !fast ? 'reference' : fast.kind === 'wasm' ? `wasm-${wasmBuild()}` : 'js';
  const computed: Computed = { result, engine, threads, kernel, ms: now() - t0 };
  if (o.trace && fast) {
    const at = (t: number): number => Math.round((t - t0) * 10) / 10;
    computed.pieces = fast.trace.map((p) => ({ ...p, start: at(p.start), setup: at(p.setup), end: at(p.end) }));
  }
  return computed;
}

/**
 * The one entry point for checking a case: a path (loaded here, with options.maxBytes), a loaded
 * bundle, or a validated case. Runs the engine the options choose, compares every tensor the case
 * allows and returns a plain result with timings measured here. Input errors reject with
 * GruCheckError; a mismatch is a result, not an error.
 */
export async function checkCase(input: string | ArrayBundle | GruCase, options: CheckOptions = {}): Promise<CaseResult> {
  const t0 = now();
  let c: GruCase;
  let fp: string | undefined;
  if (typeof input === 'string' || 'arrays' in input) {
    const bundle = typeof input === 'string'
      ? await loadArrays(input, { ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}), ...(options.onProgress ? { onProgress: (d: number, t: number) => options.onProgress!(d, t, 'load') } : {}) })
      : input;
    c = buildCase(bundle, { ...options, requireExpected: options.candidate === undefined && options.onnx === undefined });
    if (options.fingerprint) fp = fingerprint(options.weights ? [bundle, options.weights] : [bundle]);
  } else {
    c = input;
  }
  const loadMs = now() - t0;
  if (options.onnx) {
    const warnings = [...c.warnings];
    const candidate = await runOnnxModel(options.onnx.model, c, options.onnx.map ?? {}, warnings);
    c = { ...c, warnings };
    options = { ...options, candidate };
  }
  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const computed = await computeGru(c, {
    engine: options.engine,
    threads: options.threads,
    precision,
    signal: options.signal,
    onProgress: options.onProgress && ((d, t) => options.onProgress!(d, t, 'compute')),
    trace: options.trace,
  });
  const result = compareCase(c, toUserLayout(c, computed.result), options, precision, { loadMs, referenceMs: computed.ms, engine: computed.engine, threads: computed.threads, kernel: computed.kernel });
  await settlePaddedSteps(c, result, options, precision);
  if (fp) result.fingerprint = fp;
  if (computed.pieces) result.timings.pieces = computed.pieces;
  return result;
}

/**
 * SHA-256 over every array of the bundles (names sorted; name, dtype, shape and bytes of each):
 * the same case however its path is spelled, a different one as soon as a value changes.
 */
export function fingerprint(bundles: ArrayBundle[]): string {
  // crypto is loaded here, on a baseline's first use, not at every CLI start (measured ~7 ms there).
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const h = createHash('sha256');
  for (const b of bundles) {
    for (const name of [...b.arrays.keys()].sort()) {
      const a = b.arrays.get(name)!;
      h.update(`${name}\u0000${a.dtype}\u0000${a.shape.join(',')}\u0000`);
      if (Array.isArray(a.data)) h.update(JSON.stringify(a.data));
      else h.update(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
    }
  }
  return h.digest('hex');
}

/**
 * The port's tensors from a candidate file, by name: `output` (or `Y`), `h_n` (or `Y_h`), and
 * Keras's `forward_h` / `backward_h`. Their layout is worked out against the case later
 * (candidate/align.ts).
 */
export function readCandidate(bundle: ArrayBundle): CandidateTensors {
  const file = bundle.source;
  const get = (...names: string[]): Tensor | undefined => {
    for (const n of names) {
      const arr = bundle.arrays.get(n);
      if (arr) return floatTensor(arr, file);
    }
    return undefined;
  };
  const cand: CandidateTensors = { source: file };
  const output = get('output', 'Y', 'h');
  const hN = get('h_n', 'Y_h');
  const states = [get('forward_h'), get('backward_h')].filter((t): t is Tensor => t !== undefined);
  if (output) cand.output = output;
  if (hN) cand.h_n = hN;
  if (states.length > 0) cand.states = states;
  if (!output && !hN && states.length === 0) {
    const names = [...bundle.arrays.keys()];
    const positional = names.length > 0 && names.every((n) => /^arr_\d+$/.test(n));
    throw new GruCheckError('NO_EXPECTED', `candidate holds no array named output, h_n, Y, Y_h, forward_h, backward_h or h (it has ${names.slice(0, 8).join(', ') || 'none'})`, {
      file,
      hint: positional ? 'np.savez(path, a, b) names them arr_0, arr_1: save with np.savez(path, output=..., h_n=...)' : 'save the port\'s results as "output" and/or "h_n" (samples/gru_dump.py: dump_port_outputs)',
    });
  }
  return cand;
}

type Subject = CheckResult['subject'];
type Against = CheckResult['against'];

/** One comparison of two tensors of the case; tolerances from the `against`-side dtype unless overridden. */
export function checkPair(
  c: GruCase,
  tensor: 'output' | 'h_n',
  subject: Subject,
  actual: { shape: number[]; data: ArrayLike<number> },
  against: Against,
  reference: { shape: number[]; data: ArrayLike<number> },
  tol: Tolerance,
  equalNan: boolean,
  details: { stepErrors?: boolean | undefined; errorMaps?: boolean | undefined; statistics?: boolean | undefined; histograms?: boolean | undefined; timeAxis?: null } = {},
): CheckResult {
  // timeAxis null: an `output` that holds no time axis (Keras's return_sequences=False).
  const timeAxis = tensor === 'output' && details.timeAxis !== null ? outputTimeAxis(c) : undefined;
  return compareTensors(actual, reference, {
    tensor, subject, against, timeAxis,
    stepErrors: details.stepErrors !== false,
    errorMap: details.errorMaps !== false,
    // A caller that wants neither per-step errors nor error maps is scoring (diagnose's variants read
    // pass and maxAbsError only): no medians or histograms unless it asks for them.
    statistics: details.statistics ?? !(details.stepErrors === false && details.errorMaps === false),
    histogram: details.histograms !== false,
    mapRowAxis: timeAxis ?? 0,
    mapRowLabel: tensor === 'output' && timeAxis !== undefined ? 'time step' : hnRowLabel(c),
    mapColLabel: tensor === 'output' && timeAxis !== undefined ? 'feature' : 'hidden unit',
  }, { rtol: tol.rtol, atol: tol.atol, equalNan, checkErrorStat: tol.checkErrorStat, errorQuantile: tol.errorQuantile, minCosine: tol.minCosine, maxRelL2: tol.maxRelL2 });
}

/**
 * Makes every check the case allows, given the reference's tensors: reference vs expected (the
 * dump's own sanity) and, with a candidate, candidate vs reference and candidate vs expected.
 */

/** Rows of the last layer of an h_n in PyTorch's (L·D, B, H) layout. */
export function lastLayerRows(c: GruCase, t: { shape: number[]; data: ArrayLike<number> }): { shape: number[]; data: Float64Array } {
  const D = c.params.bidirectional ? 2 : 1;
  const per = t.data.length / t.shape[0]!;
  const from = (c.params.numLayers - 1) * D;
  return { shape: [D, ...t.shape.slice(1)], data: Float64Array.from({ length: D * per }, (_, i) => t.data[from * per + i]!) };
}

/** The candidate in the case's layout (candidate/align.ts); throws GruCheckError when it cannot say which. */
export function alignForCase(c: GruCase, cand: CandidateTensors, layout?: CandidateLayout): AlignedCandidate {
  const LD = c.params.numLayers * (c.params.bidirectional ? 2 : 1);
  const zeros = new Float64Array(LD * c.batchSize * c.params.hiddenSize);
  return alignCandidate(cand, c, layout, (seqFirst) => toUserLayout(c, { output: seqFirst, hN: zeros }).output);
}

export function compareCase(c: GruCase, ref: { output: UserTensor; h_n: UserTensor }, options: CheckOptions, precision: Precision, timings: Omit<Timings, 'compareMs'>): CaseResult {
  const equalNan = options.equalNan ?? false;
  const details = { stepErrors: options.stepErrors, errorMaps: options.errorMaps, statistics: options.statistics !== false, histograms: options.histograms };
  const t1 = now();
  const checks: CheckResult[] = [];
  const tolerance: Record<string, Tolerance> = {};
  const cand = options.candidate ? alignForCase(c, options.candidate, options.candidateLayout) : undefined;
  const mode = options.paddedSteps ?? 'strict';
  // The candidate's output with its padded steps set to PyTorch's zeros, when they hold anything else.
  let masked: Tensor | undefined;
  let padded: PaddedSteps | undefined;
  let outTol: Tolerance | undefined;
  const sized = cand?.output && hasPaddedSteps(c) && cand.output.shape.length === ref.output.shape.length && cand.output.shape.every((n, i) => n === ref.output.shape[i]);
  for (const tensor of ['output', 'h_n'] as const) {
    const exp = c.expected[tensor];
    const got = cand?.[tensor];
    if (!exp && !got) continue;
    if (exp) {
      const tol = resolveTolerance(exp.dtype, options, { tensor, subject: 'reference' });
      tolerance[tensor] = tol;
      checks.push(checkPair(c, tensor, 'reference', ref[tensor], 'expected', exp, tol, equalNan, details));
    }
    if (got) {
      // A float16 port is judged at float16's tolerances: the looser of the two dtypes' decides.
      const tol = resolveTolerance(got.dtype, options, { tensor, subject: 'candidate' }, exp?.dtype ?? c.config.dtype);
      if (!exp || !sameCriteria(tolerance[tensor], tol) || tol.preset !== undefined) tolerance[exp ? `${tensor} (candidate)` : tensor] = tol;
      let tested: Tensor = got;
      if (tensor === 'output' && sized) {
        const holds = paddedHolds(c, got.data, { rtol: tol.rtol, atol: tol.atol, equalNan });
        if (holds !== 'zeros') masked = { ...got, data: zeroPadded(c, got.data) };
        if (holds !== 'zeros' || mode === 'ignore') padded = { mode, elements: paddedElements(c), holds, onlyDifference: false };
        if (mode === 'ignore' && masked) tested = masked;
        outTol = tol;
      }
      // Keras's return_sequences=False output holds final states: compared with h_n's rows.
      const asStates = tensor === 'output' && cand!.outputFinal === true;
      const lastLayer = asStates ? cand!.outputFinalLastLayer === true : tensor === 'h_n' && cand!.hnLastLayer;
      const part = asStates ? 'final states (return_sequences=False)' : lastLayer ? 'last layer' : tensor === 'output' && padded?.mode === 'ignore' ? 'valid steps' : undefined;
      const refOf = (t: { shape: number[]; data: ArrayLike<number> }) => (lastLayer ? lastLayerRows(c, t) : t);
      const stateDetails = asStates ? { ...details, timeAxis: null } : details;
      const k = checkPair(c, tensor, 'candidate', tested, 'reference', refOf(asStates ? ref.h_n : ref[tensor]), tol, equalNan, stateDetails);
      checks.push(part ? { ...k, part } : k);
      const expT = asStates ? c.expected.h_n : exp;
      if (expT) {
        const k2 = checkPair(c, tensor, 'candidate', tested, 'expected', refOf(expT), tol, equalNan, stateDetails);
        checks.push(part ? { ...k2, part } : k2);
      }
    }
  }
  if (padded && masked) {
    // Only the padded steps differ when every other candidate check passes and the output, with
    // its padded steps set to PyTorch's zeros, passes against the reference too.
    const others = checks.filter((k) => k.subject === 'candidate' && k.tensor === 'h_n').every((k) => k.pass);
    const out = checks.find((k) => k.subject === 'candidate' && k.tensor === 'output' && k.against === 'reference')!;
    const validPass = mode === 'ignore' ? out.pass : !out.pass && checkPair(c, 'output', 'candidate', masked, 'reference', ref.output, outTol!, equalNan, { stepErrors: false, errorMaps: false, statistics: true, histograms: false }).pass;
    padded.onlyDifference = others && validPass;
  }
  // A GRUCell's output is `h`: checked as the one-step run's output, named as the user knows it.
  if (c.config.cell) for (const [i, k] of checks.entries()) checks[i] = { ...k, label: 'h' };
  const t2 = now();
  const result: CaseResult = {
    case: c.source,
    pass: checks.every((k) => k.pass),
    config: c.config,
    layoutSource: c.layoutSource,
    precision,
    linearBeforeReset: c.math.linearBeforeReset,
    math: [...(c.directionMath ?? [c.math])],
    h0Given: c.h0Given,
    prefix: c.prefix.replace(/\.$/, ''),
    tolerance,
    checks,
    warnings: c.warnings,
    ...(c.notes ? { notes: c.notes } : {}),
    ...(c.weightsFrom ? { weightsFrom: c.weightsFrom } : {}),
    timings: { loadMs: ms(timings.loadMs), referenceMs: ms(timings.referenceMs), compareMs: ms(t2 - t1), ...(timings.engine ? { engine: timings.engine, threads: timings.threads ?? 1 } : {}), ...(timings.kernel ? { kernel: timings.kernel } : {}) },
  };
  if (options.candidate && cand) {
    if (options.portPrecision) result.portPrecision = options.portPrecision;
    result.candidate = options.candidate.source;
    result.candidateLayout = cand.layout;
    result.candidateDtype = cand.dtype;
    if (cand.h_n) result.candidateStates = cand.hnLastLayer ? 'last layer' : 'every layer';
    if (padded) result.paddedSteps = padded;
  }
  if (c.params.reverseOnly) result.reverseOnly = true;
  if (c.lengths) result.lengths = Array.from(c.lengths);
  return result;
}

/**
 * Padded steps that are neither zeros nor carried: when they are the only difference, whether
 * they are the recurrence run on over the padding (Flax's seq_lengths), which takes
 * one more run of the case with that convention.
 */
export async function settlePaddedSteps(c: GruCase, result: CaseResult, options: CheckOptions, precision: StatePrecision): Promise<void> {
  const p = result.paddedSteps;
  if (!p || p.holds !== 'other' || !p.onlyDifference || !options.candidate) return;
  const got = alignForCase(c, options.candidate, options.candidateLayout).output!;
  const past = await computeGru(c, { engine: options.engine, threads: options.threads, precision, signal: options.signal, decorate: fillPaddedSteps('computed') });
  const k = result.checks.find((x) => x.subject === 'candidate' && x.tensor === 'output')!;
  if (paddedClose(c, got.data, toUserLayout(c, past.result).output.data, { rtol: k.rtol, atol: k.atol, equalNan: options.equalNan ?? false })) p.holds = 'computed';
}

/** A case that could not be checked, as a result (for multi-case runs and JSON). */
export function caseError(source: string, e: GruCheckError, loadMs = 0): CaseResult {
  return {
    case: source,
    pass: false,
    error: formatError(e),
    errorCode: e.code,
    checks: [],
    timings: { loadMs, referenceMs: 0, compareMs: 0 },
  };
}
