// diagnose against ports written independently of its variants (test/fixtures/diagnose, a numpy
// GRU in make_diagnose_fixtures.py) on trained PyTorch encoders: each planted mistake is named
// first (`matches`, or `likely` for precision), clean ports and an invisible float32 accumulation
// name nothing, and ports with a mistake diagnose has no variant for get a correct `where`.
// The manifest's `differs_at` (computed by the generator from |candidate - PyTorch|) is what each
// localisation is held to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';
import { readCandidate } from '../../src/candidate/read.js';
import { diagnoseCase } from '../../src/diagnose/diagnose.js';
import { variantsFor } from '../../src/diagnose/variants.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { main } from '../../src/cli/main.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'diagnose');
interface Entry {
  file: string;
  base: string;
  mistake_class: string;
  expect_variant: string | null;
  expect_where: { layer?: number; direction?: string; h_n_rows?: number[]; output_halves?: string[]; sequences?: number[] } | null;
  differs_at: { sequences: number[]; h_n_rows?: number[]; output_halves?: string[]; first_step: number | null };
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { candidates: Entry[] };
const load = async (f: string) => loadArrays(join(DIR, f));

test.after(() => closeFastEngine());

/** A family of variants named by one fixture: backward-off-by-one covers :late and :early. */
const named = (variant: string, expect: string): boolean => variant === expect || variant.startsWith(`${expect}:`);

for (const e of manifest.candidates) {
  test(`${e.file} (${e.mistake_class}): ${e.expect_variant ? `names ${e.expect_variant} first` : e.expect_where ? 'names nothing, localises it' : 'passes, names nothing'}`, async () => {
    const c = buildCase(await load(e.base));
    const candidate = readCandidate(await load(e.file));
    const d = await diagnoseCase(c, { candidate });
    const entries = d.diagnosis ?? [];
    const namedAny = entries.filter((x) => x.verdict === 'matches' || x.verdict === 'likely');
    if (e.mistake_class === 'clean' || e.mistake_class === 'precision-invisible') {
      assert.equal(d.pass, true, JSON.stringify(d.checks.map((k) => k.maxAbsError)));
      assert.equal(namedAny.length, 0);
      assert.equal(d.where, undefined);
      return;
    }
    assert.equal(d.pass, false);
    assert.ok(d.where, 'every failure is localised');
    const w = d.where!;
    if (e.expect_variant) {
      const first = entries[0]!;
      assert.ok(named(first.variant, e.expect_variant), `first: ${JSON.stringify(entries.slice(0, 3).map((x) => [x.variant, x.verdict, x.maxAbsError]))}`);
      assert.equal(first.verdict, e.mistake_class === 'precision' && e.expect_variant !== 'fp16-storage' ? 'likely' : 'matches');
      assert.equal(first.matches, first.verdict === 'matches');
      // Structural mistakes are far apart: the planted one is the only match.
      if (e.mistake_class !== 'precision') assert.equal(entries.filter((x) => x.verdict === 'matches').length, 1, JSON.stringify(entries.filter((x) => x.matches).map((x) => x.variant)));
    } else {
      assert.equal(namedAny.length, 0, `names nothing: ${JSON.stringify(namedAny.map((x) => x.variant))}`);
    }
    if (e.mistake_class === 'precision') return; // rounding noise fails wherever it crosses the tolerance
    // The localisation agrees with where the generator saw the candidate differ from PyTorch.
    const at = e.differs_at;
    assert.deepEqual(w.sequences, at.sequences, w.summary);
    if (at.h_n_rows) assert.deepEqual(w.hnRows.filter((r) => !r.pass).map((r) => r.row), at.h_n_rows, w.summary);
    if (at.output_halves) assert.deepEqual(Object.entries(w.outputHalves).filter(([, v]) => v === 'fail').map(([k]) => k), at.output_halves, w.summary);
    if (at.output_halves?.includes('forward')) assert.equal(w.firstStepByDirection.forward, at.first_step);
    assert.deepEqual(w.tensors, [...(at.output_halves === undefined || at.output_halves.length > 0 ? ['output'] : []), 'h_n']);
    const x = e.expect_where;
    if (x?.layer !== undefined) assert.equal(w.layer, x.layer, w.summary);
    if (x?.direction !== undefined) assert.equal(w.direction, x.direction, w.summary);
  });
}

test('every family of mistakes diagnose knows is planted in a fixture (here, in test/fixtures/ports or test/fixtures/keras-ports)', async () => {
  const ports = (JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'ports', 'ports.json'), 'utf8')) as { ports: { name: string }[] }).ports.map((p) => p.name);
  const keras = (JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'keras-ports', 'manifest.json'), 'utf8')) as { candidates: { expect: { diagnose: { variant?: string | null } } }[] }).candidates.flatMap((e) => (e.expect.diagnose.variant ? [e.expect.diagnose.variant] : []));
  const planted = [...ports, ...keras, ...manifest.candidates.flatMap((e) => (e.expect_variant ? e.expect_variant.split('+') : []))];
  const families = new Map<string, string[]>();
  for (const base of ['base_lengths.npz', 'base_square.npz', 'base_float64.npz', 'base_onnx.npz']) {
    for (const v of variantsFor(buildCase(await load(base)))) families.set(v.family, [...(families.get(v.family) ?? []), v.name]);
  }
  for (const [family, names] of families) {
    assert.ok(names.some((n) => planted.some((p) => named(n, p) || named(p, n))), `family ${family} (${[...new Set(names)].join(', ')}) has a planted fixture`);
  }
});

