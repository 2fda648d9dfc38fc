/**
 * gru-check's library API for scripts: everything the CLI does, with no commander, no chalk and no
 * process.exit. Typical use:
 *
 *   import { checkCase } from 'gru-check';
 *   const result = await checkCase('case.npz', { atol: 1e-4 });
 *   if (!result.pass) console.log(result.checks);
 */
import { loadArrays as loadArraysCore, type LoadOptions } from './io/load.js';
import { buildCase as buildCaseCore, type CaseOptions } from './model/case.js';
import type { GruCase } from './model/types.js';
import type { ArrayBundle } from './io/types.js';
import { checkCase as checkCaseCore, prepareCase, type CheckOptions } from './check.js';
import { readCandidate } from './candidate/read.js';
import type { CandidateTensors } from './candidate/align.js';
import type { CaseResult } from './result.js';
import { diagnoseCase as diagnoseCaseCore } from './diagnose/diagnose.js';
import { inspectBundle as inspectBundleCore, type InspectResult } from './inspect.js';
import type { GruRunInput, GruRunOptions, GruRunResult } from './gru/stack.js';
import { runGruStack } from './gru/layer.js';
import { runGruFast as runGruFastCore, type FastOptions } from './engine/fast.js';
import { compareTensors as compareTensorsCore, type CompareOptions } from './compare/isclose.js';
import type { CheckResult } from './result.js';
import { checkCaseInput, checkOptionsObject, checkRunInput, checkTensorArg, type EntryPoint } from './options-check.js';

export { GruCheckError, formatError, isGruCheckError, type ErrorCode } from './errors.js';
export type { ArrayBundle, NdArray, DType, FileFormat, OnnxGraph, OnnxNode, OnnxAttribute, OnnxValueInfo } from './io/types.js';
export type { CaseOptions } from './model/case.js';
export type { LoadOptions } from './io/load.js';
export type { GruCase, GruParams, GruConfig, GruDirectionParams, Tensor, Precision, FloatArray } from './model/types.js';
export { PYTORCH_MATH, ACTIVATIONS, withMath, type GateMath, type Activation, type ActivationName } from './model/math.js';
export { runStack, gruFlops, afterEachLayer, type GruRunInput, type GruRunOptions, type GruRunResult, type Runner, type LayerJob, type DirectionJob } from './gru/stack.js';
export { REFERENCE_RUNNER } from './gru/layer.js';
export { isClose, type CompareOptions } from './compare/isclose.js';
export type { CheckResult } from './result.js';
export { DEFAULT_TOLERANCES, resolveTolerance, parseToleranceSpec, parseErrorStatSpec, parseCosineSpec, TOLERANCE_KEYS, PORT_PRESETS, PORT_PRECISIONS, type ToleranceSpec, type Tolerance, type ToleranceOverrides, type Keyed, type PortPrecision, type PortPreset } from './compare/tolerance.js';
export { ERROR_STATS, DEFAULT_ERROR_QUANTILE, type ErrorStat, type ErrorHistogram } from './compare/stats.js';
export { selectRanks, medianAndQuantile } from './compare/kernel.js';
export { parseSuite, parseShard, shardOf, type Suite, type SuiteEntry, type SuiteSettings } from './suite/suite.js';
export { caseError, type CheckOptions } from './check.js';
export { computeGru } from './engine/compute.js';
export { toUserLayout } from './model/layout.js';
export { readCandidate } from './candidate/read.js';
export type { CaseResult, Engine, Timings, DiagnosisEntry } from './result.js';
export type { CandidateTensors } from './candidate/align.js';
export { fastRunner, chooseThreads, closeFastEngine, type FastOptions } from './engine/fast.js';
export { AbortError, type RunControl } from './gru/control.js';
export { variantsFor, type Variant } from './diagnose/variants.js';
export type { Where } from './result.js';
export type { InspectResult, ArrayStats } from './inspect.js';
export { makeBaseline, applyBaseline, parseBaseline, type Baseline } from './baseline.js';
export { summarize, exitCode } from './summary.js';
export type { RunSummary } from './result.js';
export { renderJunit } from './report/junit.js';
export { renderMarkdown } from './report/markdown.js';
export { renderHtml } from './report/html.js';
export { renderJson } from './report/json.js';
export { renderTable } from './report/table.js';

// Every entry point below checks its arguments at run time (options-check.ts): a JavaScript caller's
// misspelt option or wrong type is a GruCheckError naming it, never silently ignored.

/** Options of checkCase / diagnoseCase as a script passes them: the candidate and weights may be paths. */
export interface LibraryCheckOptions extends Omit<CheckOptions, 'candidate' | 'weights'> {
  /** A port's outputs: a path (.npz, .npy folder, ...; loaded with maxBytes) or the tensors readCandidate returns. */
  candidate?: CandidateTensors | string | undefined;
  /** Weights from another file: a path or a bundle from loadArrays. */
  weights?: ArrayBundle | string | undefined;
}

