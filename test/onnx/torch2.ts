// Real torch 2.13 exports (the dynamo exporter; test/fixtures/onnx-models/make_torch2_models.py):
// external data, weights inside, and weights the graph computes (optimize=False) all pass through
// --weights and --onnx against PyTorch's own outputs; a copy with one weight changed by 0.05 fails
// both ways (issue 20 item 1). Then external data that points where it must not, and computed
// weights gru-check will not fold: exit 2, one line, naming what and how to fix it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOnnx } from '../../src/io/onnx.js';
import { GruCheckError } from '../../src/errors.js';
import { cli, ROOT, tmp } from '../helpers.js';
import { f32, gruModelBytes, splitSpecCase, writeModel } from './model-builder.js';
import { loadArrays } from '../../src/io/load.js';

const DIR = join(ROOT, 'test', 'fixtures', 'onnx-models');
const f = (n: string): string => join(DIR, n);

let ortInstalled = true;
try {
  createRequire(import.meta.url).resolve('onnxruntime-node');
} catch {
  ortInstalled = false;
}

const checks = (stdout: string): Array<{ tensor: string; subject: string; maxAbsError: number; pass: boolean }> => JSON.parse(stdout).cases[0].checks;
const oneLine = (stderr: string): void => assert.equal(stderr.trimEnd().split('\n').length, 1, `expected one line, got:\n${stderr}`);

describe('torch 2.x exports (dynamo exporter) as the weights and as the port', () => {
  const models: Array<[string, string]> = [
    ['t2_uni1.npz', 't2_uni1.onnx'], // defaults: R in t2_uni1.onnx.data
    ['t2_bidir2_bf.npz', 't2_bidir2_bf.onnx'], // external_data=False
    ['t2_bidir2_bf.npz', 't2_bidir2_bf_ext.onnx'], // defaults: every weight in the .data file
    ['t2_bidir2_bf.npz', 't2_bidir2_bf_noopt.onnx'], // optimize=False: W/R/B built by Slice/Concat/Unsqueeze/Shape/Mul
  ];

  it('--weights: every export passes against PyTorch; the tampered copies (inside and external) fail', async () => {
    for (const [c, m] of models) {
      const r = await cli(['run', f(c), '--weights', f(m), '--format', 'json']);
      assert.equal(r.code, 0, `${m}: ${r.stderr}`);
      for (const k of checks(r.stdout)) assert.ok(k.maxAbsError < 1e-6, `${m} ${k.tensor}: ${k.maxAbsError}`);
      if (m.includes('bidir2')) assert.equal(JSON.parse(r.stdout).cases[0].weightsFrom, 'ONNX nodes node_GRU_74, node_GRU_157');
    }
    for (const m of ['t2_bidir2_bf_tampered.onnx', 't2_bidir2_bf_tampered_ext.onnx']) {
      const r = await cli(['run', f('t2_bidir2_bf.npz'), '--weights', f(m), '--format', 'json']);
      assert.equal(r.code, 1, `${m}: ${r.stderr}`);
      const out = checks(r.stdout).find((k) => k.tensor === 'output')!;
      assert.ok(out.maxAbsError > 1e-3 && out.maxAbsError < 0.05, `${m}: ${out.maxAbsError}`);
    }
  });

  it('--onnx: ONNX Runtime runs every export and passes; the tampered copies fail', { skip: !ortInstalled && 'onnxruntime-node is not installed (.ci/run installs it)' }, async () => {
    for (const [c, m] of models) {
      const r = await cli(['run', f(c), '--onnx', f(m), '--format', 'json']);
      assert.equal(r.code, 0, `${m}: ${r.stderr}`);
      const cand = checks(r.stdout).filter((k) => k.subject === 'candidate');
      assert.equal(cand.length, 4);
      for (const k of cand) assert.ok(k.maxAbsError < 1e-5, `${m} ${k.tensor}: ${k.maxAbsError}`);
    }
    for (const m of ['t2_bidir2_bf_tampered.onnx', 't2_bidir2_bf_tampered_ext.onnx']) {
      const r = await cli(['run', f('t2_bidir2_bf.npz'), '--onnx', f(m)]);
      assert.equal(r.code, 1, `${m}: ${r.stderr}`);
    }
  });
});

