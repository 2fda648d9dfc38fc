// Ports that are not float32, through the CLI's own entry in-process: --port-precision presets,
// --check-error-stat, --error-quantile, --min-cosine, --max-rel-l2, what overrides what, and what
// is refused. Ports and every expected decision come from test/fixtures/tolerance (real PyTorch
// case, numpy-made ports; stats.json -> presets holds numpy's own decision for every port and
// preset), never from gru-check's own numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { JSDOM } from 'jsdom';
import { main } from '../../src/cli/main.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { ROOT, tmp } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'tolerance');
const BASE = join(DIR, 'tol_base.npz');
const port = (name: string): string => join(DIR, `${name}.npz`);
const STATS = JSON.parse(readFileSync(join(DIR, 'stats.json'), 'utf8')) as {
  presets: { definitions: Record<string, { rtol: number; atol: number; check_error_stat: string; max_rel_l2?: number }>; decisions: Record<string, Record<string, boolean>> };
  comparisons: { name: string; abs: Record<string, number>; rel: Record<string, number>; rel_l2: number; cosine: number }[];
  mean_threshold: { atol: number };
};
const stat = (name: string) => STATS.comparisons.find((c) => c.name === name)!;

interface Check { tensor: string; subject: string; against: string; pass: boolean; rtol: number; atol: number; checkErrorStat: string; errorQuantile: number; maxRelL2?: number; minCosine?: number; quantileAbsError: number; medianAbsError: number; quantileRelError: number; relL2: number; cosine: number; errorHistogram?: unknown }
interface Doc { pass: boolean; cases: { pass: boolean; portPrecision?: string; checks: Check[] }[] }

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; json?: Doc }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { NO_COLOR: '1', COLUMNS: '1000' } });
  const json = argv.includes('json') && stdout.trim().startsWith('{') ? (JSON.parse(stdout) as Doc) : undefined;
  return { code, stdout, stderr, json };
}

const dir = tmp();
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  closeFastEngine();
});

const PRESETS = ['fp16', 'bf16', 'int8'] as const;
const PORTS = ['port_fp16', 'port_int8', 'port_bf16', 'port_outlier1', 'port_outliers8', 'port_f16_stored'] as const;

test('every port against every preset decides as numpy did (stats.json -> presets); the reference stays at float32', async () => {
  for (const p of PORTS) {
    for (const preset of PRESETS) {
      const r = await cli(['run', BASE, '--candidate', port(p), '--port-precision', preset, '--format', 'json']);
      const want = STATS.presets.decisions[p]![preset]!;
      assert.equal(r.code, want ? 0 : 1, `${p} at ${preset}: ${r.stderr}`);
      const c = r.json!.cases[0]!;
      assert.equal(c.portPrecision, preset);
      const def = STATS.presets.definitions[preset]!;
      for (const k of c.checks) {
        if (k.subject === 'reference') {
          // The reference is held to torch.testing's float32 defaults, elementwise, preset or not.
          assert.deepEqual([k.rtol, k.atol, k.checkErrorStat, k.pass], [1.3e-6, 1e-5, 'elemwise', true], `${p} ${preset} reference ${k.tensor}`);
          continue;
        }
        assert.deepEqual([k.rtol, k.atol, k.checkErrorStat, k.maxRelL2], [def.rtol, def.atol, def.check_error_stat, def.max_rel_l2], `${p} ${preset} candidate ${k.tensor}`);
      }
      assert.equal(c.checks.filter((k) => k.subject === 'candidate' && k.against === 'expected').every((k) => k.pass), want, `${p} vs expected at ${preset}`);
    }
  }
});

test('the fp16, bf16 and int8 ports pass their presets and fail at the float32 defaults', async () => {
  for (const [p, preset] of [['port_fp16', 'fp16'], ['port_bf16', 'bf16'], ['port_int8', 'int8']] as const) {
    assert.equal((await cli(['run', BASE, '--candidate', port(p), '--port-precision', preset])).code, 0, `${p} with ${preset}`);
    const plain = await cli(['run', BASE, '--candidate', port(p), '--format', 'json']);
    assert.equal(plain.code, 1, `${p} at defaults`);
    assert.equal(STATS.presets.decisions[p]!.float32_defaults, false);
  }
});

