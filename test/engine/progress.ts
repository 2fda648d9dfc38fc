// The engines keep the main thread responsive (src/gru/control.ts): progress reports from the
// fast engine (in-process and on workers) and the async reference, timers firing during an
// in-process run, AbortSignal stopping runs before they finish and leaving the worker pool usable
// and the process free to exit, and runGruStackAsync equal to runGruStack bit for bit.
// No assertion reads a clock against a limit: what happens during a run is observed by events
// (a timer fired, progress came in) on runs too long to finish first, and aborted there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadArrays } from '../../src/io/load.js';
import { buildCase, type CaseOptions } from '../../src/model/case.js';
import type { GruRunInput, GruRunOptions, GruRunResult } from '../../src/gru/stack.js';
import { runGruStack } from '../../src/gru/layer.js';
import { closeFastEngine, gruFlops, runGruFast, warmFastEngine, type FastOptions } from '../../src/engine/fast.js';
import { runStack } from '../../src/gru/stack.js';
import { REFERENCE_RUNNER } from '../../src/gru/layer.js';
import { AbortError, REPORT_MS, type RunControl } from '../../src/gru/control.js';
import { PYTORCH_MATH, withMath } from '../../src/model/math.js';

/** The reference runner on the event loop (the first version's runGruStackAsync). */
const runGruStackAsync = (run: GruRunInput, o: GruRunOptions & RunControl & { pieceRows?: number }): Promise<GruRunResult> => runStack(run, o, REFERENCE_RUNNER, o);
import { CASES, SAMPLES, nodeScript } from '../helpers.js';
import { lcg, randomRun as sharedRandomRun, type RandomRunSpec } from '../random-run.js';

after(() => closeFastEngine());

/** The shared builder, seeded per call, weights at 1.5x PyTorch's init scale, lengths from 0. */
function randomRun(s: RandomRunSpec, seed = 1): GruRunInput {
  return sharedRandomRun({ weightScale: 1.5, minLength: 0, ...s }, lcg(seed));
}

/**
 * Runs `fn` to completion with a progress recorder; checks the reports are monotone, end at exactly
 * (total, total), and are throttled. The throttle is checked without a clock of its own: the engine
 * reports at most once per 0.9 * REPORT_MS of its own clock (the last report excepted), so however
 * slow or loaded the machine, the reports before the last cannot outnumber the run's duration over
 * that spacing.
 */
async function withProgress(total: number, fn: (onProgress: (d: number, t: number) => void) => Promise<unknown>): Promise<{ calls: number }> {
  const seen: number[] = [];
  const t0 = performance.now();
  await fn((done, t) => {
    assert.equal(t, total, 'total');
    seen.push(done);
  });
  const elapsed = performance.now() - t0;
  assertMonotone(seen, total);
  assert.equal(seen.at(-1), total, 'last report is total');
  assert.ok(seen.length - 1 <= elapsed / (0.9 * REPORT_MS), `${seen.length} reports in a ${elapsed.toFixed(0)} ms run: not throttled to one per ${REPORT_MS} ms`);
  return { calls: seen.length };
}

function assertMonotone(seen: number[], total: number): void {
  assert.ok(seen.length >= 1, 'no progress reported');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `progress not increasing at ${i}: ${seen[i - 1]} -> ${seen[i]}`);
  assert.ok(seen.every((d) => d >= 0 && d <= total));
}

/**
 * What happened on the event loop during a run that `observeThenAbort` stopped: progress reports,
 * whether a 10 ms timer fired, how often a 10 ms interval ticked.
 */
interface Observed {
  reports: number[];
  timerFired: boolean;
  ticks: number;
}

/**
 * Starts a run far too long to finish here (seconds to minutes), with a 10 ms timer and a 10 ms
 * interval armed, and aborts it as soon as the timer has fired, the interval has ticked twice and
 * two progress reports have come in — events, not a clock, decide when. Checks the run then rejects
 * with an AbortError carrying the reason, and that it had not finished: every report is below the
 * total (a finished run reports (total, total) and resolves).
 */
