// Suites (`run --suite FILE.json`) and shards (`--shard K/N`): each case with its own candidate,
// tolerances and baseline, paths relative to the suite file, every case in exactly one shard, and
// the JSON Schema in schema/ accepting exactly what the parser accepts. The ports are real
// PyTorch-derived fixtures (test/fixtures/candidates, test/fixtures/tolerance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { main } from '../../src/cli/main.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { parseShard, parseSuite, shardOf } from '../../src/suite/suite.js';
import { suiteSchemaText } from '../../src/suite/schema.js';
import { GruCheckError } from '../../src/errors.js';
import { ROOT } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'gru-suite-'));
// A suite's paths stay in its folder (README "Safety"): the suites below sit beside copies of the
// fixtures they name (0.7 MB).
const CAND = join(tmp, 'candidates');
const TOL = join(tmp, 'tolerance');
cpSync(join(ROOT, 'test', 'fixtures', 'candidates'), CAND, { recursive: true });
cpSync(join(ROOT, 'test', 'fixtures', 'tolerance'), TOL, { recursive: true });
test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
  closeFastEngine();
});

/** A path as the suite file in `tmp` must write it: relative to the suite's folder, not the cwd. */
const rel = (p: string): string => relative(tmp, p);

function writeSuite(name: string, doc: unknown): string {
  const p = join(tmp, name);
  writeFileSync(p, JSON.stringify(doc));
  return p;
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; json?: { pass: boolean; summary: { cases: number }; shard?: unknown; cases: { case: string; path?: string; pass: boolean; error?: string; checks: { tensor: string; subject: string; pass: boolean; atol: number }[] }[] } }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { NO_COLOR: '1', COLUMNS: '1000' } });
  const json = argv.includes('json') && stdout.trim().startsWith('{') ? JSON.parse(stdout) : undefined;
  return { code, stdout, stderr, json };
}

