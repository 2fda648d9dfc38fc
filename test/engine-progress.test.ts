// The engines keep the main thread responsive (src/engine/control.ts): progress reports from the
// fast engine (in-process and on workers) and the async reference, timers firing during an
// in-process run, AbortSignal stopping runs promptly and leaving the worker pool usable and the
// process free to exit, and runGruStackAsync equal to runGruStack bit for bit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadArrays } from '../src/io/load.js';
import { buildCase, type CaseOptions } from '../src/model/case.js';
import { runGruStack, type GruRunInput, type GruRunOptions, type GruRunResult } from '../src/gru/stack.js';
import { closeFastEngine, gruFlops, runGruFast, warmFastEngine, type FastOptions } from '../src/engine/fast.js';
import { runStack } from '../src/gru/stack.js';
import { REFERENCE_RUNNER } from '../src/gru/layer.js';
import { AbortError, REPORT_MS, type RunControl } from '../src/gru/control.js';
import { PYTORCH_MATH, withMath } from '../src/gru/math.js';

/** The reference runner on the event loop (the first version's runGruStackAsync). */
const runGruStackAsync = (run: GruRunInput, o: GruRunOptions & RunControl & { pieceRows?: number }): Promise<GruRunResult> => runStack(run, o, REFERENCE_RUNNER, o);
import { CASES, ROOT, SAMPLES } from './helpers.js';
import { lcg, randomRun as sharedRandomRun, type RandomRunSpec } from './random-run.js';

after(() => closeFastEngine());

/** The shared builder, seeded per call, weights at 1.5x PyTorch's init scale, lengths from 0. */
function randomRun(s: RandomRunSpec, seed = 1): GruRunInput {
  return sharedRandomRun({ weightScale: 1.5, minLength: 0, ...s }, lcg(seed));
}

/** Runs `fn` with a progress recorder; checks monotone, throttled, ending at exactly (total, total). */
async function withProgress(total: number, fn: (onProgress: (d: number, t: number) => void) => Promise<unknown>): Promise<{ calls: number }> {
  const seen: { done: number; at: number }[] = [];
  await fn((done, t) => {
    assert.equal(t, total, 'total');
    seen.push({ done, at: performance.now() });
  });
  assert.ok(seen.length >= 1, 'no progress reported');
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i]!.done > seen[i - 1]!.done, `progress not increasing at ${i}: ${seen[i - 1]!.done} -> ${seen[i]!.done}`);
    // The last report (done = total) may come at any time; the others are spaced by ~REPORT_MS
    // (half of it here: a loaded machine can delay one callback after the engine read the clock).
    if (i < seen.length - 1) assert.ok(seen[i]!.at - seen[i - 1]!.at >= 0.5 * REPORT_MS, `reports ${i - 1}, ${i} ${seen[i]!.at - seen[i - 1]!.at} ms apart`);
  }
  assert.equal(seen.at(-1)!.done, total, 'last report is total');
  assert.ok(seen.every((s) => s.done >= 0 && s.done <= total));
  return { calls: seen.length };
}

/** Fires a 10 ms timer and a 10 ms interval during `fn`; returns when they ran, relative to its start and end. */
async function timersDuring(fn: () => Promise<unknown>): Promise<{ firstMs: number; ticks: number; runMs: number }> {
  const t0 = performance.now();
  let first = Infinity;
  let ticks = 0;
  const timer = setTimeout(() => (first = performance.now() - t0), 10);
  const iv = setInterval(() => ticks++, 10);
  try {
    await fn();
  } finally {
    clearTimeout(timer);
    clearInterval(iv);
  }
  return { firstMs: first, ticks, runMs: performance.now() - t0 };
}

/** Aborts `fn`'s signal after `afterMs`; returns how long after the abort the run rejected. */
async function abortLatency(fn: (signal: AbortSignal) => Promise<unknown>, afterMs = 80): Promise<number> {
  const ac = new AbortController();
  let abortedAt = 0;
  setTimeout(() => {
    abortedAt = performance.now();
    ac.abort('stop');
  }, afterMs);
  await assert.rejects(fn(ac.signal), (e: unknown) => {
    assert.ok(e instanceof AbortError, `not an AbortError: ${String(e)}`);
    assert.equal(e.name, 'AbortError');
    assert.equal((e as Error).cause, 'stop');
    return true;
  });
  assert.ok(abortedAt > 0, 'the run ended before the abort');
  return performance.now() - abortedAt;
}

// ~0.5 s in-process with the double JS kernel (f64), ~0.1-0.3 s on 2 workers.
const LONG = randomRun({ T: 300, B: 16, I: 128, H: 128, L: 1, bidir: false });
const LONG_OPTS: GruRunOptions & FastOptions = { precision: 'f64', kernel: 'js' };