test('the CLI prints the localisation and the likely precision; JSON carries where and verdicts', async () => {
  let stdout = '';
  const io = { stdout: (s: string) => void (stdout += s), stderr: () => {}, env: { NO_COLOR: '1', COLUMNS: '1000' } };
  assert.equal(await main(['diagnose', join(DIR, 'base_lengths.npz'), '--candidate', join(DIR, 'layer1-forward-uses-reverse-weights.npz')], io), 1);
  assert.match(stdout, /where: output and h_n fail; h_n fails in row 2 \(layer 1 forward\); passes in row 0 \(layer 0 forward\), row 1 \(layer 0 backward\), row 3 \(layer 1 backward\); the failure starts at layer 1/);
  assert.match(stdout, /no known porting mistake explains the candidate/);
  stdout = '';
  assert.equal(await main(['diagnose', join(DIR, 'base_lengths.npz'), '--candidate', join(DIR, 'fp16-compute.npz'), '--format', 'json'], io), 1);
  const j = JSON.parse(stdout);
  assert.deepEqual([j.diagnosis[0].variant, j.diagnosis[0].verdict, j.diagnosis[0].matches], ['fp16-compute', 'likely', false]);
  assert.deepEqual(Object.keys(j.where).sort(), ['direction', 'firstStep', 'firstStepByDirection', 'hnRows', 'layer', 'onlyShorterThanT', 'outputHalves', 'sequences', 'summary', 'tensors']);
  stdout = '';
  assert.equal(await main(['diagnose', join(DIR, 'base_onnx.npz'), '--candidate', join(DIR, 'onnx-linear-before-reset.npz')], io), 1);
  // An ONNX case hears about its own attribute and tensors, not PyTorch's.
  assert.match(stdout, /1\. onnx-linear-before-reset/);
  assert.match(stdout, /fix: the node has linear_before_reset=1: .*R_h\^T \+ Rb_h/);
});

test('diagnose without a candidate: a dump from a modified model is held to the reference the same way', async () => {
  // The expected tensors of base_lengths replaced by the h0-ignored port's: what a dump from a
  // PyTorch model run without its h0 would hold.
  const base = await load('base_lengths.npz');
  const port = await load('h0-ignored.npz');
  const arrays = new Map(base.arrays);
  arrays.set('output', port.arrays.get('output')!);
  arrays.set('h_n', port.arrays.get('h_n')!);
  const d = await diagnoseCase(buildCase({ ...base, arrays }));
  assert.equal(d.pass, false);
  assert.deepEqual([d.diagnosis![0]!.variant, d.diagnosis![0]!.verdict], ['h0-ignored', 'matches']);
  assert.ok(d.where!.summary.startsWith('output and h_n fail'));
});

test('f16round rounds as numpy does: float16(PyTorch float32 outputs) in test/fixtures/tolerance', async () => {
  const { f16round } = await import('../../src/gru/cell.js');
  const TOL = join(ROOT, 'test', 'fixtures', 'tolerance');
  const base = await loadArrays(join(TOL, 'tol_base.npz'));
  const f16 = await loadArrays(join(TOL, 'port_f16_stored.npz'));
  for (const name of ['output', 'h_n']) {
    const x = base.arrays.get(name)!;
    const y = f16.arrays.get(name)!;
    assert.equal(y.dtype, 'float16');
    const xs = Array.from(x.data as ArrayLike<number>);
    const ys = Array.from(y.data as ArrayLike<number>);
    let changed = 0;
    for (let i = 0; i < xs.length; i++) {
      assert.equal(f16round(xs[i]!), ys[i]!, `${name}[${i}]: ${xs[i]}`);
      if (f16round(xs[i]!) !== Math.fround(xs[i]!)) changed++;
    }
    assert.ok(changed > 0, 'the values really are rounded');
  }
  // Edges numpy defines: ties to even, overflow, subnormals.
  assert.deepEqual([f16round(1 + 2 ** -11), f16round(1 + 3 * 2 ** -11), f16round(65519), f16round(65520), f16round(2 ** -25), f16round(3 * 2 ** -26)], [1, 1 + 2 ** -9, 65504, Infinity, 0, 2 ** -24]);
});
