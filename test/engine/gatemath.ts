// Every GateMath option (src/gru/math.ts) on every runner against the reference loops
// (src/gru/layer.ts): the fast engine's JS kernel (float64), its wasm kernel (float32 products) in
// one thread, and the wasm kernel split across 2 threads. Each option must also move the result
// away from PyTorch's math by more than 1e-3, so a runner that ignored it (the first version's
// fast engine returned the plain GRU for a hard-sigmoid run) cannot pass.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { GruRunInput } from '../../src/gru/stack.js';
import { runGruStack } from '../../src/gru/layer.js';
import { ACTIVATIONS, PYTORCH_MATH, withMath, type Activation, type ActivationName, type GateMath } from '../../src/model/math.js';
import { closeFastEngine, fastKernelFor, fastRunner, runGruFast, warmFastEngine } from '../../src/engine/fast.js';
import { runStack, type GruRunOptions, type GruRunResult } from '../../src/gru/stack.js';
import { gemmBuild, type WasmBuild } from '../../src/wasm/load.js';
import { lcg, randomRun } from '../random-run.js';

after(() => closeFastEngine());

/** On 2 threads with a worker warm first, asserting the worker took a piece (else the split went untested). */
async function onTwoThreads(run: GruRunInput, options: GruRunOptions): Promise<GruRunResult> {
  await warmFastEngine(2);
  const runner = fastRunner(run, { ...options, threads: 2 });
  const r = await runStack(run, options, runner);
  assert.equal(runner.threads, 2, 'a worker took no piece');
  return r;
}

/** alpha/beta chosen so every activation is away from identity-like behaviour on gate inputs. */
const PARAMS: Record<ActivationName, [number, number]> = {
  Sigmoid: [0, 0], Tanh: [0, 0], Relu: [0, 0], Softsign: [0, 0], Softplus: [0, 0],
  HardSigmoid: [0.3, 0.4], Affine: [0.6, 0.1], LeakyRelu: [0.05, 0], ThresholdedRelu: [0.2, 0], ScaledTanh: [0.9, 1.3], Elu: [0.7, 0],
};
const act = (name: ActivationName): Activation => ({ name, alpha: PARAMS[name][0], beta: PARAMS[name][1] });

const OPTIONS: [string, Partial<GateMath>][] = [
  ...ACTIVATIONS.filter((a) => a !== 'Sigmoid').map((a): [string, Partial<GateMath>] => [`f=${a}`, { f: act(a) }]),
  ...ACTIVATIONS.filter((a) => a !== 'Tanh').map((a): [string, Partial<GateMath>] => [`g=${a}`, { g: act(a) }]),
  ['clip=0.4', { clip: 0.4 }],
  ['clip=0.4 with linear_before_reset=0', { clip: 0.4, linearBeforeReset: false }],
  ['linear_before_reset=0', { linearBeforeReset: false }],
  ['update inverted', { update: 'inverted' }],
  ['update inverted with linear_before_reset=0', { update: 'inverted', linearBeforeReset: false }],
  ['b_hn outside reset', { bHnOutsideReset: true }],
  ...['rnz', 'zrn', 'znr', 'nrz', 'nzr'].map((o): [string, Partial<GateMath>] => [`gate order ${o}`, { gateOrder: o }]),
  ['f=HardSigmoid g=Softsign clip=0.5 lbr=0', { f: act('HardSigmoid'), g: act('Softsign'), clip: 0.5, linearBeforeReset: false }],
];

/** float32 model, 2 layers, bidirectional, lengths; H odd so the SIMD passes' tail lane is used. */
const RUN: GruRunInput = randomRun({ T: 7, B: 4, I: 5, H: 7, L: 2, bidir: true, lengths: true, weightScale: 1 }, lcg(7));
const RUN64: GruRunInput = randomRun({ T: 7, B: 4, I: 5, H: 7, L: 2, bidir: true, lengths: true, weightScale: 1, f64: true }, lcg(7));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d;
  }
  return m;
}

const both = (x: GruRunResult, y: GruRunResult): number =>
  Math.max(maxAbsDiff(x.output, y.output), maxAbsDiff(x.hN, y.hN));

/**
 * Greatest |a - e| / max(1, |e|): unbounded gate activations (f = Relu, Affine, Elu, ...) let the
 * state grow geometrically, and float32 products then differ in proportion to its size.
 */
function scaledDiff(x: GruRunResult, y: GruRunResult): number {
  let m = 0;
  for (const [a, e] of [[x.output, y.output], [x.hN, y.hN]] as const) {
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - e[i]!) / Math.max(1, Math.abs(e[i]!));
      if (!(d <= m)) m = d;
    }
  }
  return m;
}

/** The tests, for the wasm build this process loads (see test/engine.test.ts / test/engine-fma.test.ts). */
export function gateMathTests(build: WasmBuild): void {
for (const [label, change] of OPTIONS) {
  test(`[${build}] GateMath ${label}: every runner agrees with the reference loops`, async () => {
    const math = withMath(PYTORCH_MATH, change);
    // float32 model in f32 precision: the wasm kernel (1 and 2 threads) and, forced, the JS kernel.
    const ref = runGruStack(RUN, { precision: 'f32', math });
    assert.ok(both(ref, runGruStack(RUN, { precision: 'f32' })) > 1e-3, `${label} does not change the result: the test could not catch a runner ignoring it`);
    assert.equal(fastKernelFor(RUN, { precision: 'f32' }), 'wasm');
    assert.equal(gemmBuild(), build);
    const runs = {
      'wasm, 1 thread': await runGruFast(RUN, { precision: 'f32', math, threads: 1 }),
      'wasm, 2 threads': await onTwoThreads(RUN, { precision: 'f32', math }),
      'js, 1 thread': await runGruFast(RUN, { precision: 'f32', math, threads: 1, kernel: 'js' }),
    };
    for (const [name, r] of Object.entries(runs)) {
      const d = scaledDiff(r, ref);
      assert.ok(d <= 1e-6, `${label} on ${name}: max scaled diff ${d} from the reference`);
    }
    // float64 model in f64 precision: the JS kernel must agree to rounding noise.
    const ref64 = runGruStack(RUN64, { precision: 'f64', math });
    const js64 = await runGruFast(RUN64, { precision: 'f64', math, threads: 1 });
    assert.equal(fastKernelFor(RUN64, { precision: 'f64' }), 'js');
    assert.ok(scaledDiff(js64, ref64) <= 1e-12, `${label} float64: ${scaledDiff(js64, ref64)}`);
  });
}

test(`[${build}] per-direction math (ONNX activations for a bidirectional node): each direction gets its own`, async () => {
  const fwd = withMath(PYTORCH_MATH, { f: act('HardSigmoid') });
  const bwd = withMath(PYTORCH_MATH, { g: act('Softsign') });
  const ref = runGruStack(RUN, { precision: 'f32', math: [fwd, bwd] });
  assert.ok(both(ref, runGruStack(RUN, { precision: 'f32', math: fwd })) > 1e-3, 'the backward math made no difference');
  assert.ok(both(ref, runGruStack(RUN, { precision: 'f32', math: bwd })) > 1e-3, 'the forward math made no difference');
  for (const threads of [1, 2]) {
    const fast = threads === 2 ? await onTwoThreads(RUN, { precision: 'f32', math: [fwd, bwd] }) : await runGruFast(RUN, { precision: 'f32', math: [fwd, bwd], threads });
    assert.ok(both(fast, ref) <= 1e-6, `threads ${threads}: ${both(fast, ref)}`);
  }
});
}