test('one gross outlier passes --check-error-stat mean at atol 0.005, eight fail it; both fail elemwise', async () => {
  const atol = String(STATS.mean_threshold.atol);
  const one = await cli(['run', BASE, '--candidate', port('port_outlier1'), '--check-error-stat', 'mean', '--atol', atol, '--format', 'json']);
  const eight = await cli(['run', BASE, '--candidate', port('port_outliers8'), '--check-error-stat', 'mean', '--atol', atol, '--format', 'json']);
  assert.deepEqual([one.code, eight.code], [0, 1]);
  for (const p of ['port_outlier1', 'port_outliers8']) assert.equal((await cli(['run', BASE, '--candidate', port(p), '--atol', atol])).code, 1, `${p} elemwise`);
  // The table says how each check decided, and shows the eight outliers by octave past atol.
  const t = await cli(['run', BASE, '--candidate', port('port_outliers8'), '--check-error-stat', 'candidate:mean', '--atol', `candidate:${atol}`]);
  assert.match(t.stdout, /output \(candidate vs expected\): mean \|error\| 1\.48e-2 > 5\.00e-3 \(atol \+ rtol x mean \|expected\| 5\.43e-1\)/);
  assert.match(t.stdout, /output \(candidate vs expected\) \|err\| by octave: [▁-█·]+┊·+[▁-█]+ {2}from .*; ┊ atol 5\.00e-3/);
  assert.match(t.stdout, /statistic --check-error-stat candidate/);
});

test('--error-quantile picks the reported quantile (numpy\'s q0.9 here) and the quantile criterion\'s q', async () => {
  const r = await cli(['run', BASE, '--candidate', port('port_int8'), '--error-quantile', '0.9', '--format', 'json']);
  const k = r.json!.cases[0]!.checks.find((x) => x.subject === 'candidate' && x.against === 'expected' && x.tensor === 'output')!;
  const s = stat('port_int8 vs expected: output');
  assert.equal(k.errorQuantile, 0.9);
  assert.ok(Math.abs(k.quantileAbsError - s.abs['q0.9']!) <= 1e-12 * s.abs['q0.9']!);
  assert.ok(Math.abs(k.quantileRelError - s.rel['q0.9']!) <= 1e-12 * s.rel['q0.9']!);
  assert.ok(Math.abs(k.relL2 - s.rel_l2) <= 1e-12 * s.rel_l2);
  assert.ok(Math.abs(k.cosine - s.cosine) <= 1e-12);
  // JSON carries every statistic and no plot data.
  assert.equal(k.errorHistogram, undefined);
  const q = await cli(['run', BASE, '--candidate', port('port_int8'), '--check-error-stat', 'candidate:quantile', '--error-quantile', '0.9', '--atol', 'candidate:0.003', '--format', 'json']);
  // numpy's q0.9 of |error| straddles 0.003: above it for output, below for h_n.
  assert.ok(stat('port_int8 vs expected: output').abs['q0.9']! > 0.003 && stat('port_int8 vs expected: h_n').abs['q0.9']! < 0.003);
  const cand = q.json!.cases[0]!.checks.filter((x) => x.subject === 'candidate' && x.against === 'expected').map((x) => [x.tensor, x.pass]);
  assert.deepEqual(cand, [['output', false], ['h_n', true]]);
});