function guard(entry: EntryPoint, options: unknown): void {
  checkOptionsObject(entry, options);
}

/** Paths given for candidate / weights, loaded (with maxBytes) and read. */
async function resolvePaths(options: LibraryCheckOptions): Promise<CheckOptions> {
  const { candidate, weights, ...rest } = options;
  const load = (p: string): Promise<ArrayBundle> => loadArraysCore(p, rest.maxBytes !== undefined ? { maxBytes: rest.maxBytes } : {});
  const o: CheckOptions = { ...rest };
  if (weights !== undefined) o.weights = typeof weights === 'string' ? await load(weights) : weights;
  if (candidate !== undefined) o.candidate = typeof candidate === 'string' ? readCandidate(await load(candidate)) : candidate;
  return o;
}

/** Checks one case (a path, a bundle from loadArrays, or a validated case) against the reference GRU. */
export async function checkCase(input: string | ArrayBundle | GruCase, options: LibraryCheckOptions = {}): Promise<CaseResult> {
  checkCaseInput('checkCase', input, { path: true, bundle: true, gruCase: true });
  guard('checkCase', options);
  return checkCaseCore(input, await resolvePaths(options));
}

/** Names the porting mistake: the case's tensors under test (the candidate's, else the expected ones) against each known mistake. */
export async function diagnoseCase(c: GruCase, options: LibraryCheckOptions = {}): Promise<CaseResult> {
  checkCaseInput('diagnoseCase', c, { gruCase: true });
  guard('diagnoseCase', options);
  // As the CLI's diagnose does: the model's outputs on the case's input are the tensors under test.
  const prepared = await prepareCase(c, await resolvePaths(options));
  return diagnoseCaseCore(prepared.case, prepared.options);
}

/** Reads a file's arrays: .npz, .npy or a folder of them, torch.save, safetensors, ONNX, Keras. */
export function loadArrays(path: string, options: LoadOptions = {}): Promise<ArrayBundle> {
  if (typeof path !== 'string') checkCaseInput('loadArrays', path, { path: true });
  guard('loadArrays', options);
  return loadArraysCore(path, options);
}

/** Validates a bundle's arrays as one GRU case (names, shapes, layout). */
export function buildCase(bundle: ArrayBundle, options: CaseOptions = {}): GruCase {
  checkCaseInput('buildCase', bundle, { bundle: true });
  guard('buildCase', options);
  if (options.weights !== undefined) checkCaseInput('buildCase: option weights', options.weights, { bundle: true });
  return buildCaseCore(bundle, options);
}

/** Every array's stats and the GRU configuration inferred from a bundle. */
export function inspectBundle(bundle: ArrayBundle, options: CaseOptions = {}): InspectResult {
  checkCaseInput('inspectBundle', bundle, { bundle: true });
  guard('inspectBundle', options);
  if (options.weights !== undefined) checkCaseInput('inspectBundle: option weights', options.weights, { bundle: true });
  return inspectBundleCore(bundle, options);
}

/** The reference stack (the plain loops of src/gru), synchronously. */
export function runGru(run: GruRunInput, options: GruRunOptions): GruRunResult {
  checkRunInput('runGru', run);
  guard('runGru', options);
  return runGruStack(run, options);
}

/** The fast engine (wasm SIMD, worker threads). */
export function runGruFast(run: GruRunInput, options: GruRunOptions & FastOptions): Promise<GruRunResult> {
  checkRunInput('runGruFast', run);
  guard('runGruFast', options);
  return runGruFastCore(run, options);
}

/** isclose and the error statistics of one tensor against another. */
export function compareTensors(actual: { shape: number[]; data: ArrayLike<number> }, expected: { shape: number[]; data: ArrayLike<number> }, target: Parameters<typeof compareTensorsCore>[2], options: CompareOptions): CheckResult {
  checkTensorArg('compareTensors', 'actual', actual);
  checkTensorArg('compareTensors', 'expected', expected);
  guard('compareTensors', options);
  return compareTensorsCore(actual, expected, target, options);
}

/** Loads and validates a case (an .npz or a directory of .npy files). Throws GruCheckError. */
export async function loadCase(path: string, options: CaseOptions & { weightsPath?: string } = {}): Promise<GruCase> {
  checkCaseInput('loadCase', path, { path: true });
  guard('loadCase', options);
  const { weightsPath, ...rest } = options;
  const load = (p: string) => loadArraysCore(p, rest.maxBytes !== undefined ? { maxBytes: rest.maxBytes } : {});
  const weights = weightsPath !== undefined ? await load(weightsPath) : rest.weights;
  return buildCaseCore(await load(path), { ...rest, weights });
}
