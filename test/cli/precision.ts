// --port-precision fp16 / bf16 on real mixed-precision ports, through the CLI (README "Precision
// presets"): the committed subset of make_precision_ports.py's measurement (Keras 3 mixed_float16 /
// mixed_bfloat16 and PyTorch autocast / .to(dtype) ports of real PyTorch GRUs, and float32
// mistakes on the same models). Exit 0 for each real port at its own preset, 1 for each mistake at
// either; the decisions are numpy's (precision_ports.json), never gru-check's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bin, cli, ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'tolerance');
const rel = (f: string): string => relative(ROOT, join(DIR, f));
interface Row { model: unknown[]; port: string; presets: Record<string, boolean>; old_presets: Record<string, boolean> }
const DOC = JSON.parse(readFileSync(join(DIR, 'precision_ports.json'), 'utf8')) as {
  ports: { fp16: string[]; bf16: string[]; mistake: string[] };
  fixtures: Record<string, { model: unknown[]; ports: string[] }>;
  old_presets: Record<string, { rtol: number; max_rel_l2: number }>;
  row_columns: string[];
  rows: unknown[][];
};
/** One (model, port) row of precision_ports.json's column table (row_columns). */
function row(model: unknown[], port: string): Row {
  const col = (c: string): number => DOC.row_columns.indexOf(c);
  const vals = DOC.rows.find((v) => v[col('port')] === port && [v[col('layers')], v[col('directions')], v[col('T')], v[col('H')], v[col('init')]].join() === model.join())!;
  const at = (c: string): boolean => vals[col(c)] as boolean;
  return { model, port, presets: { fp16: at('presets.fp16'), bf16: at('presets.bf16') }, old_presets: { fp16: at('old_presets.fp16'), bf16: at('old_presets.bf16') } };
}

test('every committed real port passes its own preset (exit 0), every mistake fails fp16 and bf16 (exit 1)', async () => {
  let ports = 0;
  let mistakes = 0;
  for (const [stem, fx] of Object.entries(DOC.fixtures)) {
    for (const port of fx.ports) {
      const r = row(fx.model, port);
      for (const preset of ['fp16', 'bf16']) {
        const run = await cli(['run', rel(`${stem}.npz`), '--candidate', rel(`${stem}__${port}.npz`), '--port-precision', preset]);
        assert.equal(run.code, r.presets[preset] ? 0 : 1, `${stem} ${port} at ${preset}: ${run.stderr}`);
      }
      if (DOC.ports.mistake.includes(port)) {
        mistakes++;
        assert.deepEqual(r.presets, { fp16: false, bf16: false });
      } else {
        ports++;
        assert.equal(r.presets[DOC.ports.fp16.includes(port) ? 'fp16' : 'bf16'], true);
      }
    }
  }
  assert.ok(ports >= 4 && mistakes >= 2, `${ports} ports, ${mistakes} mistakes`);
});

test('the built bin: the 2-layer Keras ports pass their presets, fail the presets as they were, and r/z swapped fails', () => {
  const stem = 'prec_l2_h32_t50';
  const model = DOC.fixtures[stem]!.model;
  for (const [port, preset] of [['keras_mixed_float16', 'fp16'], ['keras_mixed_bfloat16', 'bf16']] as const) {
    const args = ['run', rel(`${stem}.npz`), '--candidate', rel(`${stem}__${port}.npz`), '--port-precision', preset];
    const now = bin(args);
    assert.equal(now.code, 0, now.stderr);
    assert.match(now.stdout, new RegExp(`${preset} port: `));
    // The old preset (torch.testing's rtol on the mean, rel L2 <= the dtype's epsilon) as flags.
    const old = DOC.old_presets[preset]!;
    const before = bin([...args, '--rtol', `candidate:${old.rtol}`, '--max-rel-l2', `candidate:${old.max_rel_l2}`]);
    assert.equal(before.code, row(model, port).old_presets[preset] ? 0 : 1, before.stderr);
  }
  const wrong = bin(['run', rel(`${stem}.npz`), '--candidate', rel(`${stem}__rz_swapped_f32.npz`), '--port-precision', 'bf16']);
  assert.equal(wrong.code, 1, wrong.stderr);
});
