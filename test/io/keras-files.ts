/**
 * Keras 3 weight files (.weights.h5 and .keras) through loadArrays and a whole check: every case
 * in test/fixtures/keras-files (made by make_keras_files.py with real Keras 3) is compared with
 * Keras's own model.predict outputs, never with values gru-check computed. Then what a hostile or
 * mistaken Keras file meets: truncations, lying dimensions and sizes, a zip bomb posing as a
 * .keras, a bad config.json, names that would break a log line — each one line and its code.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { checkCase } from '../../src/check.js';
import { computeGru } from '../../src/engine/compute.js';
import { GruCheckError } from '../../src/errors.js';
import { loadArrays } from '../../src/io/load.js';
import { openHdf5 } from '../../src/io/hdf5.js';
import { readKerasWeightsH5 } from '../../src/io/keras-file.js';
import { buildCase } from '../../src/model/case.js';
import type { ArrayBundle } from '../../src/io/types.js';
import { ROOT, tmp } from '../helpers.js';
import { assertGruError, assertGruErrorAsync } from '../fixtures/io/helpers.js';

export const KERAS_FILES = join(ROOT, 'test', 'fixtures', 'keras-files');
const kf = (name: string): string => join(KERAS_FILES, name);

let dir: string;
before(() => {
  dir = tmp('gru-check-keras-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The case file and its weights, loaded; then the case built and checked on the reference. */
async function check(caseName: string, weights: string, options: { prefix?: string } = {}) {
  const bundle = await loadArrays(kf(caseName));
  const w = await loadArrays(weights.startsWith('/') ? weights : kf(weights));
  return checkCase(bundle, { engine: 'reference', weights: w, ...options });
}

const passed = (r: Awaited<ReturnType<typeof checkCase>>): boolean => r.checks.length > 0 && r.checks.every((c) => c.pass);

