/**
 * gru-check's library API for scripts: everything the CLI does, with no commander, no chalk and no
 * process.exit. Typical use:
 *
 *   import { checkCase } from 'gru-check';
 *   const result = await checkCase('case.npz', { atol: 1e-4 });
 *   if (!result.pass) console.log(result.checks);
 */
import { loadArrays } from './io/load.js';
import { buildCase, type CaseOptions } from './model/case.js';
import type { GruCase } from './model/types.js';

export { GruCheckError, formatError, isGruCheckError, type ErrorCode } from './errors.js';
export type { ArrayBundle, NdArray, DType, FileFormat, OnnxGraph, OnnxNode, OnnxAttribute, OnnxValueInfo } from './io/types.js';
export { loadArrays } from './io/load.js';
export { buildCase, type CaseOptions } from './model/case.js';
export type { GruCase, GruParams, GruConfig, GruDirectionParams, Tensor, Precision, FloatArray } from './model/types.js';
export { PYTORCH_MATH, ACTIVATIONS, withMath, type GateMath, type Activation, type ActivationName } from './gru/math.js';
export { runGruStack as runGru, runStack, gruFlops, afterEachLayer, type GruRunInput, type GruRunOptions, type GruRunResult, type Runner, type LayerJob, type DirectionJob } from './gru/stack.js';
export { REFERENCE_RUNNER } from './gru/layer.js';
export { compareTensors, isClose, type CheckResult, type CompareOptions } from './compare/isclose.js';
export { DEFAULT_TOLERANCES, resolveTolerance, parseToleranceSpec, parseErrorStatSpec, parseCosineSpec, TOLERANCE_KEYS, PORT_PRESETS, PORT_PRECISIONS, type ToleranceSpec, type Tolerance, type ToleranceOverrides, type Keyed, type PortPrecision, type PortPreset } from './compare/tolerance.js';
export { ERROR_STATS, DEFAULT_ERROR_QUANTILE, type ErrorStat, type ErrorHistogram } from './compare/stats.js';
export { selectRanks, medianAndQuantile } from './compare/kernel.js';
export { parseSuite, parseShard, shardOf, type Suite, type SuiteEntry, type SuiteSettings } from './suite/suite.js';
export { checkCase, computeGru, toUserLayout, readCandidate, caseError, type CaseResult, type CheckOptions, type Engine, type Timings, type CandidateTensors, type DiagnosisEntry } from './check.js';
export { fastRunner, runGruFast, chooseThreads, closeFastEngine, type FastOptions } from './engine/fast.js';
export { AbortError, type RunControl } from './gru/control.js';
export { diagnoseCase } from './diagnose/diagnose.js';
export { variantsFor, type Variant } from './diagnose/variants.js';
export type { Where } from './diagnose/where.js';
export { inspectBundle, type InspectResult, type ArrayStats } from './inspect.js';
export { makeBaseline, applyBaseline, parseBaseline, type Baseline } from './baseline.js';
export { summarize, exitCode, type RunSummary } from './summary.js';
export { renderJunit } from './report/junit.js';
export { renderMarkdown } from './report/markdown.js';
export { renderHtml } from './report/html.js';
export { renderJson } from './report/json.js';
export { renderTable } from './report/table.js';

/** Loads and validates a case (an .npz or a directory of .npy files). Throws GruCheckError. */
export async function loadCase(path: string, options: CaseOptions & { weightsPath?: string } = {}): Promise<GruCase> {
  const { weightsPath, ...rest } = options;
  const load = (p: string) => loadArrays(p, rest.maxBytes !== undefined ? { maxBytes: rest.maxBytes } : {});
  const weights = weightsPath !== undefined ? await load(weightsPath) : rest.weights;
  return buildCase(await load(path), { ...rest, weights });
}