test('fast engine in-process: timers fire during a long run, progress is monotone and ends at total', async () => {
  const total = gruFlops(LONG);
  let calls = 0;
  const t = await timersDuring(async () => {
    ({ calls } = await withProgress(total, (onProgress) => runGruFast(LONG, { ...LONG_OPTS, threads: 1, onProgress })));
  });
  assert.ok(t.runMs > 150, `run too short to test (${t.runMs} ms)`);
  assert.ok(t.firstMs < Math.min(200, t.runMs / 2), `10 ms timer fired after ${t.firstMs} ms of a ${t.runMs} ms run`);
  assert.ok(t.ticks >= t.runMs / 100, `10 ms interval ran ${t.ticks} times in ${t.runMs} ms`);
  assert.ok(calls >= 2, `${calls} progress calls in ${t.runMs} ms`);
});

test('fast engine in-process: the result is unchanged by pacing, and overlapping runs do not share scratch', async () => {
  // Float32 in f32: the wasm kernel, whose instance memory is the scratch; ~60 ms, so runs overlap.
  const LONG = randomRun({ T: 400, B: 16, I: 128, H: 128, L: 1, bidir: false }, 2);
  const small = randomRun({ T: 40, B: 5, I: 7, H: 12, L: 2, bidir: true, lengths: true }, 3);
  const ref = runGruStack(small, { precision: 'f32' });
  const [a, b, c] = await Promise.all([
    runGruFast(LONG, { precision: 'f32', threads: 1 }),
    runGruFast(small, { precision: 'f32', threads: 1 }),
    runGruFast(LONG, { precision: 'f32', threads: 1 }),
  ]);
  assert.deepEqual(c, a);
  const maxDiff = (x: Float64Array, y: Float64Array): number => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
  assert.ok(maxDiff(b.output, ref.output) <= 1e-6 && maxDiff(b.hN, ref.hN) <= 1e-6);
  assert.deepEqual(await runGruFast(LONG, { precision: 'f32', threads: 1 }), a, 'alone == overlapped');
});

test('fast engine in-process: AbortSignal rejects with AbortError within 200 ms', async (t) => {
  const ms = await abortLatency((signal) => runGruFast(LONG, { ...LONG_OPTS, threads: 1, signal }));
  t.diagnostic(`abort latency ${ms.toFixed(0)} ms`);
  assert.ok(ms < 200, `rejected ${ms} ms after abort`);
  const pre = AbortSignal.abort();
  await assert.rejects(runGruFast(LONG, { ...LONG_OPTS, threads: 1, signal: pre }), { name: 'AbortError' });
});

test('fast engine on 2 workers: progress polled from shared memory, abort within 200 ms, pool still usable', async (t) => {
  const total = gruFlops(LONG);
  await warmFastEngine(2);
  const t0 = performance.now();
  const { calls } = await withProgress(total, (onProgress) => runGruFast(LONG, { ...LONG_OPTS, threads: 2, onProgress }));
  const runMs = performance.now() - t0;
  assert.ok(calls >= 2, `${calls} progress calls in ${runMs} ms`);
  const ms = await abortLatency((signal) => runGruFast(LONG, { ...LONG_OPTS, threads: 2, signal }), 40);
  t.diagnostic(`${calls} reports in ${runMs.toFixed(0)} ms; abort latency ${ms.toFixed(0)} ms`);
  assert.ok(ms < 200, `rejected ${ms} ms after abort`);
  const bidir = randomRun({ T: 20, B: 6, I: 9, H: 16, L: 2, bidir: true, lengths: true }, 5);
  assert.deepEqual(await runGruFast(bidir, { precision: 'f32', threads: 2 }), await runGruFast(bidir, { precision: 'f32', threads: 1 }));
});

test('an aborted worker run does not keep the process alive', () => {
  const code = `import { runGruFast } from ${JSON.stringify(join(ROOT, 'src', 'engine', 'fast.ts'))};
const H = 128, B = 16, T = 400, I = 128;
const w = (n) => Float64Array.from({ length: n }, (_, i) => Math.sin(i) / 16);
const params = { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: false, bias: false, dtype: 'float64',
  layers: [0, 1].map(() => [{ weightIh: w(3 * H * I), weightHh: w(3 * H * H), inputSize: I }]) };
const ac = new AbortController();
setTimeout(() => ac.abort(), 50);
const t0 = Date.now();
await runGruFast({ params, input: w(T * B * I), seqLen: T, batchSize: B, h0: new Float64Array(2 * B * H) }, { precision: 'f64', threads: 2, signal: ac.signal })
  .then(() => console.log('finished'), (e) => console.log(e.name));`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(res.status, 0, `exit ${res.status} signal ${res.signal}: ${res.stderr}`);
  assert.equal(res.stdout.trim(), 'AbortError');
});

