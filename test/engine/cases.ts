// The fast engine (src/engine) against the reference (src/gru/stack.ts): every sample and fixture
// case, randomized shapes with fast-check, both precisions, both reset placements, lengths, 1 and 2
// threads. The bar is 1e-6 max abs difference on output and h_n (float32 products in the wasm
// kernel); the double JS kernel must agree to rounding noise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadArrays } from '../../src/io/load.js';
import { buildCase, type CaseOptions } from '../../src/model/case.js';
import { runStack, type GruRunInput, type GruRunResult } from '../../src/gru/stack.js';
import { runGruStack } from '../../src/gru/layer.js';
import { closeFastEngine, fastKernelFor, fastRunner, runGruFast, warmFastEngine } from '../../src/engine/fast.js';
import { gemmBuild, gemmModule, type WasmBuild } from '../../src/wasm/load.js';
import { PYTORCH_MATH, withMath } from '../../src/model/math.js';
import { CASES, ROOT, SAMPLES, nodeScript, tmp } from '../helpers.js';
import { lcg, randomRun } from '../random-run.js';

const TOL = 1e-6;

// `node --import tsx --test` without a build has no wasm/gemm.wasm: build it so the wasm path is
// what gets tested (npm test builds first anyway).
if (!existsSync(join(ROOT, 'wasm', 'gemm.wasm'))) {
  const { buildWasm } = (await import(join(ROOT, 'wasm', 'build.mjs'))) as { buildWasm: () => Promise<string[]> };
  await buildWasm();
}

after(() => closeFastEngine());

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // NaN sticks
  }
  return m;
}

async function crossCheck(run: GruRunInput, label: string, opts: { precision: 'f32' | 'f64'; lbr: boolean; threads: number; kernel?: 'js' }, tol = TOL, reference?: GruRunResult): Promise<void> {
  const math = withMath(PYTORCH_MATH, { linearBeforeReset: opts.lbr });
  const ref = reference ?? runGruStack(run, { precision: opts.precision, math });
  const fast = await runGruFast(run, { precision: opts.precision, math, threads: opts.threads, ...(opts.kernel ? { kernel: opts.kernel } : {}) });
  const dOut = maxAbsDiff(ref.output, fast.output);
  const dHn = maxAbsDiff(ref.hN, fast.hN);
  const what = `${label} ${JSON.stringify(opts)} kernel=${fastKernelFor(run, { precision: opts.precision, ...(opts.kernel ? { kernel: opts.kernel } : {}) })}`;
  assert.ok(dOut <= tol, `${what}: output max abs diff ${dOut}`);
  assert.ok(dHn <= tol, `${what}: h_n max abs diff ${dHn}`);
}

/** Options some fixtures need to load at all (see test/fixtures/cases/README.md). */
const CASE_OPTIONS: Record<string, CaseOptions> = {
  'ambiguous.npz': { batchFirst: true },
  'two_grus.npz': { prefix: 'enc' },
};

async function allCases(): Promise<{ name: string; run: GruRunInput }[]> {
  const out: { name: string; run: GruRunInput }[] = [];
  const files = [
    ...readdirSync(SAMPLES).filter((f) => f.endsWith('.npz')).map((f) => join(SAMPLES, f)),
    ...readdirSync(CASES).filter((f) => f.endsWith('.npz') && f !== 'dir_case_weights.npz').map((f) => join(CASES, f)),
  ];
  for (const f of files) {
    const c = buildCase(await loadArrays(f), CASE_OPTIONS[f.split('/').pop()!] ?? {});
    out.push({ name: f.slice(ROOT.length + 1), run: c });
  }
  const dir = buildCase(await loadArrays(join(CASES, 'dir_case')), { weights: await loadArrays(join(CASES, 'dir_case_weights.npz')) });
  out.push({ name: 'test/fixtures/cases/dir_case', run: dir });
  return out;
}

