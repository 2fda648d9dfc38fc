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
import { readCandidate as readCandidateCore } from './candidate/read.js';
import type { CandidateTensors } from './candidate/align.js';
import type { CaseResult } from './result.js';
import { diagnoseCase as diagnoseCaseCore } from './diagnose/diagnose.js';
import { inspectBundle as inspectBundleCore, type InspectResult } from './inspect.js';
import type { GruRunInput, GruRunOptions, GruRunResult } from './gru/stack.js';
import { runGruStack } from './gru/layer.js';
import { runGruFast as runGruFastCore, type FastOptions } from './engine/fast.js';
import { compareTensors as compareTensorsCore, type CompareOptions } from './compare/isclose.js';
import type { CheckResult } from './result.js';
import { ARG, checkArg, checkCaseInput, checkCaseResult, checkOptionsObject, checkRunInput, checkRunResult, checkSummary, checkTensorArg, checkWhole, type EntryPoint } from './options-check.js';
import { formatError as formatErrorCore, type GruCheckError } from './errors.js';
import { withMath as withMathCore, type GateMath } from './model/math.js';
import { runStack as runStackCore, gruFlops as gruFlopsCore, afterEachLayer as afterEachLayerCore, type Runner, type LayerJob } from './gru/stack.js';
import type { RunControl } from './gru/control.js';
import { isClose as isCloseCore } from './compare/isclose.js';
import { resolveTolerance as resolveToleranceCore, parseToleranceSpec as parseToleranceSpecCore, parseErrorStatSpec as parseErrorStatSpecCore, parseCosineSpec as parseCosineSpecCore, type ToleranceSpec, type Tolerance, type ToleranceOverrides, type Keyed, type TensorName, type CheckSubject } from './compare/tolerance.js';
import type { ErrorStat } from './compare/stats.js';
import { selectRanks as selectRanksCore, medianAndQuantile as medianAndQuantileCore } from './compare/kernel.js';
import { parseSuite as parseSuiteCore, parseShard as parseShardCore, shardOf as shardOfCore, type Suite } from './suite/suite.js';
import { caseError as caseErrorCore } from './check.js';
import { computeGru as computeGruCore, type ComputeOptions, type Computed } from './engine/compute.js';
import { toUserLayout as toUserLayoutCore, type UserTensor } from './model/layout.js';
import { fastRunner as fastRunnerCore, chooseThreads as chooseThreadsCore, type FastRunner } from './engine/fast.js';
import { variantsFor as variantsForCore, type Variant } from './diagnose/variants.js';
import { makeBaseline as makeBaselineCore, applyBaseline as applyBaselineCore, parseBaseline as parseBaselineCore, type Baseline } from './baseline.js';
import { summarize as summarizeCore, exitCode as exitCodeCore } from './summary.js';
import { renderJunit as renderJunitCore } from './report/junit.js';
import { renderMarkdown as renderMarkdownCore } from './report/markdown.js';
import { renderHtml as renderHtmlCore, type HtmlOptions } from './report/html.js';
import { renderJson as renderJsonCore } from './report/json.js';
import { renderTable as renderTableCore, type TableOptions } from './report/table.js';
import type { FloatArray, FloatDType } from './model/types.js';
import type { RunSummary } from './result.js';

export { GruCheckError, isGruCheckError, type ErrorCode } from './errors.js';
export type { ArrayBundle, NdArray, DType, FileFormat, OnnxGraph, OnnxNode, OnnxAttribute, OnnxValueInfo } from './io/types.js';
export type { CaseOptions } from './model/case.js';
export type { LoadOptions } from './io/load.js';
export type { GruCase, GruParams, GruConfig, GruDirectionParams, Tensor, Precision, FloatArray } from './model/types.js';
export { PYTORCH_MATH, ACTIVATIONS, type GateMath, type Activation, type ActivationName } from './model/math.js';
export type { GruRunInput, GruRunOptions, GruRunResult, Runner, LayerJob, DirectionJob } from './gru/stack.js';
export { REFERENCE_RUNNER } from './gru/layer.js';
export type { CompareOptions } from './compare/isclose.js';
export type { CheckResult } from './result.js';
export { DEFAULT_TOLERANCES, TOLERANCE_KEYS, PORT_PRESETS, PORT_PRECISIONS, type ToleranceSpec, type Tolerance, type ToleranceOverrides, type Keyed, type PortPrecision, type PortPreset } from './compare/tolerance.js';
export { ERROR_STATS, DEFAULT_ERROR_QUANTILE, type ErrorStat, type ErrorHistogram } from './compare/stats.js';
export type { Suite, SuiteEntry, SuiteSettings } from './suite/suite.js';
export type { CheckOptions } from './check.js';
export type { CaseResult, Engine, Timings, DiagnosisEntry } from './result.js';
export type { CandidateTensors } from './candidate/align.js';
export { closeFastEngine, type FastOptions } from './engine/fast.js';
export { AbortError, type RunControl } from './gru/control.js';
export type { Variant } from './diagnose/variants.js';
export type { Where } from './result.js';
export type { InspectResult, ArrayStats } from './inspect.js';
export type { Baseline } from './baseline.js';
export type { RunSummary } from './result.js';
export type { HtmlOptions } from './report/html.js';
export type { TableOptions } from './report/table.js';

