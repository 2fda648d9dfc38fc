// The library entry point (docs/library.md, src/index.ts): checkCase on a path, a loaded bundle or
// a validated case, with each option a script would pass (engine, threads, maxBytes, precision,
// rtol/atol, signal, onProgress), and loadCase with maxBytes. Imported from src/index.ts, the file
// package.json's exports point at once built.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../../src/index.js';
import { AbortError, checkCase, closeFastEngine, GruCheckError, loadArrays, loadCase, type ArrayBundle, type NdArray } from '../../src/index.js';
import { ROOT, sample } from '../helpers.js';
import { f16round as f16 } from '../../src/gru/cell.js';

after(() => closeFastEngine());

test('checkCase takes a path, a loaded bundle or a validated case, on either engine', async () => {
  const path = sample('lengths.npz');
  const c = await loadCase(path);
  assert.equal(c.batchSize, 4);
  const results = [
    await checkCase(path),
    await checkCase(await loadArrays(path)),
    await checkCase(c),
    await checkCase(c, { engine: 'reference' }),
    await checkCase(c, { engine: 'fast', threads: 2 }),
  ];
  assert.deepEqual(results.map((r) => [r.pass, r.timings.engine, r.timings.threads]), [
    [true, 'fast', 1], [true, 'fast', 1], [true, 'fast', 1], [true, 'reference', 1], [true, 'fast', 2],
  ]);
  for (const r of results) assert.deepEqual(r.checks.map((k) => k.tensor), ['output', 'h_n']);
  // Both engines land within float32 rounding of each other.
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(results[2]!.checks[i]!.maxAbsError! - results[3]!.checks[i]!.maxAbsError!) < 1e-6);
});

test('rtol / atol: a mismatch is a result, and each tolerance overrides only itself', async () => {
  const path = sample('mismatch.npz');
  const strict = await checkCase(path, { engine: 'reference' });
  assert.equal(strict.pass, false);
  assert.deepEqual([strict.checks[0]!.rtol, strict.checks[0]!.atol], [1.3e-6, 1e-5]);
  const atol = await checkCase(path, { engine: 'reference', atol: 2e-3 });
  assert.equal(atol.pass, true);
  assert.deepEqual([atol.checks[0]!.rtol, atol.checks[0]!.atol], [1.3e-6, 2e-3]);
  assert.equal((await checkCase(path, { engine: 'reference', rtol: 0.01 })).pass, true);
});

test('precision: f64 by default for a float64 dump; f32 rounds the state like a float32 model', async () => {
  const path = sample('float64.npz');
  const f64 = await checkCase(path);
  assert.equal(f64.precision, 'f64');
  assert.ok(f64.checks.every((k) => k.maxAbsError! < 1e-12));
  const f32 = await checkCase(path, { precision: 'f32' });
  assert.equal(f32.precision, 'f32');
  assert.ok(f32.checks[0]!.maxAbsError! > 1e-9, 'float32 rounding shows against a float64 dump');
});

test('maxBytes: loadCase and checkCase refuse an archive, and a computation, past the limit', async () => {
  const path = sample('bidir_2layer.npz');
  const tooLarge = (e: unknown): boolean => e instanceof GruCheckError && e.code === 'TOO_LARGE';
  await assert.rejects(loadCase(path, { maxBytes: 1024 }), (e) => tooLarge(e) && /members total \d+ bytes uncompressed, more than the limit of 1024 bytes/.test((e as Error).message));
  await assert.rejects(checkCase(path, { maxBytes: 1024 }), tooLarge);
  // A few bytes of weights asking for a long run: refused from the shapes (40 x T x B x D x H bytes).
  const b = await loadArrays(sample('classic_batch_first.npz')); // input (B=2, T=3, I=4)
  const T = 4096;
  const arrays = new Map(b.arrays);
  arrays.set('input', { name: 'input', dtype: 'float32', shape: [2, T, 4], data: new Float32Array(2 * T * 4) });
  arrays.set('output', { name: 'output', dtype: 'float32', shape: [2, T, 5], data: new Float32Array(2 * T * 5) });
  const long: ArrayBundle = { source: 'long.npz', arrays };
  await assert.rejects(checkCase(long, { maxBytes: 1 << 20 }), (e) => tooLarge(e) && /computing this GRU needs about 1\.56 MiB \(T=4096, B=2, 1x5 features\), over the 1 MiB limit/.test((e as Error).message));
  assert.equal((await checkCase(long, { maxBytes: 2 << 20 })).checks.length, 2, 'under the limit it runs');
});