/** Keras's two stored bytes of HDF5 dims for kernel [4, 15], found in a real file. */
function dimsAt(bytes: Uint8Array, dims: number[]): number {
  const pat = new Uint8Array(dims.length * 8);
  const v = new DataView(pat.buffer);
  dims.forEach((d, i) => v.setBigUint64(i * 8, BigInt(d), true));
  outer: for (let i = 0; i + pat.length <= bytes.length; i++) {
    for (let j = 0; j < pat.length; j++) if (bytes[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}

describe('Keras files: read by content, GRU layers by their Keras 3 paths', () => {
  it('a .weights.h5: each GRU layer as gru/kernel, gru/recurrent_kernel, gru/bias; no config', async () => {
    const b = await loadArrays(kf('gru.weights.h5'));
    assert.equal(b.format, 'keras-h5');
    assert.deepEqual([...b.arrays.keys()].sort(), ['gru/bias', 'gru/kernel', 'gru/recurrent_kernel']);
    assert.deepEqual(b.arrays.get('gru/kernel')!.shape, [4, 15]);
    assert.deepEqual(b.arrays.get('gru/recurrent_kernel')!.shape, [5, 15]);
    assert.deepEqual(b.arrays.get('gru/bias')!.shape, [2, 15]);
    assert.equal(b.arrays.get('gru/kernel')!.dtype, 'float32');
    assert.equal(b.keras?.container, 'weights.h5');
    assert.equal(b.keras?.hasConfig, false);
    assert.deepEqual(b.keras?.layers.map((l) => [l.prefix, l.path, l.name, l.bidirectional]), [['gru', 'layers/gru', 'gru', false]]);
  });

  it('a .keras: the same arrays, plus config.json per layer and the Keras version', async () => {
    const b = await loadArrays(kf('gru.keras'));
    assert.equal(b.format, 'keras');
    assert.deepEqual([...b.arrays.keys()].sort(), ['gru/bias', 'gru/kernel', 'gru/recurrent_kernel']);
    assert.equal(b.keras?.hasConfig, true);
    assert.match(b.keras?.kerasVersion ?? '', /^3\./);
    const cfg = b.keras!.layers[0]!.config!;
    assert.equal(cfg.reset_after, true);
    assert.equal(cfg.recurrent_activation, 'sigmoid');
    // The same weights as the .weights.h5 that model.save_weights wrote.
    const h5 = await loadArrays(kf('gru.weights.h5'));
    for (const [k, v] of h5.arrays) assert.deepEqual(Array.from(b.arrays.get(k)!.data as Float32Array), Array.from(v.data as Float32Array), k);
  });

  it('a Bidirectional: forward_layer and backward_layer under one layer; merge_mode from config.json', async () => {
    const b = await loadArrays(kf('bidirectional.keras'));
    assert.deepEqual([...b.arrays.keys()].filter((k) => k.endsWith('/kernel') && !k.endsWith('recurrent_kernel')).sort(), ['bidirectional/backward_layer/kernel', 'bidirectional/forward_layer/kernel']);
    const l = b.keras!.layers;
    assert.equal(l.length, 1);
    assert.equal(l[0]!.prefix, 'bidirectional');
    assert.equal(l[0]!.bidirectional, true);
    assert.equal(l[0]!.mergeMode, 'concat');
    assert.equal(l[0]!.backwardConfig?.go_backwards, true);
  });

  it('stacked GRUs: gru and gru_1 (Keras 3 paths), with the names the user gave them', async () => {
    const b = await loadArrays(kf('stacked.keras'));
    assert.deepEqual(b.keras!.layers.map((l) => [l.prefix, l.name]), [['gru', 'lower'], ['gru_1', 'upper']]);
    assert.deepEqual(b.arrays.get('gru_1/kernel')!.shape, [5, 18]);
  });

  it('use_bias=False: no bias array', async () => {
    const b = await loadArrays(kf('no_bias.weights.h5'));
    assert.deepEqual([...b.arrays.keys()].sort(), ['gru/kernel', 'gru/recurrent_kernel']);
  });
});

describe("Keras files: checked against Keras's own outputs", () => {
  for (const [caseName, weights, prefix] of [
    ['gru.npz', 'gru.weights.h5'],
    ['gru.npz', 'gru.keras'],
    ['reset_before.npz', 'reset_before.weights.h5'],
    ['reset_before.npz', 'reset_before.keras'],
    ['no_bias.npz', 'no_bias.weights.h5'],
    ['no_bias.npz', 'no_bias.keras'],
    ['hard_sigmoid.npz', 'hard_sigmoid.keras'],
    ['stacked_gru.npz', 'stacked.keras', 'gru'],
    ['stacked_gru_1.npz', 'stacked.weights.h5', 'gru_1'],
    ['stacked_gru_1.npz', 'stacked.keras', 'upper'],
    ['bidirectional.npz', 'bidirectional.keras'],
    ['bidirectional.npz', 'bidirectional.weights.h5'],
  ] as Array<[string, string, string?]>) {
    it(`${caseName} with --weights ${weights}${prefix ? ` --prefix ${prefix}` : ''}: passes`, async () => {
      const r = await check(caseName, weights, prefix ? { prefix } : {});
      assert.ok(passed(r), JSON.stringify(r.checks.map((c) => [c.tensor, c.pass, c.maxAbsError])));
      assert.ok(r.checks.some((c) => c.tensor === 'output'));
    });
  }

  it('reset_after=False from the bias shape, use_bias=False from its absence (a .weights.h5 says no more)', async () => {
    const c = buildCase(await loadArrays(kf('reset_before.npz')), { weights: await loadArrays(kf('reset_before.weights.h5')) });
    assert.equal(c.math.linearBeforeReset, false);
    const n = buildCase(await loadArrays(kf('no_bias.npz')), { weights: await loadArrays(kf('no_bias.weights.h5')) });
    assert.equal(n.params.bias, false);
  });

  it("recurrent_activation='hard_sigmoid' from config.json is Keras 3's relu6(x+3)/6", async () => {
    const c = buildCase(await loadArrays(kf('hard_sigmoid.npz')), { weights: await loadArrays(kf('hard_sigmoid.keras')) });
    assert.deepEqual(c.math.f, { name: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 });
  });

  it('the same weights from a .weights.h5 (no config) assume sigmoid, say so in a note, and fail', async () => {
    const r = await check('hard_sigmoid.npz', 'hard_sigmoid.weights.h5');
    assert.ok(!passed(r));
    assert.ok(r.notes?.some((n) => /holds no layer config/.test(n)), JSON.stringify(r.notes));
  });

  it('...and pass once the case config names the activation', async () => {
    const b = await loadArrays(kf('hard_sigmoid.npz'));
    const withConfig: ArrayBundle = { ...b, arrays: new Map(b.arrays) };
    withConfig.arrays.set('config', { name: 'config', dtype: 'unicode', shape: [], data: ['{"recurrent_activation": "hard_sigmoid_keras3"}'] });
    const r = await checkCase(withConfig, { engine: 'reference', weights: await loadArrays(kf('hard_sigmoid.weights.h5')) });
    assert.ok(passed(r));
  });

  it("a Bidirectional's final states are Keras's forward and backward h", async () => {
    const b = await loadArrays(kf('bidirectional.npz'));
    const c = buildCase(b, { weights: await loadArrays(kf('bidirectional.keras')) });
    const { result } = await computeGru(c, { engine: 'reference', precision: 'f64' });
    const B = c.batchSize;
    const H = c.params.hiddenSize;
    for (const [d, name] of [[0, 'h_n_forward'], [1, 'h_n_backward']] as const) {
      const want = b.arrays.get(name)!.data as Float32Array;
      for (let i = 0; i < B * H; i++) assert.ok(Math.abs(result.hN[d * B * H + i]! - want[i]!) < 1e-5, `${name}[${i}]: ${result.hN[d * B * H + i]} vs ${want[i]}`);
    }
  });

  it('several GRU layers without --prefix: exit-2 error listing them, naming the one the input fits', async () => {
    const e = await assertGruErrorAsync(() => check('stacked_gru_1.npz', 'stacked.keras'), 'AMBIGUOUS_PREFIX', ['gru, gru_1']);
    assert.match(e.hint ?? '', /--prefix gru_1 is the one whose input_dim 5 fits the input/);
  });

  it("a Bidirectional's backward layer alone is refused, naming the layer to check instead", async () => {
    await assertGruErrorAsync(() => check('bidirectional.npz', 'bidirectional.keras', { prefix: 'bidirectional/backward_layer' }), 'USAGE', ['reversed time', '--prefix bidirectional']);
  });

  it('a Keras file given as the case: weights, not a case', async () => {
    await assertGruErrorAsync(() => checkCase(kf('gru.keras'), { engine: 'reference' }), 'MISSING_ARRAY', ['holds weights, not a case']);
  });
});

/** A .keras archive with these members (stored), written to the test folder. */
function writeKeras(name: string, members: Record<string, Uint8Array>, level: 0 | 9 = 0): string {
  const p = join(dir, name);
  writeFileSync(p, zipSync(members, { level }));
  return p;
}
/** A real .keras's members other than config.json. */
const realKeras = (): Record<string, Uint8Array> => ({
  'metadata.json': new TextEncoder().encode('{"keras_version": "3.15.1"}'),
  'model.weights.h5': new Uint8Array(readFileSync(kf('gru.weights.h5'))),
});
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
/** The real .keras's config.json. */
async function realConfig(): Promise<string> {
  const { openZip, readZipMember } = await import('../../src/io/npz.js');
  const z = openZip(new Uint8Array(readFileSync(kf('gru.keras'))));
  return new TextDecoder().decode(readZipMember(z, z.entries.find((e) => e.name === 'config.json')!));
}

describe('Keras files: hostile and mistaken files are one line and exit 2', () => {
  const h5 = (): Uint8Array => new Uint8Array(readFileSync(kf('gru.weights.h5')));

  it('a truncated .weights.h5 -> TRUNCATED or BAD_HDF5, one line, no file content', async () => {
    const full = h5();
    for (const keep of [8, 100, 800, 2048, full.length - 200, full.length - 1]) {
      const p = join(dir, `trunc-${keep}.weights.h5`);
      writeFileSync(p, full.subarray(0, keep));
      await assert.rejects(loadArrays(p), (e: GruCheckError) => {
        assert.ok(e instanceof GruCheckError, String(e));
        assert.ok(['TRUNCATED', 'BAD_HDF5', 'MISSING_ARRAY'].includes(e.code), `${keep}: ${e.code} ${e.message}`);
        assert.ok(!/[\r\n]/.test(e.message));
        return true;
      });
    }
  });

  it('dims claiming 2^28 rows (16 GiB) -> refused before anything is allocated', () => {
    const b = h5();
    const at = dimsAt(b, [4, 15]);
    assert.ok(at > 0);
    new DataView(b.buffer).setBigUint64(at, 1n << 28n, true);
    const m0 = process.memoryUsage().arrayBuffers;
    assertGruError(() => readKerasWeightsH5(b), 'BAD_HDF5', ['storage holds 240 bytes', '[268435456, 15]']);
    assert.ok(process.memoryUsage().arrayBuffers - m0 < 16 << 20);
  });

  it('dims of 2^40 (which jsfive reads as 0) -> refused by the storage size', () => {
    const b = h5();
    const at = dimsAt(b, [4, 15]);
    new DataView(b.buffer).setBigUint64(at, 1n << 40n, true);
    new DataView(b.buffer).setBigUint64(at + 8, 1n << 40n, true);
    assertGruError(() => readKerasWeightsH5(b), 'TOO_LARGE', ['[1099511627776, 1099511627776]']);
  });

  it("a dataset whose data address points past the file's end -> TRUNCATED", () => {
    const b = h5();
    const c = openHdf5(b);
    assert.ok(c.datasets.has('layers/gru/cell/vars/0'));
    // Cut the file just after the headers: the last dataset's data is gone.
    const cut = b.subarray(0, b.length - 64);
    assert.throws(() => readKerasWeightsH5(cut.slice()), (e: GruCheckError) => e instanceof GruCheckError && ['TRUNCATED', 'BAD_HDF5'].includes(e.code));
  });

  it('an HDF5 file with no GRU layer (a real Keras LSTM) -> MISSING_ARRAY naming what it holds', async () => {
    await assertGruErrorAsync(() => loadArrays(kf('lstm.weights.h5')), 'MISSING_ARRAY', ['no Keras GRU layer', 'lstm (LSTM)']);
  });

  it('an HDF5 signature alone -> BAD_HDF5 or TRUNCATED, one line', () => {
    assert.throws(() => readKerasWeightsH5(h5().slice(0, 8)), (e: GruCheckError) => e instanceof GruCheckError && ['BAD_HDF5', 'TRUNCATED'].includes(e.code) && !/[\r\n]/.test(e.message));
  });

  it('a .keras zip bomb (config.json declared past the cap, deflated) -> TOO_LARGE before inflating', async () => {
    const big = new Uint8Array(20 * 1024 * 1024).fill(0x20); // 20 MiB of spaces: a few KiB deflated
    big.set(enc('{"a": 1}'), 0);
    const p = writeKeras('bomb.keras', { 'config.json': big, ...realKeras() }, 9);
    assert.ok(readFileSync(p).length < 200_000);
    await assertGruErrorAsync(() => loadArrays(p), 'TOO_LARGE', ['config.json']);
  });

  it('a .keras whose members total past --max-bytes -> TOO_LARGE', async () => {
    const p = writeKeras('big.keras', { 'config.json': enc(await realConfig()), ...realKeras() });
    await assertGruErrorAsync(() => loadArrays(p, { maxBytes: 4096 }), 'TOO_LARGE', []);
  });

  it('a bad config.json -> BAD_CONFIG naming the member, never quoting it', async () => {
    const secret = 'SECRET-TOKEN-abc123';
    const p = writeKeras('badjson.keras', { 'config.json': enc(`{"layers": [${secret}`), ...realKeras() });
    await assertGruErrorAsync(() => loadArrays(p), 'BAD_CONFIG', ["member 'config.json': not valid JSON"]);
    await assert.rejects(loadArrays(p), (e: GruCheckError) => !e.message.includes(secret));
    const q = writeKeras('array.keras', { 'config.json': enc('[1, 2]'), ...realKeras() });
    await assertGruErrorAsync(() => loadArrays(q), 'BAD_CONFIG', ['expected a JSON object']);
    const deep = writeKeras('deep.keras', { 'config.json': enc(`{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`), ...realKeras() });
    await assertGruErrorAsync(() => loadArrays(deep), 'BAD_CONFIG', ['nested more than']);
  });

  it("config.json's values are checked: an activation gru-check cannot compute, a units that disagrees", async () => {
    const cfg = await realConfig();
    const p = writeKeras('silu.keras', { 'config.json': enc(cfg.replace('"activation": "tanh"', '"activation": "silu"')), ...realKeras() });
    await assertGruErrorAsync(() => check('gru.npz', p), 'BAD_CONFIG', ['activation "silu" cannot be computed']);
    const q = writeKeras('units.keras', { 'config.json': enc(cfg.replace('"units": 5', '"units": 7')), ...realKeras() });
    await assertGruErrorAsync(() => check('gru.npz', q), 'SHAPE_MISMATCH', ['units 7 disagrees']);
    const r = writeKeras('resetafter.keras', { 'config.json': enc(cfg.replace('"reset_after": true', '"reset_after": false')), ...realKeras() });
    await assertGruErrorAsync(() => check('gru.npz', r), 'SHAPE_MISMATCH', ['reset_after=false']);
  });

  it('a .keras without model.weights.h5 -> BAD_MEMBER', async () => {
    const p = writeKeras('noweights.keras', { 'config.json': enc('{}'), 'metadata.json': enc('{}') });
    await assertGruErrorAsync(() => loadArrays(p), 'BAD_MEMBER', ['without model.weights.h5']);
  });

  it('layer names with control characters are escaped in messages', async () => {
    // A layer config whose name would write an escape sequence into a CI log.
    const cfg = (await realConfig()).replace('"units": 5', '"units": 9');
    const evil = cfg.replaceAll('"name": "gru"', '"name": "gru\\u001b[31mRED\\nx"');
    const p = writeKeras('evil.keras', { 'config.json': enc(evil), ...realKeras() });
    // The HDF5 file names the layer "gru": the evil config matches no layer, so nothing of it is used.
    const r = await check('gru.npz', p);
    assert.ok(passed(r));
    await assertGruErrorAsync(() => check('gru.npz', p, { prefix: 'x\u001b[2Jy' }), 'MISSING_ARRAY', ['x\\x1b[2Jy']);
  });

  it('an unknown layer name or prefix lists the layers there are', async () => {
    await assertGruErrorAsync(() => check('gru.npz', 'stacked.keras', { prefix: 'nope' }), 'MISSING_ARRAY', ["prefix 'nope'", 'gru, gru_1']);
  });
});
