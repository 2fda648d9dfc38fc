// Keras weight files through the built CLI (README "ONNX and Keras layouts"): `run CASE --weights
// model.weights.h5 | model.keras` exits 0 on a case whose expected tensors are Keras's own
// model.predict outputs (test/fixtures/keras-files), 1 when the check runs and differs, and 2 with
// one line on stderr for a file it cannot read or a choice it cannot make.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, bin, cli, tmp } from '../helpers.js';

const kf = (name: string): string => join('test', 'fixtures', 'keras-files', name);

test('cli: run --weights model.keras (a Bidirectional GRU) from the built bin: exit 0, PASS', () => {
  const r = bin(['run', kf('bidirectional.npz'), '--weights', kf('bidirectional.keras')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /weights from Keras layer bidirectional of a \.keras file/);
  assert.match(r.stdout, /PASS/);
  assert.equal(r.stderr, '');
});

test('cli: a truncated .weights.h5 from the built bin: exit 2, one line, no stack', () => {
  const dir = tmp('gru-check-cli-keras-');
  const p = join(dir, 'cut.weights.h5');
  writeFileSync(p, readFileSync(join(ROOT, kf('gru.weights.h5'))).subarray(0, 3000));
  const r = bin(['run', kf('gru.npz'), '--weights', p]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `gru-check: error: ${p}: HDF5 file: 3000 bytes, its superblock says the file ends at byte 17576\n`);
});

test('cli: --weights model.weights.h5 of a hard_sigmoid model (no config to say so): exit 1, and the note says what was assumed', async () => {
  const r = await cli(['run', kf('hard_sigmoid.npz'), '--weights', kf('hard_sigmoid.weights.h5'), '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /holds no layer config/);
  const k = await cli(['run', kf('hard_sigmoid.npz'), '--weights', kf('hard_sigmoid.keras')]);
  assert.equal(k.code, 0, k.stdout + k.stderr);
});

test('cli: several GRU layers: exit 2 listing them; --prefix by Keras path or by layer name: exit 0', async () => {
  const r = await cli(['run', kf('stacked_gru_1.npz'), '--weights', kf('stacked.weights.h5')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /several Keras GRU layers in one file: gru, gru_1 \(pick one with --prefix: --prefix gru_1 is the one whose input_dim 5 fits the input\)/);
  for (const prefix of ['gru_1', 'upper']) {
    const ok = await cli(['run', kf('stacked_gru_1.npz'), '--weights', kf('stacked.keras'), '--prefix', prefix]);
    assert.equal(ok.code, 0, `--prefix ${prefix}: ${ok.stdout}${ok.stderr}`);
  }
});