/** Options some fixtures need to load at all (see test/fixtures/cases/README.md). */
const CASE_OPTIONS: Record<string, CaseOptions> = {
  'ambiguous.npz': { batchFirst: true },
  'two_grus.npz': { prefix: 'enc' },
};

function assertSameBits(got: GruRunResult, want: GruRunResult, what: string): void {
  // deepEqual on Float64Arrays compares with Object.is: -0 vs 0 and NaN payload-free, i.e. exact.
  assert.deepEqual(got.output, want.output, `${what}: output`);
  assert.deepEqual(got.hN, want.hN, `${what}: hN`);
}

test('runGruStackAsync == runGruStack bit for bit on every sample and fixture case', async () => {
  const files = [
    ...readdirSync(SAMPLES).filter((f) => f.endsWith('.npz')).map((f) => join(SAMPLES, f)),
    ...readdirSync(CASES).filter((f) => f.endsWith('.npz') && f !== 'dir_case_weights.npz').map((f) => join(CASES, f)),
  ];
  assert.ok(files.length >= 15);
  for (const f of files) {
    const c = buildCase(await loadArrays(f), CASE_OPTIONS[f.split('/').pop()!] ?? {});
    for (const precision of ['f32', 'f64'] as const) {
      const opts = { precision, math: c.math };
      const want = runGruStack(c, opts);
      assertSameBits(await runGruStackAsync(c, opts), want, `${f} ${precision}`);
      // Tiny pieces: boundaries inside the batch and between every step.
      for (const pieceRows of [1, 2, c.batchSize + 1]) assertSameBits(await runGruStackAsync(c, { ...opts, pieceRows }), want, `${f} ${precision} pieceRows=${pieceRows}`);
    }
  }
});

test('runGruStackAsync == runGruStack bit for bit on random shapes and piece sizes (fast-check)', async () => {
  const shape = fc.record({
    T: fc.integer({ min: 0, max: 12 }),
    B: fc.integer({ min: 1, max: 7 }),
    I: fc.integer({ min: 1, max: 13 }),
    H: fc.integer({ min: 1, max: 11 }),
    L: fc.integer({ min: 1, max: 3 }),
    bidir: fc.boolean(),
    reverseOnly: fc.boolean(),
    bias: fc.boolean(),
    f64: fc.boolean(),
    lengths: fc.boolean(),
    precision: fc.constantFrom('f32' as const, 'f64' as const),
    lbr: fc.boolean(),
    pieceRows: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  });
  await fc.assert(
    fc.asyncProperty(shape, async (s) => {
      const run = randomRun({ ...s, reverseOnly: s.reverseOnly && !s.bidir }, s.seed);
      const opts = { precision: s.precision, math: withMath(PYTORCH_MATH, { linearBeforeReset: s.lbr }) };
      let last = -1;
      const got = await runGruStackAsync(run, {
        ...opts,
        pieceRows: s.pieceRows,
        onProgress: (d, t) => {
          assert.ok(d > last && d <= t);
          last = d;
        },
      });
      assert.equal(last, gruFlops(run));
      assertSameBits(got, runGruStack(run, opts), JSON.stringify(s));
    }),
    { seed: 20240601, numRuns: 150 },
  );
});

test('runGruStackAsync: timers fire and progress is reported during a long run; abort within 200 ms', async (tc) => {
  // ~0.3 s at the reference's ~1 GFLOP/s.
  const run = randomRun({ T: 40, B: 16, I: 128, H: 128, L: 2, bidir: false }, 9);
  const total = gruFlops(run);
  let result: GruRunResult | undefined;
  const t = await timersDuring(async () => {
    await withProgress(total, async (onProgress) => (result = await runGruStackAsync(run, { precision: 'f32', onProgress })));
  });
  assert.ok(t.runMs > 150, `run too short to test (${t.runMs} ms)`);
  assert.ok(t.firstMs < Math.min(200, t.runMs / 2), `10 ms timer fired after ${t.firstMs} ms of a ${t.runMs} ms run`);
  assertSameBits(result!, runGruStack(run, { precision: 'f32' }), 'long run');
  const ms = await abortLatency((signal) => runGruStackAsync(run, { precision: 'f32', signal }), 60);
  tc.diagnostic(`first timer ${t.firstMs.toFixed(0)} ms into a ${t.runMs.toFixed(0)} ms run; abort latency ${ms.toFixed(0)} ms`);
  assert.ok(ms < 200, `rejected ${ms} ms after abort`);
});
