// --save-baseline / --baseline: regression checks of a port over time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli, members, npy, tmp, writeNpz } from '../helpers.js';

const base = 'test/fixtures/ports/port_base.npz';
const correct = 'test/fixtures/ports/correct.npz';

test('a saved baseline passes on the same run and records every check', async () => {
  const dir = tmp();
  const file = join(dir, 'baseline.json');
  assert.equal((await cli(['run', base, '--candidate', correct, '--save-baseline', file])).code, 0);
  const b = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(b.gruCheckBaseline, 2);
  // Keyed by the case's content (a SHA-256), the path kept as a label.
  const [key, entry] = Object.entries(b.cases)[0] as [string, { label: string; checks: Record<string, number> }];
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(entry.label, base);
  const rec = entry.checks;
  assert.deepEqual(Object.keys(rec).sort(), [
    'h_n:candidate:expected', 'h_n:candidate:reference', 'h_n:reference:expected',
    'output:candidate:expected', 'output:candidate:reference', 'output:reference:expected',
  ]);
  assert.ok(rec['output:candidate:expected'] > 0 && rec['output:candidate:expected'] < 1e-6);
  assert.equal((await cli(['run', base, '--candidate', correct, '--baseline', file])).code, 0);
});

test('a check whose error grew past factor x the recorded one fails, even inside the tolerance', async () => {
  const dir = tmp();
  const file = join(dir, 'baseline.json');
  await cli(['run', base, '--candidate', correct, '--save-baseline', file]);
  // the port drifts: one output element moves by 3e-6, far inside atol 1e-5
  const m = members(join(ROOT, correct));
  const out = new Float32Array(m.output!.slice(128).buffer);
  out[7] = out[7]! + 3e-6;
  const drifted = writeNpz(join(dir, 'drifted.npz'), { ...m, output: npy(out, [6, 3, 10]) });
  const r = await cli(['run', base, '--candidate', drifted, '--baseline', file, '--format', 'json']);
  assert.equal(r.code, 1);
  const checks = JSON.parse(r.stdout).cases[0].checks;
  const regressed = checks.filter((k: { baseline?: { regressed: boolean } }) => k.baseline?.regressed);
  assert.ok(regressed.length >= 1);
  for (const k of regressed) {
    assert.equal(k.pass, false);
    assert.equal(k.mismatched, 0, 'inside the isclose tolerance: only the baseline fails it');
    assert.equal(k.baseline.factor, 2);
  }
  // a generous factor lets it through
  assert.equal((await cli(['run', base, '--candidate', drifted, '--baseline', file, '--baseline-factor', '100'])).code, 0);
  // and without a baseline it passes: only the regression fails it
  assert.equal((await cli(['run', base, '--candidate', drifted])).code, 0);
});

test('bad baseline files and factors are input errors', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bad.json'), '{"not": "a baseline"}');
  const r = await cli(['run', base, '--baseline', join(dir, 'bad.json')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.json: not a gru-check baseline/);
  assert.equal((await cli(['run', base, '--baseline', join(dir, 'missing.json')])).code, 2);
  const f = await cli(['run', base, '--baseline-factor', '0.5']);
  assert.equal(f.code, 2);
  assert.match(f.stderr, /--baseline-factor expects a number >= 1/);
});