async function observeThenAbort(total: number, start: (control: RunControl) => Promise<unknown>): Promise<Observed> {
  const ac = new AbortController();
  const seen: Observed = { reports: [], timerFired: false, ticks: 0 };
  const check = (): void => {
    if (!ac.signal.aborted && seen.timerFired && seen.ticks >= 2 && seen.reports.length >= 2) ac.abort('stop');
  };
  const timer = setTimeout(() => {
    seen.timerFired = true;
    check();
  }, 10);
  const iv = setInterval(() => {
    seen.ticks++;
    check();
  }, 10);
  try {
    await assert.rejects(
      start({
        signal: ac.signal,
        onProgress: (done, t) => {
          assert.equal(t, total, 'total');
          seen.reports.push(done);
          check();
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof AbortError, `not an AbortError (did the run end before the events?): ${String(e)}`);
        assert.equal(e.name, 'AbortError');
        assert.equal((e as Error).cause, 'stop');
        return true;
      },
    );
  } finally {
    clearTimeout(timer);
    clearInterval(iv);
  }
  assert.ok(ac.signal.aborted);
  assertMonotone(seen.reports, total);
  assert.ok(seen.reports.at(-1)! < total, `the run had finished (${seen.reports.at(-1)} of ${total}) when the abort took effect`);
  return seen;
}

// A run that completes: ~0.1-0.2 s in-process with the double JS kernel (f64).
const SHORT = randomRun({ T: 60, B: 16, I: 128, H: 128, L: 1, bidir: false });
// A run that never completes here, only aborted: ~20 GFLOP, 5-20 s with either engine on this
// machine (the reference loops: ~1 GFLOP/s), so the ~0.2 s of events it waits for always come first.
const ENDLESS = randomRun({ T: 3000, B: 16, I: 8, H: 256, L: 1, bidir: false }, 4);
const F64_JS: GruRunOptions & FastOptions = { precision: 'f64', kernel: 'js' };

test('fast engine in-process: timers fire during a long run, progress is monotone, abort rejects before it finishes', async () => {
  const seen = await observeThenAbort(gruFlops(ENDLESS), (control) => runGruFast(ENDLESS, { ...F64_JS, threads: 1, ...control }));
  assert.ok(seen.timerFired && seen.ticks >= 2);
  await withProgress(gruFlops(SHORT), (onProgress) => runGruFast(SHORT, { ...F64_JS, threads: 1, onProgress }));
  const pre = AbortSignal.abort();
  await assert.rejects(runGruFast(SHORT, { ...F64_JS, threads: 1, signal: pre }), { name: 'AbortError' });
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
  const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>): number => Array.from(x).reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
  assert.ok(maxDiff(b.output, ref.output) <= 1e-6 && maxDiff(b.hN, ref.hN) <= 1e-6);
  assert.deepEqual(await runGruFast(LONG, { precision: 'f32', threads: 1 }), a, 'alone == overlapped');
});

test('fast engine on 2 workers: progress polled from shared memory, abort rejects before the end, pool still usable', async () => {
  await warmFastEngine(2);
  await withProgress(gruFlops(SHORT), (onProgress) => runGruFast(SHORT, { ...F64_JS, threads: 2, onProgress }));
  await observeThenAbort(gruFlops(ENDLESS), (control) => runGruFast(ENDLESS, { ...F64_JS, threads: 2, ...control }));
  const bidir = randomRun({ T: 20, B: 6, I: 9, H: 16, L: 2, bidir: true, lengths: true }, 5);
  assert.deepEqual(await runGruFast(bidir, { precision: 'f32', threads: 2 }), await runGruFast(bidir, { precision: 'f32', threads: 1 }));
});

test('an aborted worker run does not keep the process alive', () => {
  // Aborted at its first progress report, so certainly mid-run. The 20 s timeout only turns a
  // process that never exits (the bug) into a failure instead of a hang; it exits in ~1 s.
  const code = `import { runGruFast } from ENGINE;
const H = 128, B = 16, T = 400, I = 128;
const w = (n) => Float64Array.from({ length: n }, (_, i) => Math.sin(i) / 16);
const params = { inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: false, bias: false, dtype: 'float64',
  layers: [0, 1].map(() => [{ weightIh: w(3 * H * I), weightHh: w(3 * H * H), inputSize: I }]) };
const ac = new AbortController();
await runGruFast({ params, input: w(T * B * I), seqLen: T, batchSize: B, h0: new Float64Array(2 * B * H) },
  { precision: 'f64', threads: 2, signal: ac.signal, onProgress: (d, t) => { if (d < t) ac.abort(); } })
  .then(() => console.log('finished'), (e) => console.log(e.name));`;
  const res = nodeScript(code);
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

test('runGruStackAsync: timers fire and progress is reported during a long run; abort rejects before it finishes', async () => {
  const seen = await observeThenAbort(gruFlops(ENDLESS), (control) => runGruStackAsync(ENDLESS, { precision: 'f32', ...control }));
  assert.ok(seen.timerFired && seen.ticks >= 2);
  // A run that completes: paced, reported, and equal to the synchronous loops bit for bit.
  const run = randomRun({ T: 10, B: 16, I: 128, H: 128, L: 2, bidir: false }, 9);
  let result: GruRunResult | undefined;
  await withProgress(gruFlops(run), async (onProgress) => (result = await runGruStackAsync(run, { precision: 'f32', onProgress })));
  assertSameBits(result!, runGruStack(run, { precision: 'f32' }), 'long run');
});
