/**
 * One case, end to end and pure: a path, bundle or validated case in, a plain serialisable
 * CaseResult (result.ts) out. This file coordinates and holds no helper of its own: load and build
 * (io/, model/), the model's outputs when the candidate is an ONNX model (candidate/), the
 * reference run (engine/compute.ts), the reference laid out in the dump's own axis order
 * (model/layout.ts), and every comparison the case allows (compare/). Never prints, exits or
 * touches files beyond its inputs; input errors surface as GruCheckError for the caller to turn
 * into a result (caseError).
 */
import { GruCheckError, formatError } from './errors.js';
import { now } from './clock.js';
import type { CaseResult, Engine, PaddedStepsMode, Timings } from './result.js';
import type { ArrayBundle } from './io/types.js';
import { loadArrays } from './io/load.js';
import { buildCase, type CaseOptions } from './model/case.js';
import { BUILD_OPTIONS } from './model/case-options.js';
import type { GruCase, Precision, StatePrecision, Tensor } from './model/types.js';
import { toUserLayout, type UserTensor } from './model/layout.js';
import { computeGru, defaultPrecision } from './engine/compute.js';
import { fillPaddedSteps } from './gru/padded.js';
import { caseChecks, type CompareCaseOptions } from './compare/case.js';
import { paddedClose } from './compare/padded.js';
import { alignForCase, type AlignedCandidate, type CandidateLayout, type CandidateTensors } from './candidate/align.js';
import { runOnnxModel, type OnnxRole } from './candidate/onnx-runtime.js';
import { fingerprint } from './baseline.js';

/** Everything a check may be told: how to read the case, how to compare it (compare/case.ts), how to compute it. */
export interface CheckOptions extends CaseOptions, CompareCaseOptions {
  /** Default: f64 for a float64 model, else f32. */
  precision?: Precision | undefined;
  /** A port's outputs to check against the reference and the expected tensors. */
  candidate?: CandidateTensors | undefined;
  /** How the candidate's output is laid out, when its shape cannot tell (batch == time steps). */
  candidateLayout?: CandidateLayout | undefined;
  /** Run this ONNX model on the case's input (ONNX Runtime) and check its outputs as the candidate. */
  onnx?: { model: string; map?: Partial<Record<OnnxRole, string>> | undefined } | undefined;
  /** 'fast' (default): blocked wasm/worker engine; 'reference': the plain loops of src/gru. */
  engine?: Engine | undefined;
  /** Threads for the fast engine; default: the engine's policy (all cores for long runs, else 1). */
  threads?: number | undefined;
  /** Aborting rejects the check with an AbortError, within about 50 ms. */
  signal?: AbortSignal | undefined;
  /** Record which thread ran which piece, and when (timings.pieces). */
  trace?: boolean | undefined;
  /** Compute the case's fingerprint (result.fingerprint) for baselines. */
  fingerprint?: boolean | undefined;
  /** Progress of loading (bytes) and of computing (flops). */
  onProgress?: ((done: number, total: number, phase: 'load' | 'compute') => void) | undefined;
}


/** Milliseconds to the microsecond: more digits are noise. */
const ms = (x: number): number => Math.round(x * 1000) / 1000;

/** A case ready to compute: what run (checkCase) and diagnose both start from. */
export interface PreparedCase {
  case: GruCase;
  /** The options, with the ONNX model's outputs as the candidate when options.onnx is set. */
  options: CheckOptions;
  loadMs: number;
  fingerprint?: string;
}

/** load (a path, with options.maxBytes) -> build (a bundle) -> with options.onnx, run the model in ONNX Runtime. */
export async function prepareCase(input: string | ArrayBundle | GruCase, options: CheckOptions = {}): Promise<PreparedCase> {
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
    // A built case has had its weights, layout and attributes decided: an option that would
    // decide them again would be silently ignored here, so it is refused.
    const given = BUILD_OPTIONS.filter((k) => options[k] !== undefined);
    if (given.length > 0) {
      throw new GruCheckError('USAGE', `${given.join(', ')}: ${given.length === 1 ? 'an option' : 'options'} for building a case, given with a case already built`, { hint: 'pass them to loadCase / buildCase, or give checkCase the path or the loaded arrays' });
    }
    c = input;
  }
  const loadMs = now() - t0;
  if (options.onnx) {
    const warnings = [...c.warnings];
    const candidate = await runOnnxModel(options.onnx.model, c, options.onnx.map ?? {}, warnings, options.maxBytes);
    c = { ...c, warnings };
    options = { ...options, candidate };
  }
  return { case: c, options, loadMs, ...(fp ? { fingerprint: fp } : {}) };
}

/**
 * The one entry point for checking a case: a path (loaded here, with options.maxBytes), a loaded
 * bundle, or a validated case. Runs the engine the options choose, compares every tensor the case
 * allows and returns a plain result with timings measured here. Input errors reject with
 * GruCheckError; a mismatch is a result, not an error.
 */
export async function checkCase(input: string | ArrayBundle | GruCase, options: CheckOptions = {}): Promise<CaseResult> {
  const prepared = await prepareCase(input, options);
  const c = prepared.case;
  const o = prepared.options;
  const precision = o.precision ?? defaultPrecision(c.config.dtype);
  const computed = await computeGru(c, {
    engine: o.engine,
    threads: o.threads,
    precision,
    signal: o.signal,
    onProgress: o.onProgress && ((d, t) => o.onProgress!(d, t, 'compute')),
    trace: o.trace,
  });
  const cand = alignOptional(c, o);
  const result = compareCase(c, toUserLayout(c, computed.result), o, precision, { loadMs: prepared.loadMs, referenceMs: computed.ms, engine: computed.engine, threads: computed.threads, kernel: computed.kernel }, cand);
  await settlePaddedSteps(c, result, o, precision, cand?.output);
  if (prepared.fingerprint) result.fingerprint = prepared.fingerprint;
  if (computed.pieces) result.timings.pieces = computed.pieces;
  return result;
}

/** The options' candidate in the case's layout (candidate/align.ts), or undefined without one: aligned once per case. */
export function alignOptional(c: GruCase, options: CheckOptions): AlignedCandidate | undefined {
  return options.candidate ? alignForCase(c, options.candidate, options.candidateLayout) : undefined;
}

/** The case's result, given the reference's tensors in the dump's own layout and the aligned candidate. */
export function compareCase(c: GruCase, ref: { output: UserTensor; h_n: UserTensor }, options: CheckOptions, precision: Precision, timings: Omit<Timings, 'compareMs'>, cand = alignOptional(c, options)): CaseResult {
  const t1 = now();
  const { checks, tolerance, padded } = caseChecks(c, ref, cand, options);
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
 * they are the recurrence run on over the padding (Flax's seq_lengths), which takes one more run
 * of the case with that convention.
 */
export async function settlePaddedSteps(c: GruCase, result: CaseResult, options: CheckOptions, precision: StatePrecision, got: Tensor | undefined): Promise<void> {
  const p = result.paddedSteps;
  if (!p || p.holds !== 'other' || !p.onlyDifference || !got) return;
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
