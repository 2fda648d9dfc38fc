// Ports to Keras 3 (TensorFlow and JAX backends) and Flax, made by test/fixtures/keras-ports/
// make_keras_ports.py from real PyTorch GRUs with their weights converted: what each port holds
// at padded steps, Keras's own output and state shapes, and mistakes made converting weights to
// Keras. The manifest (written by the generator from the frameworks' outputs and numpy) says what
// each should give: run's exit code with and without --padded-steps ignore, what the padded steps
// hold, and the variant diagnose names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';
import { checkCase } from '../../src/check.js';
import { readCandidate } from '../../src/candidate/read.js';
import type { CaseResult } from '../../src/result.js';
import { diagnoseCase } from '../../src/diagnose/diagnose.js';
import { isGruCheckError } from '../../src/errors.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { ROOT, cli } from '../helpers.js';

const DIR = join(ROOT, 'test', 'fixtures', 'keras-ports');
interface Expect { exit: number; padded_steps_sentence?: boolean; padded_steps_hold?: string }
interface Entry {
  file: string;
  case: string;
  kind: 'correct' | 'mistake' | 'shape';
  output_form?: string;
  padded_steps?: { hold: string };
  expect: { run: Expect; run_padded_steps_ignore?: Expect; diagnose: { exit: number; variant?: string | null } };
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { candidates: Entry[] };

test.after(() => closeFastEngine());

const exitOf = (r: CaseResult): number => (r.pass ? 0 : 1);

/** run's outcome as an exit code: 2 when the candidate could not be checked. */
async function run(e: Entry, paddedSteps?: 'ignore'): Promise<{ exit: number; result?: CaseResult; error?: string }> {
  const c = buildCase(await loadArrays(join(DIR, e.case)));
  try {
    const candidate = readCandidate(await loadArrays(join(DIR, e.file)));
    const result = await checkCase(c, { candidate, ...(paddedSteps ? { paddedSteps } : {}) });
    return { exit: exitOf(result), result };
  } catch (err) {
    if (!isGruCheckError(err)) throw err;
    return { exit: 2, error: err.message };
  }
}

test('the Keras/Flax fixtures cover each convention and shape of issue 19', () => {
  const kinds = new Set(manifest.candidates.map((e) => e.padded_steps?.hold ?? 'n/a'));
  for (const hold of ['carried', 'computed', 'zero']) assert.ok(kinds.has(hold), hold);
  assert.ok(manifest.candidates.some((e) => e.output_form === 'final_states_concat'));
  assert.ok(manifest.candidates.some((e) => e.output_form === 'last_valid_step'));
  assert.ok(manifest.candidates.some((e) => e.expect.run.exit === 2));
});

for (const e of manifest.candidates) {
  const x = e.expect;
  test(`${e.file}: run exits ${x.run.exit}${x.run_padded_steps_ignore ? `, ${x.run_padded_steps_ignore.exit} with --padded-steps ignore` : ''}; diagnose ${x.diagnose.variant ? `names ${x.diagnose.variant.split(' ')[0]}` : 'names nothing'}`, async () => {
    const r = await run(e);
    assert.equal(r.exit, x.run.exit, r.error ?? JSON.stringify(r.result?.checks.map((k) => [k.tensor, k.against, k.maxAbsError, k.problem])));
    if (r.exit === 2) {
      // A shape no layout explains: the message names the shapes the case allows.
      assert.match(r.error!, /fits no layout of this case .*: expected \[/);
      return;
    }
    const p = r.result!.paddedSteps;
    if (x.run.padded_steps_sentence) {
      assert.ok(p, 'paddedSteps reported');
      assert.equal(p.onlyDifference, true);
      const hold = x.run.padded_steps_hold!;
      assert.equal(p.holds, hold === 'zero' ? 'zeros' : hold);
    } else {
      assert.ok(!p?.onlyDifference, JSON.stringify(p));
    }
    if (x.run_padded_steps_ignore) {
      const ig = await run(e, 'ignore');
      assert.equal(ig.exit, x.run_padded_steps_ignore.exit);
      assert.equal(ig.result!.paddedSteps?.mode, 'ignore');
      assert.ok(ig.result!.checks.some((k) => k.tensor === 'output' && k.part === 'valid steps'));
    }
    // diagnose: the planted mistake or the padded-step convention first, nothing for a correct port.
    const c = buildCase(await loadArrays(join(DIR, e.case)));
    const d = await diagnoseCase(c, { candidate: readCandidate(await loadArrays(join(DIR, e.file))) });
    assert.equal(d.pass ? 0 : 1, x.diagnose.exit);
    const want = x.diagnose.variant;
    if (!want) {
      assert.deepEqual(d.diagnosis, []);
    } else {
      const first = d.diagnosis![0];
      assert.ok(first, `nothing named; where: ${d.where?.summary}`);
      assert.equal(first.verdict, 'matches');
      assert.equal(first.variant, want);
    }
  });
}

test('CLI: the padded-steps sentence in the table, and --padded-steps ignore reported as valid steps only', async () => {
  const c = join('test', 'fixtures', 'keras-ports', 'case_lengths_uni.npz');
  const port = join('test', 'fixtures', 'keras-ports', 'keras_mask_carried.npz');
  const strict = await cli(['run', c, '--candidate', port, '--atol', 'output:1e-5,h_n:2e-5']);
  assert.equal(strict.code, 1);
  // A failing run ends with the diagnose command to try, which runs as printed and names the convention.
  const hint = /^ {2}to name the porting mistake, try: (gru-check diagnose .*)$/m.exec(strict.stdout);
  assert.equal(hint?.[1], `gru-check diagnose ${c} --candidate ${port} --atol output:1e-5,h_n:2e-5`);
  const d = await cli(hint![1]!.split(' ').slice(1));
  assert.equal(d.code, 1);
  assert.match(d.stdout, /1\. padded-steps-carried /);
  assert.match(strict.stdout, /padded steps: the candidate's output differs from PyTorch's only at the padded steps \(t >= lengths\[b\], \d+ output elements\): it holds the last valid output carried forward \(as Keras masking does\) there, PyTorch zeros; valid steps and h_n pass \(--padded-steps ignore compares valid steps only\)/);
  const ignore = await cli(['run', c, '--candidate', port, '--padded-steps', 'ignore', '--format', 'json']);
  assert.equal(ignore.code, 0);
  const j = JSON.parse(ignore.stdout);
  assert.equal(j.cases[0].paddedSteps.mode, 'ignore');
  assert.equal(j.cases[0].paddedSteps.holds, 'carried');
  for (const format of ['markdown', 'junit', 'html']) {
    const out = await cli(['run', c, '--candidate', port, '--format', format]);
    assert.match(out.stdout, /the last valid output carried forward \(as Keras masking does\)/, format);
  }
  const bad = await cli(['run', c, '--candidate', port, '--padded-steps', 'loose']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--padded-steps/);
});

test('CLI: the suggested diagnose command stays one pastable line in a narrow terminal, and a keyed tolerance with a default value runs as printed', async () => {
  const c = join('test', 'fixtures', 'keras-ports', 'case_lengths_uni.npz');
  const port = join('test', 'fixtures', 'keras-ports', 'keras_mask_carried.npz');
  const r = await cli(['run', c, '--candidate', port, '--rtol', '1.3e-6,candidate.h_n:1e-5'], { COLUMNS: '80' });
  assert.equal(r.code, 1);
  const lines = r.stdout.split('\n');
  const at = lines.indexOf('  to name the porting mistake, try:');
  assert.ok(at >= 0, r.stdout);
  const command = lines[at + 1]!.trim();
  assert.equal(command, `gru-check diagnose ${c} --candidate ${port} --rtol 1.3e-6,candidate.h_n:1e-5`);
  const d = await cli(command.split(' ').slice(1));
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stdout, /1\. padded-steps-carried /);
});