test('explicit settings override a preset\'s, per key; stderr and the report say which won', async () => {
  const r = await cli(['run', BASE, '--candidate', port('port_fp16'), '--port-precision', 'fp16', '--atol', 'candidate.h_n:1e-3', '--max-rel-l2', '0.01']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /note: --atol candidate\.h_n:0\.001 is used instead of --port-precision fp16's atol 0\.00001 for the checks it names/);
  assert.match(r.stderr, /note: --max-rel-l2 0\.01 is used instead of --port-precision fp16's max-rel-l2 0\.00390625/);
  assert.match(r.stdout, /fp16 port: mean \|error\| <= 1e-5 \+ 2\^-8·mean\|expected\|, rel L2 <= 2\^-8 \(4 float16 epsilons/);
  assert.match(r.stdout, /h_n \(candidate\): rtol=0\.00390625 atol=0\.001 on the mean \|error\| \(rtol --port-precision fp16, atol --atol candidate\.h_n, statistic --port-precision fp16\), rel L2 <= 0\.01 \(--max-rel-l2\)/);
  // A tighter explicit rtol is obeyed too: at 1e-4 the fp16 port's mean h_n error (2.64e-4, numpy) is over 1e-5 + 1e-4 x 0.534.
  const tight = await cli(['run', BASE, '--candidate', port('port_fp16'), '--port-precision', 'fp16', '--rtol', 'candidate.h_n:1e-4', '--format', 'json']);
  assert.deepEqual(tight.json!.cases[0]!.checks.filter((k) => k.subject === 'candidate').map((k) => [k.tensor, k.rtol, k.pass]), [['output', 2 ** -8, true], ['output', 2 ** -8, true], ['h_n', 1e-4, false], ['h_n', 1e-4, false]]);
  const j = await cli(['run', BASE, '--candidate', port('port_fp16'), '--port-precision', 'fp16', '--check-error-stat', 'candidate.output:elemwise', '--rtol', 'candidate.output:1e-3', '--format', 'json']);
  // Elementwise at float16's torch.testing tolerances, the fp16 port's output fails (53 of 270 elements, numpy).
  const out = j.json!.cases[0]!.checks.filter((k) => k.subject === 'candidate' && k.tensor === 'output');
  assert.deepEqual(out.map((k) => [k.checkErrorStat, k.pass]), [['elemwise', false], ['elemwise', false]]);
  assert.equal(j.code, 1);
});

test('a preset with no candidate says it judges nothing; a flag diagnose does not take is refused', async () => {
  const r = await cli(['run', BASE, '--port-precision', 'int8']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /warning: --port-precision int8 applies to a port's checks, and .*tol_base\.npz has no --candidate or --onnx/);
  const d = await cli(['diagnose', BASE, '--candidate', port('port_int8'), '--check-error-stat', 'mean']);
  assert.equal(d.code, 2);
  assert.equal(d.stderr.trim().split('\n').length, 1, d.stderr);
  assert.match(d.stderr, /unknown option '--check-error-stat'/);
});

test('bad values: one line on stderr, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--check-error-stat', 'average'], /--check-error-stat expects one of elemwise, max, mean, median, quantile or tensor:value pairs, got 'average'/],
    [['--check-error-stat', 'outptu:mean'], /--check-error-stat: 'outptu' is not a tensor or check/],
    [['--error-quantile', '1.5'], /--error-quantile expects a number from 0 to 1, got '1\.5'/],
    [['--error-quantile', 'x'], /--error-quantile expects a number from 0 to 1/],
    [['--min-cosine', '2'], /--min-cosine expects a number from -1 to 1 or tensor:value pairs, got '2'/],
    [['--max-rel-l2', '-1'], /--max-rel-l2 expects a non-negative number or tensor:value pairs, got '-1'/],
    [['--port-precision', 'fp8'], /argument 'fp8' is invalid\. Allowed choices are fp16, bf16, int8/],
  ];
  for (const [flags, message] of cases) {
    const r = await cli(['run', BASE, '--candidate', port('port_fp16'), ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('reports: the preset and its sources, every check\'s statistics, the HTML |error| histogram', async () => {
  const html = join(dir, 'r.html');
  const xml = join(dir, 'r.xml');
  const md = join(dir, 'r.md');
  for (const f of [html, xml, md]) {
    const r = await cli(['run', BASE, '--candidate', port('port_outliers8'), '--port-precision', 'int8', '--report', f]);
    assert.equal(r.code, 1);
  }
  const doc = new JSDOM(readFileSync(html, 'utf8')).window.document;
  assert.match(doc.querySelector('.preset')!.textContent!, /int8 port: .*SQNR >= 35 dB.*test_quantized_models\.py/s);
  const hists = [...doc.querySelectorAll('svg.histogram')];
  assert.equal(hists.length, 6, 'one histogram per check');
  // The candidate's output: 270 elements, the eight 0.5 outliers in the octaves around 0.5.
  const h = hists.find((s) => s.closest('figure')!.querySelector('figcaption')!.textContent!.startsWith('output (candidate vs expected)'))!;
  const bars = [...h.querySelectorAll('rect.bar')].map((b) => ({ exp: Number(b.getAttribute('data-exp')), count: Number(b.getAttribute('data-count')) }));
  assert.equal(bars.reduce((a, b) => a + b.count, 0) + Number(h.getAttribute('data-zeros')), 270);
  assert.equal(bars.filter((b) => b.exp >= -2).reduce((a, b) => a + b.count, 0), 8);
  assert.ok(h.querySelector('line.atol'));
  const x = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(xml, 'utf8'));
  const cases = [x.testsuites.testsuite.testcase].flat();
  assert.equal(cases.length, 6);
  for (const tc of cases) assert.match(String(tc['system-out']), /\|error\| median .*; relative error median .*; rel L2 .*; cosine /);
  const props = [x.testsuites.testsuite.properties.property].flat();
  assert.match(props.find((p: { name: string }) => p.name === 'preset').value, /^int8 port: /);
  const mdText = readFileSync(md, 'utf8');
  assert.match(mdText, /^\*\*int8 port: .*\*\*$/m);
  // Markdown escapes < and > (GitHub renders inline HTML).
  assert.match(mdText, /^- rel L2 &lt;= 0\.0177\d*: SQNR &gt;= 35 dB/m);
  assert.match(mdText, /\| criterion \|/);
});