describe('external data: files beside the model only, offsets and lengths checked', () => {
  /** A one-node model in its own folder whose W lies in an external file, as `entries` say. */
  async function extModel(entries: Record<string, string>, write: (dir: string, wBytes: Uint8Array) => void): Promise<{ caseFile: string; model: string; dir: string }> {
    const s = await splitSpecCase(join(ROOT, 'test', 'fixtures', 'onnx', 'spec_forward_lbr0.npz'));
    const b = await loadArrays(join(ROOT, 'test', 'fixtures', 'onnx', 'spec_forward_lbr0.npz'));
    const W = f32(b.arrays.get('W')!);
    const R = f32(b.arrays.get('R')!);
    const B = f32(b.arrays.get('B')!);
    const dir = join(s.dir, 'model');
    mkdirSync(dir);
    const wBytes = new Uint8Array(W.data.buffer.slice(0));
    write(dir, wBytes);
    const model = writeModel(dir, 'm.onnx', {
      W, R, B, attrs: { hidden_size: { int: 4 } },
      wInitializer: { name: 'W_init', dataType: 1, dims: W.dims, dataLocation: 1, externalData: Object.entries(entries).map(([key, value]) => ({ key, value })) },
    });
    return { caseFile: s.caseFile, model, dir };
  }

  it('a weight in a file beside the model is read (at an offset) and checked', async () => {
    const m = await extModel({ location: 'w.bin', offset: '16', length: '144' }, (dir, w) => writeFileSync(join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(16, 7), w, Buffer.alloc(5)])));
    const r = await cli(['run', m.caseFile, '--weights', m.model, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    for (const k of checks(r.stdout)) assert.ok(k.maxAbsError < 1e-6);
  });

  const refused: Array<[string, Record<string, string>, (dir: string, w: Uint8Array) => void, RegExp]> = [
    ['.. climbs out', { location: '../w.bin' }, (dir, w) => writeFileSync(join(dir, '..', 'w.bin'), w), /external data location '\.\.\/w\.bin' climbs out of the model's folder/],
    ['an absolute path', { location: '/etc/passwd' }, () => {}, /external data location '\/etc\/passwd' is an absolute path/],
    ['a symlink leading out', { location: 'w.bin' }, (dir, w) => {
      writeFileSync(join(dir, '..', 'outside.bin'), w);
      symlinkSync(join(dir, '..', 'outside.bin'), join(dir, 'w.bin'));
    }, /external data location 'w\.bin' leads out of the model's folder \(through a symlink\)/],
    ['a missing file', { location: 'nope.bin' }, () => {}, /external data file 'nope\.bin' is not beside the model .*torch\.onnx\.export\(\.\.\., external_data=False\)/],
    ['a length that is not the tensor', { location: 'w.bin', length: '100' }, (dir, w) => writeFileSync(join(dir, 'w.bin'), w), /external data length 100 bytes, but its shape and type need 144/],
    ['an offset past the end', { location: 'w.bin', offset: '8' }, (dir, w) => writeFileSync(join(dir, 'w.bin'), w), /external data \[8, 152\) lies past the end of 'w\.bin' \(144 bytes\)/],
    ['an offset that is not a number', { location: 'w.bin', offset: '-1' }, (dir, w) => writeFileSync(join(dir, 'w.bin'), w), /external data offset '-1' is not a whole number/],
    ['a directory', { location: 'sub' }, (dir) => mkdirSync(join(dir, 'sub')), /'sub' is not a regular file/],
  ];
  for (const [what, entries, write, msg] of refused) {
    it(`${what}: exit 2, one line`, async () => {
      const m = await extModel(entries, write);
      const r = await cli(['run', m.caseFile, '--weights', m.model]);
      assert.equal(r.code, 2, r.stdout);
      oneLine(r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /initializer 'W_init'/);
    });
  }

  it('read from bytes alone (the library, no folder): refused naming torch.onnx.export(..., external_data=False)', () => {
    const bytes = gruModelBytes({ W: { data: new Float32Array(12), dims: [1, 3, 4] }, R: { data: new Float32Array(3), dims: [1, 3, 1] }, attrs: {}, wInitializer: { name: 'W', dataType: 1, dims: [1, 3, 4], dataLocation: 1, externalData: [{ key: 'location', value: 'model.onnx.data' }] } });
    assert.throws(() => readOnnx(bytes), (e: GruCheckError) => e.code === 'UNSUPPORTED_ONNX' && /uses external data \(in 'model\.onnx\.data'\)/.test(e.message) && /torch\.onnx\.export\(\.\.\., external_data=False\)/.test(e.hint ?? ''));
  });

  it('a model copied without its .data file: exit 2 naming the file and the exporter switch', async () => {
    const dir = tmp('gru-check-t2-');
    copyFileSync(f('t2_bidir2_bf_ext.onnx'), join(dir, 'm.onnx'));
    const r = await cli(['run', f('t2_bidir2_bf.npz'), '--weights', join(dir, 'm.onnx')]);
    assert.equal(r.code, 2);
    oneLine(r.stderr);
    assert.match(r.stderr, /external data file 't2_bidir2_bf_ext\.onnx\.data' is not beside the model \(.*external_data=False/);
  });
});

describe('weights the graph computes: folded when only shapes and selection, refused by op otherwise', () => {
  async function computedW(extraNodes: Array<Record<string, unknown>>, extraInitializers: Array<Record<string, unknown>> = []): Promise<{ caseFile: string; model: string }> {
    const s = await splitSpecCase(join(ROOT, 'test', 'fixtures', 'onnx', 'spec_forward_lbr0.npz'));
    const b = await loadArrays(join(ROOT, 'test', 'fixtures', 'onnx', 'spec_forward_lbr0.npz'));
    const W = f32(b.arrays.get('W')!);
    const model = writeModel(s.dir, 'computed.onnx', {
      W, R: f32(b.arrays.get('R')!), B: f32(b.arrays.get('B')!), attrs: { hidden_size: { int: 4 } },
      // W_init becomes the computed value; the stored tensor is W_src [12, 3] (W without its first axis).
      wInitializer: { name: 'W_src', dataType: 1, dims: [12, 3], rawData: new Uint8Array(W.data.buffer.slice(0)) },
      extraNodes, extraInitializers,
    });
    return { caseFile: s.caseFile, model };
  }
  const i64 = (name: string, v: number[]): Record<string, unknown> => ({ name, dataType: 7, dims: [v.length], int64Data: v });

  it('Split + Concat + Gather + Transpose twice + Unsqueeze: folded, the case passes', async () => {
    const m = await computedW([
      { opType: 'Split', input: ['W_src', 'parts'], output: ['a', 'b'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Concat', input: ['a', 'b'], output: ['ab'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Gather', input: ['ab', 'order'], output: ['g'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Transpose', input: ['g'], output: ['t1'], attribute: [{ name: 'perm', type: 7, ints: [1, 0] }] },
      { opType: 'Transpose', input: ['t1'], output: ['t2'], attribute: [{ name: 'perm', type: 7, ints: [1, 0] }] },
      { opType: 'Unsqueeze', input: ['t2', 'zero'], output: ['W_init'] },
    ], [i64('parts', [5, 7]), i64('order', [...Array(12).keys()]), i64('zero', [0])]);
    const r = await cli(['run', m.caseFile, '--weights', m.model]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('a Gather that reorders rows: folded as ONNX says (the case then fails, exit 1)', async () => {
    const m = await computedW([
      { opType: 'Gather', input: ['W_src', 'order'], output: ['g'] },
      { opType: 'Unsqueeze', input: ['g', 'zero'], output: ['W_init'] },
    ], [i64('order', [4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11]), i64('zero', [0])]);
    const r = await cli(['run', m.caseFile, '--weights', m.model]);
    assert.equal(r.code, 1, r.stderr);
  });

  it('float arithmetic (Mul by a float) or a graph input: exit 2 naming the op, with the exporter hint', async () => {
    const m = await computedW([
      { name: 'scale_me', opType: 'Mul', input: ['W_src', 'two'], output: ['g'] },
      { opType: 'Unsqueeze', input: ['g', 'zero'], output: ['W_init'] },
    ], [{ name: 'two', dataType: 1, dims: [], floatData: [2] }, i64('zero', [0])]);
    const r = await cli(['run', m.caseFile, '--weights', m.model]);
    assert.equal(r.code, 2);
    oneLine(r.stderr);
    assert.match(r.stderr, /GRU node gru: its W 'W_init' is computed by the graph, by a Mul node \(scale_me\) on float32 data: gru-check reads weights that are stored, or computed from stored ones by shape and selection ops only \(Identity, Cast, .*\) \(export with torch\.onnx\.export\(\.\.\., dynamo=False\), .*--onnx model\.onnx\)/);
    const fromInput = await computedW([{ opType: 'Unsqueeze', input: ['X', 'zero'], output: ['W_init'] }], [i64('zero', [0])]);
    const r2 = await cli(['run', fromInput.caseFile, '--weights', fromInput.model]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /its W 'W_init' is computed by the graph, from the graph input 'X'/);
  });
});
