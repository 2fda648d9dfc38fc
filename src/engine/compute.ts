/**
 * A case's GRU computed by the engine the options choose: the stack driver (gru/stack.ts) with the
 * plain reference runner or the fast one (wasm/JS kernels, worker threads), plus what the report
 * says about it (engine, threads, kernel, time, and with `trace` who ran which piece).
 */
import { now } from '../clock.js';
import type { FloatDType, GruCase, Precision, StatePrecision } from '../model/types.js';
import type { Engine, GateMath, PieceTrace } from '../result.js';
import { REFERENCE_RUNNER } from '../gru/layer.js';
import { runStack, type GruRunInput, type GruRunResult, type Runner } from '../gru/stack.js';
import { gemmBuild } from '../wasm/load.js';
import { fastRunner, type FastOptions, type FastRunner } from './fast.js';

/** A float64 model computes in double, everything else in float32. */
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
  const kernel = !fast ? 'reference' : fast.kind === 'wasm' ? `wasm-${gemmBuild()}` : 'js';
  const computed: Computed = { result, engine, threads, kernel, ms: now() - t0 };
  if (o.trace && fast) {
    const at = (t: number): number => Math.round((t - t0) * 10) / 10;
    computed.pieces = fast.trace.map((p) => ({ ...p, start: at(p.start), setup: at(p.setup), end: at(p.end) }));
  }
  return computed;
}