// Every entry point below checks its arguments at run time (options-check.ts): a JavaScript caller's
// misspelt option or wrong type is a GruCheckError naming it, never silently ignored.

/** Options of checkCase / diagnoseCase as a script passes them: the candidate and weights may be paths. */
export interface LibraryCheckOptions extends Omit<CheckOptions, 'candidate' | 'weights'> {
  /** A port's outputs: a path (.npz, .npy folder, ...; loaded with maxBytes) or the tensors readCandidate returns. */
  candidate?: CandidateTensors | string | undefined;
  /** Weights from another file: a path or a bundle from loadArrays. */
  weights?: ArrayBundle | string | undefined;
}

function guard(entry: EntryPoint, options: unknown, given = false): void {
  checkOptionsObject(entry, options, given);
}

/** Paths given for candidate / weights, loaded (with maxBytes) and read. */
async function resolvePaths(options: LibraryCheckOptions): Promise<CheckOptions> {
  const { candidate, weights, ...rest } = options;
  const load = (p: string): Promise<ArrayBundle> => loadArraysCore(p, rest.maxBytes !== undefined ? { maxBytes: rest.maxBytes } : {});
  const o: CheckOptions = { ...rest };
  if (weights !== undefined) o.weights = typeof weights === 'string' ? await load(weights) : weights;
  if (candidate !== undefined) o.candidate = typeof candidate === 'string' ? readCandidateCore(await load(candidate)) : candidate;
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

// ---------------------------------------------------------------------------------------------
// The rest of the library, each over its module's function with its arguments checked first: an
// options object against its table, a string where a tensor, case, runner or summary belongs
// named as such. Inside src/ the modules call each other directly.

/** Gate math from a base with some fields changed (frozen). */
export function withMath(base: GateMath, change: Partial<GateMath>): GateMath {
  guard('withMath.base', base, true);
  guard('withMath.change', change, true);
  return withMathCore(base, change);
}

/** The stack on the event loop, with any runner (REFERENCE_RUNNER, fastRunner(...)). */
export function runStack(run: GruRunInput, options: GruRunOptions, runner: Runner, control: RunControl = {}): Promise<GruRunResult> {
  checkRunInput('runStack', run);
  guard('runStack', options);
  checkArg('runStack', 'runner', runner, ARG.runner);
  guard('runStack.control', control);
  return runStackCore(run, options, runner, control);
}

/** Flops of one run, as progress and the bench count them. */
export function gruFlops(run: GruRunInput): number {
  checkRunInput('gruFlops', run);
  return gruFlopsCore(run);
}

/** A runner that calls `after` with each layer's job once the inner runner has computed it. */
export function afterEachLayer(inner: Runner, after: (job: LayerJob) => void): Runner {
  checkArg('afterEachLayer', 'inner', inner, ARG.runner);
  checkArg('afterEachLayer', 'after', after, ARG.function);
  return afterEachLayerCore(inner, after);
}

/** isclose on two numbers. */
export function isClose(a: number, e: number, options: CompareOptions): boolean {
  checkArg('isClose', 'a', a, ARG.number);
  checkArg('isClose', 'e', e, ARG.number);
  guard('isClose', options);
  return isCloseCore(a, e, options);
}

/** The tolerance one check is held to: the dtype's defaults, a preset, then the overrides. */
export function resolveTolerance(dtype: FloatDType, overrides: ToleranceOverrides, at?: { tensor: TensorName; subject: CheckSubject }, other?: FloatDType): Tolerance {
  checkArg('resolveTolerance', 'dtype', dtype, ARG.dtype);
  guard('resolveTolerance.overrides', overrides, true);
  if (at !== undefined) guard('resolveTolerance.at', at);
  if (other !== undefined) checkArg('resolveTolerance', 'other', other, ARG.dtype);
  return resolveToleranceCore(dtype, overrides, at, other);
}

/** `1e-4`, `output:1e-3,h_n:1e-4` -> a tolerance spec; `flag` names it in errors. */
export function parseToleranceSpec(text: string, flag: string): ToleranceSpec {
  checkArg('parseToleranceSpec', 'text', text, ARG.string);
  checkArg('parseToleranceSpec', 'flag', flag, ARG.string);
  return parseToleranceSpecCore(text, flag);
}

/** `mean`, `candidate:median,reference:elemwise` -> a spec of error statistics. */
export function parseErrorStatSpec(text: string, flag: string): Keyed<ErrorStat> {
  checkArg('parseErrorStatSpec', 'text', text, ARG.string);
  checkArg('parseErrorStatSpec', 'flag', flag, ARG.string);
  return parseErrorStatSpecCore(text, flag);
}

/** `0.9999`, `candidate:0.999` -> a spec of cosine bounds in [-1, 1]. */
export function parseCosineSpec(text: string, flag: string): ToleranceSpec {
  checkArg('parseCosineSpec', 'text', text, ARG.string);
  checkArg('parseCosineSpec', 'flag', flag, ARG.string);
  return parseCosineSpecCore(text, flag);
}

/** buf[0..m) as selectRanks and medianAndQuantile take it. */
function checkBuffer(entry: string, buf: unknown, m: unknown): void {
  checkArg(entry, 'buf', buf, ARG.numbers);
  checkWhole(entry, 'm', m, 0, (buf as ArrayLike<number>).length);
}

/** The values at `ranks` (ascending positions, each < m) of the non-negative finite values buf[0..m). */
export function selectRanks(buf: ArrayLike<number>, m: number, ranks: readonly number[]): number[] {
  checkBuffer('selectRanks', buf, m);
  checkArg('selectRanks', 'ranks', ranks, [(v) => Array.isArray(v) && v.every((r) => Number.isInteger(r) && r >= 0 && r < m), `an array of whole numbers from 0 to m - 1 (${m - 1})`]);
  return selectRanksCore(buf, m, ranks);
}

/** The median and the q-quantile of buf[0..m) (null when m is 0). */
export function medianAndQuantile(buf: ArrayLike<number>, m: number, q: number): ReturnType<typeof medianAndQuantileCore> {
  checkBuffer('medianAndQuantile', buf, m);
  checkArg('medianAndQuantile', 'q', q, ARG.quantile);
  return medianAndQuantileCore(buf, m, q);
}

/** A suite file's text -> its cases; `resolve` turns a path in it into one to open. */
export function parseSuite(text: string, file: string, resolve: (p: string, where: string) => string): Suite {
  checkArg('parseSuite', 'text', text, ARG.string, 'pass the file\'s text, read with readFileSync(file, "utf8")');
  checkArg('parseSuite', 'file', file, ARG.string);
  checkArg('parseSuite', 'resolve', resolve, ARG.function);
  return parseSuiteCore(text, file, resolve);
}

/** `K/N` -> [K, N]. */
export function parseShard(text: string): [number, number] {
  checkArg('parseShard', 'text', text, ARG.string);
  return parseShardCore(text);
}

/** The items of shard k of n (every n-th, from the k-th). */
export function shardOf<T>(items: readonly T[], k: number, n: number): T[] {
  checkArg('shardOf', 'items', items, ARG.array);
  checkWhole('shardOf', 'n', n, 1, Number.MAX_SAFE_INTEGER);
  checkWhole('shardOf', 'k', k, 1, n);
  return shardOfCore(items, k, n);
}

/** A case that could not be checked, as a result. */
export function caseError(source: string, e: GruCheckError, loadMs = 0): CaseResult {
  checkArg('caseError', 'source', source, ARG.string);
  checkArg('caseError', 'e', e, ARG.error);
  checkArg('caseError', 'loadMs', loadMs, ARG.nonNegative);
  return caseErrorCore(source, e, loadMs);
}

/** One line, no stack: `<file>: <message> (<hint>)`. */
export function formatError(e: GruCheckError): string {
  checkArg('formatError', 'e', e, ARG.error);
  return formatErrorCore(e);
}

/** A case computed on an engine: its outputs in the case's layout and the timings. */
export function computeGru(c: GruCase, options: ComputeOptions, run?: GruRunInput): Promise<Computed> {
  checkCaseInput('computeGru', c, { gruCase: true });
  guard('computeGru', options);
  if (run !== undefined) checkRunInput('computeGru', run);
  return computeGruCore(c, options, run);
}

/** A run's seq-first { output, hN } in the case's own layout (batch-first, ONNX, Keras, a cell). */
export function toUserLayout(c: GruCase, r: { output: FloatArray; hN: Float64Array }): { output: UserTensor; h_n: UserTensor } {
  checkCaseInput('toUserLayout', c, { gruCase: true });
  checkRunResult('toUserLayout', 'r', r);
  return toUserLayoutCore(c, r);
}

/** A port's outputs (output, h_n) read from a bundle from loadArrays. */
export function readCandidate(bundle: ArrayBundle): CandidateTensors {
  checkCaseInput('readCandidate', bundle, { bundle: true });
  return readCandidateCore(bundle);
}

/** The fast engine's runner, for runStack. */
export function fastRunner(run: GruRunInput, options: GruRunOptions & FastOptions): FastRunner {
  checkRunInput('fastRunner', run);
  guard('fastRunner', options);
  return fastRunnerCore(run, options);
}

/** The threads the fast engine would use for a run (the requested number, capped by the work). */
export function chooseThreads(run: GruRunInput, requested?: number): number {
  checkRunInput('chooseThreads', run);
  if (requested !== undefined) checkArg('chooseThreads', 'requested', requested, ARG.threads);
  return chooseThreadsCore(run, requested);
}

/** The porting mistakes diagnose would try on a case. */
export function variantsFor(c: GruCase): Variant[] {
  checkCaseInput('variantsFor', c, { gruCase: true });
  return variantsForCore(c);
}

/** A baseline of every checked case's max abs errors, keyed by fingerprint. */
export function makeBaseline(s: RunSummary): Baseline {
  checkSummary('makeBaseline', 's', s);
  return makeBaselineCore(s);
}

/** The summary judged against a baseline: a check fails when its max abs error grew past `factor` x the recorded one, or has no entry. */
export function applyBaseline(s: RunSummary, b: Parameters<typeof applyBaselineCore>[1], factor: number): RunSummary {
  checkSummary('applyBaseline', 's', s);
  checkArg('applyBaseline', 'b', b, ARG.baseline);
  checkArg('applyBaseline', 'factor', factor, ARG.positive);
  return applyBaselineCore(s, b, factor);
}

/** A baseline file's text -> the baseline. */
export function parseBaseline(text: string, file: string): ReturnType<typeof parseBaselineCore> {
  checkArg('parseBaseline', 'text', text, ARG.string);
  checkArg('parseBaseline', 'file', file, ARG.string);
  return parseBaselineCore(text, file);
}

/** Results -> a run summary (pass, counts, cases). */
export function summarize(cases: CaseResult[]): RunSummary {
  checkArg('summarize', 'cases', cases, ARG.array, 'pass an array of checkCase results');
  cases.forEach((c, i) => checkCaseResult('summarize', `cases[${i}]`, c));
  return summarizeCore(cases);
}

/** The CLI's exit code for a summary: 0 pass, 1 mismatch, 2 input error. */
export function exitCode(s: RunSummary): number {
  checkSummary('exitCode', 's', s);
  return exitCodeCore(s);
}

/** JUnit XML. */
export function renderJunit(s: RunSummary): string {
  checkSummary('renderJunit', 's', s);
  return renderJunitCore(s);
}

/** GitHub-flavoured Markdown. */
export function renderMarkdown(s: RunSummary): string {
  checkSummary('renderMarkdown', 's', s);
  return renderMarkdownCore(s);
}

/** One self-contained HTML page. */
export function renderHtml(s: RunSummary, options: HtmlOptions = {}): string {
  checkSummary('renderHtml', 's', s);
  guard('renderHtml', options);
  return renderHtmlCore(s, options);
}

/** The --format json document. */
export function renderJson(s: RunSummary): string {
  checkSummary('renderJson', 's', s);
  return renderJsonCore(s);
}

/** The terminal table. */
export function renderTable(s: RunSummary, options: TableOptions): string {
  checkSummary('renderTable', 's', s);
  guard('renderTable', options);
  return renderTableCore(s, options);
}
