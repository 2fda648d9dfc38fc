/**
 * gru-check's library API for scripts: everything the CLI does, with no commander, no chalk and no
 * process.exit. Typical use:
 *
 *   import { loadCase, checkCase, compareTensors } from 'gru-check';
 *   const result = checkCase(await loadCase('case.npz'));
 *   if (!result.pass) console.log(result.checks);
 */
import { loadArrays } from './io/load.js';
import { buildCase, type CaseOptions } from './model/case.js';
import { checkGruCase, type CheckOptions, type CaseResult } from './check.js';
import type { GruCase } from './model/types.js';

export { GruCheckError, formatError, isGruCheckError, type ErrorCode } from './errors.js';
export type { ArrayBundle, NdArray, DType, FileFormat, OnnxGraph, OnnxNode, OnnxAttribute, OnnxValueInfo } from './io/types.js';
export { loadArrays } from './io/load.js';
export { buildCase, type CaseOptions } from './model/case.js';
export type { GruCase, GruParams, GruConfig, GruDirectionParams, Tensor, Precision, FloatArray } from './model/types.js';
export { runGruStack as runGru, type GruRunInput, type GruRunOptions, type GruRunResult } from './gru/stack.js';
export { compareTensors, isClose, type CheckResult, type CompareOptions } from './compare/isclose.js';
export { DEFAULT_TOLERANCES, resolveTolerance } from './compare/tolerance.js';
export { checkGruCase, checkBundle, runCheck, runCheckBundle, runReference, toUserLayout, type CaseResult, type CheckOptions, type Engine, type Timings } from './check.js';
export { runGruFast, closeFastEngine } from './engine/fast.js';
export { runGruStackAsync } from './engine/reference-async.js';
export { AbortError, type RunControl } from './engine/control.js';
export { readCandidate, type CandidateTensors, type DiagnosisEntry } from './check.js';
export { diagnoseCase } from './diagnose/diagnose.js';
export { VARIANTS, type Variant } from './diagnose/variants.js';
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
  const weights = weightsPath !== undefined ? await loadArrays(weightsPath) : rest.weights;
  return buildCase(await loadArrays(path), { ...rest, weights });
}

/** Runs the reference GRU on a loaded case and compares it with the dumped tensors. */
export function checkCase(c: GruCase, options: CheckOptions = {}): CaseResult {
  return checkGruCase(c, options);
}