test('onProgress: loading in bytes of the file, then computing in flops, each monotone; computing ends at its total', async () => {
  const path = sample('bidir_2layer.npz');
  const seen: Record<string, Array<[number, number]>> = { load: [], compute: [] };
  await checkCase(path, { onProgress: (done, total, phase) => seen[phase]!.push([done, total]) });
  for (const phase of ['load', 'compute'] as const) {
    const s = seen[phase]!;
    assert.ok(s.length >= 1, `${phase}: no progress`);
    for (let i = 1; i < s.length; i++) assert.ok(s[i]![0] > s[i - 1]![0] && s[i]![1] === s[0]![1], `${phase} progress: ${JSON.stringify(s)}`);
    assert.ok(s.every(([d, t]) => d > 0 && d <= t), `${phase} progress: ${JSON.stringify(s)}`);
  }
  // Loading counts the members' bytes against the file's size (zip headers are not counted).
  assert.equal(seen.load![0]![1], statSync(path).size);
  const [done, total] = seen.compute!.at(-1)!;
  assert.equal(done, total, 'the last compute report is (total, total)');
});

/** A GRU of ~10 GFLOP in memory (I = 8, H = 256, T = 2000, B = 16): seconds to compute, never finished here. */
function longBundle(): ArrayBundle {
  let s = 7;
  const rnd = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
  const H = 256, I = 8, T = 2000, B = 16;
  const nd = (name: string, shape: number[], data: Float32Array): NdArray => ({ name, dtype: 'float32', shape, data });
  const arrays = new Map<string, NdArray>([
    ['input', nd('input', [T, B, I], rnd(T * B * I, 2))],
    ['h_n', nd('h_n', [1, B, H], new Float32Array(B * H))],
    ['weight_ih_l0', nd('weight_ih_l0', [3 * H, I], rnd(3 * H * I, 0.1))],
    ['weight_hh_l0', nd('weight_hh_l0', [3 * H, H], rnd(3 * H * H, 0.1))],
  ]);
  return { source: 'long.npz', arrays };
}

test('signal: an aborted check rejects with AbortError before it finishes, on either engine', async () => {
  await assert.rejects(checkCase(sample('lengths.npz'), { signal: AbortSignal.abort('early') }), (e) => e instanceof AbortError && e.cause === 'early');
  const bundle = longBundle();
  for (const engine of ['fast', 'reference'] as const) {
    // Aborted at the first compute progress report: the run is certainly under way, not done.
    const ac = new AbortController();
    const reports: number[] = [];
    await assert.rejects(
      checkCase(bundle, { engine, batchFirst: false, signal: ac.signal, onProgress: (done, total, phase) => {
        if (phase !== 'compute') return;
        reports.push(done / total);
        ac.abort('stop');
      } }),
      (e) => e instanceof AbortError && e.name === 'AbortError' && e.cause === 'stop',
    );
    assert.ok(reports.length >= 1 && reports.every((f) => f < 1), `${engine}: ${JSON.stringify(reports)}`);
  }
});

test('every name docs/library.md lists as exported is exported', () => {
  const section = readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8');
  const imported = [...section.matchAll(/import \{([^}]+)\} from 'gru-check'/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim()));
  const also = section.slice(section.indexOf('Also exported'));
  const listed = [...also.slice(0, also.indexOf('\n\n')).matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!);
  assert.ok(imported.length >= 2 && listed.length >= 10, `found ${imported.length} imported and ${listed.length} listed names`);
  const missing = [...imported, ...listed].filter((n) => !(n in api));
  assert.deepEqual(missing, [], 'named in docs/library.md but not exported by src/index.ts');
});

test('checkCase and diagnoseCase refuse options that build a case when given a case already built', async () => {
  const c = await loadCase(sample('classic_batch_first.npz'));
  for (const options of [{ prefix: 'enc' }, { weights: sample('no_bias.npz') }, { layout: 'onnx' as const, clip: 3 }, { batchFirst: false }]) {
    for (const entry of [api.checkCase, api.diagnoseCase]) {
      await assert.rejects(() => entry(c, options), (e: unknown) => e instanceof GruCheckError && e.code === 'USAGE' && /given with a case already built/.test(e.message) && Object.keys(options).every((k) => e.message.includes(k)));
    }
  }
  // the same options on the path are applied, as before
  assert.equal((await checkCase(sample('classic_batch_first.npz'), { batchFirst: true })).pass, true);
});

test('a float16 Keras case stays float16, as the other layouts keep their dtype', async () => {
  const b = await loadArrays(sample('keras_reset_after.npz'));
  const arrays = new Map(b.arrays);
  for (const [name, a] of arrays) if (/kernel|bias/.test(name)) arrays.set(name, { ...a, dtype: 'float16', data: Float32Array.from(a.data as Float32Array, f16) } as NdArray);
  const c = api.buildCase({ ...b, arrays });
  assert.equal(c.config.dtype, 'float16');
  assert.equal(c.params.dtype, 'float16');
});