/**
 * Every test below, for the wasm build this process loads: baseline SIMD here, the fused
 * multiply-add build in engine-fma.test.ts (which enables relaxed SIMD first, as the CLI does).
 * What does not touch the wasm kernel (f64 precision runs the double JS kernel; the worker-exit
 * check runs in a fresh process, which loads the baseline build) runs once, with the SIMD build.
 */
export function engineTests(build: WasmBuild): void {
const once = build === 'simd';
const rnd = lcg(7);
test(`[${build}] the wasm kernel is built, loads offline and is chosen for float32 models in f32`, () => {
  assert.ok(gemmModule(), 'the wasm kernel did not load (no SIMD?)');
  assert.equal(gemmBuild(), build);
});

test(`[${build}] every sample and fixture case: fast == reference within 1e-6, ${once ? 'both precisions' : 'f32'}, both reset placements, 1 and 2 threads`, async () => {
  const cases = await allCases();
  assert.ok(cases.length >= 15, `found ${cases.length} cases`);
  let wasmRuns = 0;
  for (const { name, run } of cases) {
    for (const precision of once ? (['f32', 'f64'] as const) : (['f32'] as const)) {
      for (const lbr of [true, false]) {
        const ref = runGruStack(run, { precision, math: withMath(PYTORCH_MATH, { linearBeforeReset: lbr }) });
        for (const threads of [1, 2]) {
          await crossCheck(run, name, { precision, lbr, threads }, TOL, ref);
          if (fastKernelFor(run, { precision }) === 'wasm') wasmRuns++;
        }
      }
    }
  }
  assert.ok(wasmRuns >= 40, `wasm kernel used in only ${wasmRuns} runs`);
});

if (once) test(`[${build}] f64 precision and float64 models use the double JS kernel and agree to rounding noise`, async () => {
  for (const { name, run } of await allCases()) {
    assert.equal(fastKernelFor(run, { precision: 'f64' }), 'js');
    await crossCheck(run, name, { precision: 'f64', lbr: true, threads: 1 }, 1e-12);
  }
});



test(`[${build}] randomized shapes (fast-check, fixed seed): fast == reference within 1e-6`, async () => {
  const shape = fc.record({
    T: fc.integer({ min: 1, max: 12 }),
    B: fc.integer({ min: 1, max: 7 }),
    I: fc.integer({ min: 1, max: 21 }),
    H: fc.integer({ min: 1, max: 19 }),
    L: fc.integer({ min: 1, max: 3 }),
    bidir: fc.boolean(),
    bias: fc.boolean(),
    f64: fc.boolean(),
    lengths: fc.boolean(),
    scale: fc.constantFrom(1, 2),
    precision: fc.constantFrom('f32' as const, 'f64' as const),
    lbr: fc.boolean(),
    threads: fc.constantFrom(1, 2),
    js: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  });
  await fc.assert(
    fc.asyncProperty(shape, async (s) => {
      let st = s.seed;
      const r = (): number => {
        st = (Math.imul(st, 1103515245) + 12345) >>> 0;
        return st / 4294967296;
      };
      const run = randomRun({ ...s, weightScale: s.scale }, r);
      await crossCheck(run, JSON.stringify(s), { precision: s.precision, lbr: s.lbr, threads: s.threads, ...(s.js ? { kernel: 'js' as const } : {}) });
    }),
    { seed: 20240531, numRuns: 120 },
  );
});

test(`[${build}] long sequence, H = 128: float32 products summed in double stay within 1e-6 over 400 steps`, async () => {
  for (const lbr of [true, false]) {
    // Batch rows are independent sums; 3 of them, with their own lengths, are as good as more.
    const run = randomRun({ T: 400, B: 3, I: 40, H: 128, L: 1, bidir: false, bias: true, f64: false, lengths: true, weightScale: 1.5 }, rnd);
    await crossCheck(run, 'long', { precision: 'f32', lbr, threads: 1 });
  }
});

test(`[${build}] bidirectional 2-layer run split over 2 workers equals 1 thread exactly`, async () => {
  const run = randomRun({ T: 30, B: 6, I: 9, H: 24, L: 2, bidir: true, bias: true, f64: false, lengths: true, weightScale: 1 }, rnd);
  const one = await runGruFast(run, { precision: 'f32', threads: 1 });
  await warmFastEngine(2);
  const runner = fastRunner(run, { precision: 'f32', threads: 2 });
  const two = await runStack(run, { precision: 'f32' }, runner);
  assert.equal(runner.threads, 2, 'the warm worker took no piece');
  // Same kernel, same order of operations per (direction, row): threads change nothing.
  assert.deepEqual(two.output, one.output);
  assert.deepEqual(two.hN, one.hN);
  const uni = randomRun({ T: 30, B: 6, I: 9, H: 24, L: 2, bidir: false, bias: true, f64: false, lengths: false, weightScale: 1 }, rnd);
  assert.deepEqual((await runGruFast(uni, { precision: 'f32', threads: 2 })).output, (await runGruFast(uni, { precision: 'f32', threads: 1 })).output);
});

if (once) test(`[${build}] workers never keep the process alive`, () => {
  const code = `import { runGruFast } from ENGINE;
const H = 8, B = 4, T = 5;
const params = { inputSize: 3, hiddenSize: H, numLayers: 1, bidirectional: true, bias: false, dtype: 'float32',
  layers: [[0, 1].map(() => ({ weightIh: new Float32Array(3 * H * 3).fill(0.1), weightHh: new Float32Array(3 * H * H).fill(0.1), inputSize: 3 }))] };
const r = await runGruFast({ params, input: new Float32Array(T * B * 3).fill(1), seqLen: T, batchSize: B, h0: new Float32Array(2 * B * H) }, { precision: 'f32', threads: 2 });
console.log(r.output.length);`;
  // A process kept alive by its workers never exits: nodeScript's timeout turns that into a failure
  // (status null) instead of a hang. It exits in well under a second.
  const res = nodeScript(code);
  assert.equal(res.status, 0, `exit ${res.status} signal ${res.signal}: ${res.stderr}`);
  assert.equal(res.stdout.trim(), String(5 * 4 * 2 * 8));
});

if (once) test(`[${build}] a worker that cannot start fails the run that asked for it, with its error: no hang, no piece lost`, () => {
  // A copy of the built engine without worker.js: every worker it starts dies at once. With 2
  // threads asked for, half the pieces are the worker's; the run must reject, not wait for them
  // forever (the process would end with exit 13, a top-level await never settled) or finish
  // without them.
  const dir = tmp();
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !/\.(map|d\.ts)$|cli-bundle\.(cjs|cache)$/.test(src) });
  rmSync(join(dir, 'dist', 'engine', 'worker.js'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  const code = `import { runGruFast } from ${JSON.stringify(join(dir, 'dist', 'engine', 'fast.js'))};
const H = 8, B = 4, T = 5;
const params = { inputSize: 3, hiddenSize: H, numLayers: 1, bidirectional: true, bias: false, dtype: 'float32',
  layers: [[0, 1].map(() => ({ weightIh: new Float32Array(3 * H * 3).fill(0.1), weightHh: new Float32Array(3 * H * H).fill(0.1), inputSize: 3 }))] };
await runGruFast({ params, input: new Float32Array(T * B * 3).fill(1), seqLen: T, batchSize: B, h0: new Float32Array(2 * B * H) }, { precision: 'f32', threads: 2 })
  .then(() => console.log('finished'), (e) => console.log('rejected: ' + e.message));`;
  const res = nodeScript(code);
  assert.equal(res.status, 0, `exit ${res.status} signal ${res.signal}: ${res.stdout}${res.stderr}`);
  assert.match(res.stdout, /^rejected: .*worker\.js/);
});
}