const SUITE = {
  gruCheckSuite: 1,
  description: 'two ports of one batch_first model, and a float16 port judged with its own tolerances',
  cases: [
    { name: 'seq-first port', case: rel(join(CAND, 'base_bf.npz')), candidate: rel(join(CAND, 'bf_cand_seq_first.npz')) },
    { name: 'seq-first port, one element off', case: rel(join(CAND, 'base_bf.npz')), candidate: rel(join(CAND, 'bf_cand_seq_first_bad.npz')) },
    { name: 'fp16 port, loosened', case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_fp16.npz')), atol: { output: 3e-3, h_n: 2e-3 } },
    { name: 'fp16 port, float32 defaults', case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_fp16.npz')) },
  ],
};

test('a suite pairs each case with its own candidate and tolerances; the report lists every case', async () => {
  const r = await cli(['run', '--suite', writeSuite('suite.json', SUITE), '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(r.json!.cases.map((c) => [c.case, c.pass]), [
    ['seq-first port', true],
    ['seq-first port, one element off', false],
    ['fp16 port, loosened', true],
    ['fp16 port, float32 defaults', false],
  ]);
  // The path is kept next to the name, resolved from the suite's folder.
  assert.equal(r.json!.cases[0]!.path, join(tmp, rel(join(CAND, 'base_bf.npz'))));
  // The per-case atol applied to the candidate's checks only where the case set it.
  const loosened = r.json!.cases[2]!.checks.filter((k) => k.subject === 'candidate');
  assert.deepEqual([...new Set(loosened.map((k) => `${k.tensor}:${k.atol}`))], ['output:0.003', 'h_n:0.002']);
  // The table says where each tolerance came from.
  const t = await cli(['run', '--suite', join(tmp, 'suite.json')]);
  assert.match(t.stdout, /atol suite case output/);
  assert.match(t.stdout, /2 passed, 2 failed/);
});

test('settings: a case over the defaults over the flags, each replacing the one below it whole', async () => {
  const doc = {
    gruCheckSuite: 1,
    defaults: { atol: 5e-3 },
    cases: [
      { case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_fp16.npz')) },
      { case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_fp16.npz')), atol: { h_n: 5e-3 } },
    ],
  };
  const r = await cli(['run', '--suite', writeSuite('layers.json', doc), '--atol', '1e-9', '--format', 'json']);
  // Case 1: the defaults' 5e-3 replaces --atol. Case 2: its own h_n-only atol replaces the
  // defaults whole, so output falls back to float32's default and fails.
  assert.deepEqual(r.json!.cases.map((c) => c.pass), [true, false]);
  const out2 = r.json!.cases[1]!.checks.find((k) => k.tensor === 'output' && k.subject === 'candidate')!;
  assert.deepEqual([out2.atol, out2.pass], [1e-5, false]);
});

test('shards split a suite deterministically: every case in exactly one shard', async () => {
  const file = join(tmp, 'suite.json');
  writeSuite('suite.json', SUITE);
  for (const n of [1, 2, 3, 5]) {
    const seen: string[] = [];
    for (let k = 1; k <= n; k++) {
      const r = await cli(['run', '--suite', file, '--shard', `${k}/${n}`, '--format', 'json']);
      const names = r.json!.cases.map((c) => c.case);
      seen.push(...names);
      assert.deepEqual(r.json!.shard, { index: k, count: n, total: 4 });
      if (names.length === 0) assert.match(r.stderr, /shard \d\/5 holds no case \(4 cases in all\): this job checks nothing/);
      // The same shard twice is the same cases.
      const again = await cli(['run', '--suite', file, '--shard', `${k}/${n}`, '--format', 'json']);
      assert.deepEqual(again.json!.cases.map((c) => c.case), names);
    }
    assert.deepEqual(seen.sort(), SUITE.cases.map((c) => c.name).sort(), `${n} shards`);
  }
  // Positional cases shard the same way.
  const cases = ['base_bf.npz', 'base_uni_bf.npz', 'base_len_bf.npz'].map((f) => join(CAND, f));
  const r = await cli(['run', ...cases, '--shard', '2/2', '--format', 'json']);
  assert.deepEqual(r.json!.cases.map((c) => c.case), [cases[1]]);
});

test('a case with no entry in its baseline fails, saying so', async () => {
  const saved = join(tmp, 'base.json');
  const one = { gruCheckSuite: 1, cases: [SUITE.cases[0]] };
  assert.equal((await cli(['run', '--suite', writeSuite('one.json', one), '--save-baseline', saved])).code, 0);
  const doc = { gruCheckSuite: 1, defaults: { baseline: 'base.json' }, cases: [SUITE.cases[0], SUITE.cases[2]] };
  const r = await cli(['run', '--suite', writeSuite('with-baseline.json', doc), '--format', 'json']);
  assert.equal(r.code, 1);
  assert.deepEqual(r.json!.cases.map((c) => c.pass), [true, false]);
  assert.match(JSON.stringify(r.json!.cases[1]), /no baseline entry for this case/);
});

test('what a suite cannot mean is exit 2 with one line', async () => {
  const suite = writeSuite('suite.json', SUITE);
  const cases = [
    [['run', '--suite', suite, join(CAND, 'base_bf.npz')], /--suite .* and case paths .* both name the cases/],
    [['run', '--suite', suite, '--candidate', join(CAND, 'bf_cand_seq_first.npz')], /with --suite would be checked against every case/],
    [['run', join(CAND, 'base_bf.npz'), join(CAND, 'base_uni_bf.npz'), '--candidate', join(CAND, 'bf_cand_seq_first.npz')], /would be checked against all 2 cases \(pair each case with its own candidate in a suite file/],
    [['run', '--suite', writeSuite('typo.json', { gruCheckSuite: 1, cases: [{ case: 'a.npz', candiate: 'b.npz' }] })], /cases\[0\]\.candiate: not a suite key/],
    [['run', '--suite', writeSuite('tol.json', { gruCheckSuite: 1, cases: [{ case: 'a.npz', atol: { outptu: 1 } }] })], /cases\[0\]\.atol: expected a number >= 0, or numbers by tensor\/check/],
    [['run', '--suite', writeSuite('shared.json', { gruCheckSuite: 1, defaults: { candidate: 'c.npz' }, cases: [{ case: 'a.npz' }, { case: 'b.npz' }] })], /defaults\.candidate: a candidate is the output of one case/],
    [['run', '--suite', writeSuite('v2.json', { gruCheckSuite: 2, cases: [{ case: 'a.npz' }] })], /gruCheckSuite must be 1/],
    [['run', '--suite', join(tmp, 'missing.json')], /missing\.json: no such file or directory/],
    [['run', '--suite', suite, '--shard', '3/2'], /--shard expects K\/N with 1 <= K <= N, got '3\/2'/],
    [['run'], /run needs a case .* or --suite FILE\.json/],
    [['run', join(CAND, 'base_bf.npz'), '--atol', 'outptu:1e-3'], /--atol: 'outptu' is not a tensor or check/],
  ] as const;
  for (const [argv, message] of cases) {
    const r = await cli([...argv]);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a case that cannot be read is an error entry; the other cases still run', async () => {
  const doc = { gruCheckSuite: 1, cases: [{ case: 'nowhere.npz', name: 'lost' }, SUITE.cases[0]] };
  const r = await cli(['run', '--suite', writeSuite('lost.json', doc), '--format', 'json']);
  assert.equal(r.code, 2);
  assert.deepEqual(r.json!.cases.map((c) => [c.case, c.pass, c.error !== undefined]), [['lost', false, true], ['seq-first port', true, false]]);
});

test('a suite gives each port its own precision preset and criteria; the table says where each came from', async () => {
  const doc = {
    gruCheckSuite: 1,
    defaults: { errorQuantile: 0.9 },
    cases: [
      { name: 'fp16 port', case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_fp16.npz')), portPrecision: 'fp16' },
      { name: 'int8 port', case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_int8.npz')), portPrecision: 'int8' },
      { name: 'int8 port held to fp16', case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_int8.npz')), portPrecision: 'fp16' },
      { name: 'outlier, mean', case: rel(join(TOL, 'tol_base.npz')), candidate: rel(join(TOL, 'port_outlier1.npz')), checkErrorStat: { candidate: 'mean' }, atol: { candidate: 0.005 } },
    ],
  };
  const r = await cli(['run', '--suite', writeSuite('precision.json', doc), '--format', 'json']);
  // stats.json -> presets: the int8 port fails the fp16 preset; the outlier's mean is under 0.005.
  assert.deepEqual(r.json!.cases.map((c) => c.pass), [true, true, false, true]);
  const t = await cli(['run', '--suite', join(tmp, 'precision.json')]);
  assert.match(t.stdout, /int8 port: max \|error\| <= 1e-5 \+ \(2\/127\)/);
  assert.match(t.stdout, /output \(candidate\), h_n \(candidate\): rtol=1\.3e-6 atol=0\.005 on the mean \|error\| \(rtol torch\.testing\.assert_close default for float32, atol suite case candidate, statistic suite case candidate\)/);
  assert.match(t.stdout, /abs err mean \/ median \/ q0\.9 /);
});

test('per-tensor tolerances from the command line: output loosened, h_n still at the default', async () => {
  const r = await cli(['run', join(TOL, 'tol_base.npz'), '--candidate', join(TOL, 'port_fp16.npz'), '--atol', 'output:1e-2', '--format', 'json']);
  assert.equal(r.code, 1);
  const cand = r.json!.cases[0]!.checks.filter((k) => k.subject === 'candidate').map((k) => [k.tensor, k.atol, k.pass]);
  assert.deepEqual(cand, [['output', 1e-2, true], ['output', 1e-2, true], ['h_n', 1e-5, false], ['h_n', 1e-5, false]]);
  // candidate.h_n is more specific than h_n, which is more specific than a bare value.
  const r2 = await cli(['run', join(TOL, 'tol_base.npz'), '--candidate', join(TOL, 'port_fp16.npz'), '--atol', '1e-2,h_n:1e-9,candidate.h_n:1e-2', '--format', 'json']);
  assert.equal(r2.code, 0, r2.stderr);
  const refH = r2.json!.cases[0]!.checks.find((k) => k.tensor === 'h_n' && k.subject === 'reference')!;
  assert.equal(refH.atol, 1e-9);
});

test('the JSON Schema accepts exactly the suites the parser accepts', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'suite.schema.json'), 'utf8'));
  const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(schema);
  const ok = (doc: unknown): boolean => {
    try {
      parseSuite(JSON.stringify(doc), 's.json', (p) => p);
      return true;
    } catch (e) {
      if (!(e instanceof GruCheckError)) throw e;
      return false;
    }
  };
  const c = { case: 'a.npz' };
  const docs: unknown[] = [
    SUITE,
    { gruCheckSuite: 1, cases: [c] },
    { gruCheckSuite: 1, $schema: './schema/suite.schema.json', defaults: { layout: 'onnx', linearBeforeReset: true, onnxLayout: 1, clip: 3, activations: ['Sigmoid', 'Tanh'] }, cases: [c] },
    { gruCheckSuite: 1, cases: [{ ...c, rtol: { '*': 1e-5, 'candidate.h_n': 1e-3 }, atol: 0, equalNan: true, precision: 'f64', baselineFactor: 1.5 }] },
    { gruCheckSuite: 1, cases: [{ ...c, candidateLayout: 'onnx', prefix: '' }] },
    { gruCheckSuite: 1, defaults: { portPrecision: 'int8', errorQuantile: 0.9 }, cases: [{ ...c, checkErrorStat: 'mean', minCosine: 0.999, maxRelL2: 1e-2 }] },
    { gruCheckSuite: 1, cases: [{ ...c, checkErrorStat: { candidate: 'quantile', '*': 'elemwise' }, minCosine: { 'candidate.output': -1 }, maxRelL2: { h_n: 0 }, errorQuantile: 0 }] },
    { gruCheckSuite: 1, cases: [{ ...c, checkErrorStat: 'average' }] },
    { gruCheckSuite: 1, cases: [{ ...c, checkErrorStat: { outptu: 'mean' } }] },
    { gruCheckSuite: 1, cases: [{ ...c, checkErrorStat: {} }] },
    { gruCheckSuite: 1, cases: [{ ...c, errorQuantile: 1.5 }] },
    { gruCheckSuite: 1, cases: [{ ...c, errorQuantile: { output: 0.5 } }] },
    { gruCheckSuite: 1, cases: [{ ...c, minCosine: 1.5 }] },
    { gruCheckSuite: 1, cases: [{ ...c, minCosine: { candidate: -2 } }] },
    { gruCheckSuite: 1, cases: [{ ...c, maxRelL2: -0.1 }] },
    { gruCheckSuite: 1, cases: [{ ...c, portPrecision: 'fp8' }] },
    { gruCheckSuite: 1, cases: [{ ...c, portPrecision: { candidate: 'fp16' } }] },
    { gruCheckSuite: 1, cases: [] },
    { gruCheckSuite: 1 },
    { gruCheckSuite: '1', cases: [c] },
    { gruCheckSuite: 1, cases: [c], rtol: 1 },
    { gruCheckSuite: 1, cases: [{ name: 'no case' }] },
    { gruCheckSuite: 1, cases: [{ ...c, candidate: 'x.npz', onnx: 'm.onnx' }] },
    { gruCheckSuite: 1, cases: [{ ...c, rtol: -1 }] },
    { gruCheckSuite: 1, cases: [{ ...c, rtol: {} }] },
    { gruCheckSuite: 1, cases: [{ ...c, atol: { outptu: 1 } }] },
    { gruCheckSuite: 1, cases: [{ ...c, candidateLayout: 'sideways' }] },
    { gruCheckSuite: 1, cases: [{ ...c, onnxLayout: 2 }] },
    { gruCheckSuite: 1, cases: [{ ...c, clip: 0 }] },
    { gruCheckSuite: 1, cases: [{ ...c, baselineFactor: 0.5 }] },
    { gruCheckSuite: 1, cases: [{ ...c, batchFirst: 'yes' }] },
    { gruCheckSuite: 1, cases: [{ ...c, candidate: '' }] },
    { gruCheckSuite: 1, cases: [{ ...c, name: '' }] },
    { gruCheckSuite: 1, defaults: { case: 'a.npz' }, cases: [c] },
    { gruCheckSuite: 1, cases: [c, 'b.npz'] },
    [],
  ];
  for (const doc of docs) assert.equal(ok(doc), validate(doc), JSON.stringify(doc));
  // Both halves of the table above are exercised.
  assert.ok(docs.filter(ok).length >= 4 && docs.filter((d) => !ok(d)).length >= 10);
});

test('the committed JSON Schema is the one the option table generates (node --import tsx schema/make-suite-schema.ts)', () => {
  assert.equal(readFileSync(join(ROOT, 'schema', 'suite.schema.json'), 'utf8'), suiteSchemaText());
});

test('shardOf and parseShard', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(shardOf(xs, 2, 3), [1, 4, 7]);
  assert.deepEqual(parseShard(' 4 / 4 '), [4, 4]);
  for (const bad of ['0/2', '2', '1/0', 'a/b', '-1/2']) assert.throws(() => parseShard(bad), GruCheckError, bad);
});

test('a port named twice is refused in the suite\'s defaults as in a case (candidate and onnx exclude each other)', () => {
  for (const doc of [
    { gruCheckSuite: 1, defaults: { candidate: 'p.npz', onnx: 'm.onnx' }, cases: [{ case: 'c.npz' }] },
    { gruCheckSuite: 1, cases: [{ case: 'c.npz', candidate: 'p.npz', onnx: 'm.onnx' }] },
  ]) {
    assert.throws(() => parseSuite(JSON.stringify(doc), 's.json', (p) => p), (e: unknown) => e instanceof GruCheckError && e.code === 'BAD_CONFIG' && /candidate and onnx both name the port/.test(e.message));
  }
});
