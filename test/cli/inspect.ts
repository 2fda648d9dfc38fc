// `gru-check inspect`: arrays, stats and the inferred configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers.js';

test('inspect lists every array with dtype, shape and stats, and the inferred GRU', async () => {
  const r = await cli(['inspect', 'samples/lengths.npz']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /│ lengths +│ int64 +│ \(4,\) +│ 2 +│ 7 +│ 4\.5 +│ 0 +│ 0 +│/);
  assert.match(r.stdout, /│ weight_hh_l1_reverse +│ float32 +│ \(12, 4\)/);
  assert.match(r.stdout, /│ config +│ unicode +│ \(\) +│/);
  assert.match(r.stdout, /\nconfig: \{"batch_first": true/);
  assert.match(r.stdout, /inferred: pytorch GRU\(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, bias=True, batch_first=True \(from config\)\), dtype float32, seq 7, batch 4/);
});

test('inspect --format json, ONNX layout, and a file with no GRU in it', async () => {
  const j = JSON.parse((await cli(['inspect', 'samples/onnx_lbr1.npz', '--format', 'json'])).stdout);
  assert.equal(j.config.layout, 'onnx');
  assert.equal(j.config.bidirectional, true);
  const x = j.arrays.find((a: { name: string }) => a.name === 'X');
  assert.deepEqual(x.shape, [6, 3, 4]);
  assert.equal(x.nan, 0);
  assert.ok(x.min < 0 && x.max > 0);
  const none = await cli(['inspect', 'test/fixtures/io/npy/f4.npy']);
  assert.equal(none.code, 0);
  assert.match(none.stdout, /no GRU configuration: no GRU weights found/);
  assert.equal((await cli(['inspect', 'missing.npz'])).code, 2);
});
