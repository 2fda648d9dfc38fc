// The fp16 / bf16 presets against real mixed-precision ports: Keras 3 under mixed_float16 /
// mixed_bfloat16 (TensorFlow backend) and PyTorch CPU autocast / .to(dtype), of real PyTorch GRUs,
// and float32 mistakes on the same models (test/fixtures/tolerance/make_precision_ports.py).
// precision_ports.json holds numpy's statistics and preset decisions for the whole measured grid;
// the committed prec_*.npz are a subset, which gru-check must judge as numpy did, with numpy's
// numbers. Nothing here is compared with gru-check's own reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { checkCase } from '../../src/check.js';
import { readCandidate } from '../../src/candidate/read.js';
import { PORT_PRESETS } from '../../src/compare/tolerance.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'tolerance');
interface Stats { max_abs: number; mean_abs: number; rel_l2: number; mean_abs_expected: number }
interface Row { model: [number, number, number, number, string]; port: string; output: Stats; h_n: Stats; presets: Record<'fp16' | 'bf16', boolean>; old_presets: Record<'fp16' | 'bf16', boolean> }
interface Preset { check_error_stat: 'mean'; rtol: number; atol: number; max_rel_l2: number }
const DOC = JSON.parse(readFileSync(join(DIR, 'precision_ports.json'), 'utf8')) as {
  ports: { fp16: string[]; bf16: string[]; mistake: string[] };
  fixtures: Record<string, { model: Row['model']; ports: string[] }>;
  presets: Record<'fp16' | 'bf16', Preset>;
  old_presets: Record<'fp16' | 'bf16', Preset>;
  row_columns: string[];
  rows: unknown[][];
};
/** precision_ports.json's column table (row_columns) -> one object per (model, port). */
const ROWS: Row[] = DOC.rows.map((vals) => {
  const v = Object.fromEntries(DOC.row_columns.map((c, i) => [c, vals[i]])) as Record<string, never>;
  const st = (t: string): Stats => ({ max_abs: v[`${t}.max_abs`], mean_abs: v[`${t}.mean_abs`], rel_l2: v[`${t}.rel_l2`], mean_abs_expected: v[`${t}.mean_abs_expected`] });
  return {
    model: [v.layers, v.directions, v.T, v.H, v.init], port: v.port, output: st('output'), h_n: st('h_n'),
    presets: { fp16: v['presets.fp16'], bf16: v['presets.bf16'] }, old_presets: { fp16: v['old_presets.fp16'], bf16: v['old_presets.bf16'] },
  };
});
const family = (port: string): 'fp16' | 'bf16' | 'mistake' => (DOC.ports.fp16.includes(port) ? 'fp16' : DOC.ports.bf16.includes(port) ? 'bf16' : 'mistake');
const row = (model: Row['model'], port: string): Row => ROWS.find((r) => r.port === port && r.model.join() === model.join())!;
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-9 * Math.abs(b), `${what}: ${a} vs numpy's ${b}`);

test('PORT_PRESETS fp16 and bf16 are the presets the measurement judged (make_precision_ports.py PRESETS)', () => {
  for (const p of ['fp16', 'bf16'] as const) {
    const want = DOC.presets[p];
    const got = PORT_PRESETS[p];
    assert.deepEqual([got.checkErrorStat, got.rtol, got.atol, got.maxRelL2], [want.check_error_stat, want.rtol, want.atol, want.max_rel_l2], p);
  }
});

test('over the whole measured grid (numpy): every real port passes its preset, no float32 mistake passes either', () => {
  const fams = new Set(ROWS.map((r) => family(r.port)));
  assert.deepEqual([...fams].sort(), ['bf16', 'fp16', 'mistake']);
  // 1-3 layers, one and two directions, T up to 200: the range the presets were set for.
  assert.deepEqual([...new Set(ROWS.map((r) => r.model[0]))].sort(), [1, 2, 3]);
  assert.deepEqual([...new Set(ROWS.map((r) => r.model[1]))].sort(), [1, 2]);
  assert.equal(Math.max(...ROWS.map((r) => r.model[2])), 200);
  for (const r of ROWS) {
    const f = family(r.port);
    if (f === 'mistake') assert.deepEqual(r.presets, { fp16: false, bf16: false }, `${r.port} ${r.model}`);
    else assert.equal(r.presets[f], true, `${r.port} ${r.model}`);
  }
  // What the change was for: the old presets rejected real ports deeper than one layer.
  assert.ok(ROWS.some((r) => family(r.port) === 'fp16' && !r.old_presets.fp16 && r.model[0] > 1));
  assert.ok(ROWS.some((r) => family(r.port) === 'bf16' && !r.old_presets.bf16 && r.model[0] > 1));
  // and the committed fixtures include such ports, of either precision.
  const committed = Object.values(DOC.fixtures).flatMap((fx) => fx.ports.map((p) => row(fx.model, p)));
  for (const f of ['fp16', 'bf16'] as const) assert.ok(committed.some((r) => family(r.port) === f && !r.old_presets[f]), f);
});

for (const [stem, fx] of Object.entries(DOC.fixtures)) {
  test(`${stem} (${fx.model.join(', ')}): each real port passes its preset and each mistake fails both, with numpy's statistics`, async () => {
    const bundle = await loadArrays(join(DIR, `${stem}.npz`));
    for (const port of fx.ports) {
      const r = row(fx.model, port);
      const candidate = readCandidate(await loadArrays(join(DIR, `${stem}__${port}.npz`)));
      for (const preset of ['fp16', 'bf16'] as const) {
        const res = await checkCase(bundle, { candidate, portPrecision: preset });
        assert.equal(res.pass, r.presets[preset], `${port} at ${preset}`);
        for (const k of res.checks.filter((c) => c.subject === 'candidate' && c.against === 'expected')) {
          const s = r[k.tensor as 'output' | 'h_n'];
          close(k.relL2!, s.rel_l2, `${port} ${k.tensor} rel L2`);
          close(k.meanAbsError!, s.mean_abs, `${port} ${k.tensor} mean |error|`);
          close(k.maxAbsError!, s.max_abs, `${port} ${k.tensor} max |error|`);
        }
        // The preset before this measurement, given as explicit settings, decides as numpy said.
        const old = DOC.old_presets[preset];
        const before = await checkCase(bundle, { candidate, portPrecision: preset, rtol: { candidate: old.rtol }, maxRelL2: { candidate: old.max_rel_l2 } });
        assert.equal(before.pass, r.old_presets[preset], `${port} at the old ${preset}`);
      }
      const f = family(port);
      if (f === 'mistake') assert.deepEqual(r.presets, { fp16: false, bf16: false });
      else assert.equal(r.presets[f], true);
    }
  });
}
