// nn.GRUCell cases from real PyTorch (samples/make_cell_samples.py): single calls (batched,
// unbatched, hx=None, bias=False) and traces of a greedy attention decoder whose h is changed
// between calls, recorded with samples/gru_dump.py's recorder; ports of the decoder cell written
// in numpy with one planted mistake each. The manifest says what each gives: run passes or fails,
// diagnose names the planted mistake first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';
import { checkCase } from '../../src/check.js';
import { readCandidate } from '../../src/candidate/read.js';
import { diagnoseCase } from '../../src/diagnose/diagnose.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { summarize } from '../../src/summary.js';
import { ROOT, cli } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'cells');
interface Entry {
  file: string;
  kind: 'case' | 'candidate';
  case?: string;
  trace?: boolean;
  unbatched?: boolean;
  hx?: string;
  bias?: boolean;
  shapes: Record<string, number[]>;
  expect: { run: 'pass' | 'fail'; diagnose: string | null };
}
const files = (JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { files: Entry[] }).files;
const load = async (f: string) => loadArrays(join(DIR, f));

test.after(() => closeFastEngine());

for (const e of files.filter((x) => x.kind === 'case')) {
  test(`GRUCell case ${e.file}: read as ${e.trace ? 'a trace' : 'one call'}, h checked against PyTorch's`, async () => {
    const c = buildCase(await load(e.file));
    assert.equal(c.config.cell?.trace, e.trace === true);
    assert.equal(c.config.cell?.batched, e.unbatched !== true);
    assert.equal(c.h0Given, e.hx === 'given');
    assert.equal(c.params.bias, e.bias);
    const r = await checkCase(c);
    assert.equal(r.pass, e.expect.run === 'pass');
    assert.deepEqual(r.checks.map((k) => [k.label, k.shape]), [['h', e.shapes.h]]);
    // A trace's calls are its time axis: one error per call.
    assert.equal(r.checks[0]!.stepMaxAbs?.length, e.trace ? e.shapes.h![0] : undefined);
  });
}

for (const e of files.filter((x) => x.kind === 'candidate')) {
  test(`GRUCell port ${e.file}: run ${e.expect.run}s${e.expect.diagnose ? `, diagnose names ${e.expect.diagnose} first` : ''}`, async () => {
    const c = buildCase(await load(e.case!));
    const candidate = readCandidate(await load(e.file));
    const r = await checkCase(c, { candidate });
    assert.equal(r.pass, e.expect.run === 'pass', JSON.stringify(r.checks.map((k) => [k.subject, k.against, k.maxAbsError])));
    const d = await diagnoseCase(c, { candidate });
    if (e.expect.diagnose === null) {
      assert.deepEqual(d.diagnosis, []);
      return;
    }
    assert.equal(d.diagnosis![0]?.variant, e.expect.diagnose, d.where?.summary);
    assert.equal(d.diagnosis![0]!.verdict, 'matches');
    if (e.expect.diagnose === 'h0-ignored') assert.match(d.diagnosis![0]!.fix, /hx/);
  });
}

test('GRUCell: a trace is localised by call and sequence; every report names h and says GRUCell', async () => {
  const c = buildCase(await load('trace_batched.npz'));
  const candidate = readCandidate(await load('trace_gate-order_zrn.npz'));
  const d = await diagnoseCase(c, { candidate });
  assert.match(d.where!.summary, /^h fails in (every call \(all 8\), from t=0|calls? t=[\d, and]+ of 8, first t=\d)/);
  const r = await checkCase(c, { candidate });
  const s = summarize([r]);
  for (const [name, out] of [['junit', renderJunit(s)], ['markdown', renderMarkdown(s)], ['html', renderHtml(s)]] as const) {
    assert.match(out, /GRUCell\(input_size=10, hidden_size=5, bias=True\), a trace of 8 calls, batch 3/, name);
    assert.match(out, /h \(candidate vs reference\)|>h</, name);
  }
  const table = await cli(['run', join('test', 'fixtures', 'cells', 'trace_batched.npz'), '--candidate', join('test', 'fixtures', 'cells', 'trace_gate-order_zrn.npz')]);
  assert.equal(table.code, 1);
  assert.match(table.stdout, /│ h \(candidate vs reference\) │ \(8, 3, 5\) │/);
  assert.match(table.stdout, /h \(candidate vs reference\) \|err\| over time: \S{8} /);
  const json = await cli(['run', join('test', 'fixtures', 'cells', 'trace_batched.npz'), '--format', 'json']);
  assert.deepEqual(JSON.parse(json.stdout).cases[0].config.cell, { trace: true, calls: 8, batch: 3, batched: true });
});

test('GRUCell: a candidate of another shape cannot be checked (exit 2, one line)', async () => {
  const bad = await cli(['run', join('test', 'fixtures', 'cells', 'trace_batched.npz'), '--candidate', join('test', 'fixtures', 'cells', 'cell_correct.npz')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gru-check: error: test\/fixtures\/cells\/cell_correct\.npz: candidate h \[3, 5\]: expected h \[8, 3, 5\], the cell's output for 8 calls of batch 3\n$/);
});

test('GRUCell: --batch-first / --seq-first and a config batch_first are refused, not ignored; heatmap rows are named', async () => {
  for (const flag of ['--batch-first', '--seq-first']) {
    const r = await cli(['run', join('test', 'fixtures', 'cells', 'cell_batched.npz'), flag]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^gru-check: error: .*cell_batched\\.npz: ${flag} does not apply to a GRUCell case: `));
  }
  // What a heatmap's rows are: a single call's batch, a trace's calls.
  const one = await checkCase(buildCase(await load('cell_batched.npz')));
  assert.equal(one.checks[0]!.errorMap?.rowLabel, 'batch');
  const trace = await checkCase(buildCase(await load('trace_batched.npz')));
  assert.equal(trace.checks[0]!.errorMap?.rowLabel, 'call');
});
