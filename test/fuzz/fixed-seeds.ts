/**
 * Property-based fuzzing of everything that reads untrusted bytes, with fixed seeds so a failure
 * reproduces (the properties live in test/fuzz/props.ts; test/fuzz/run-fuzz.ts runs them longer
 * with a random seed). Every outcome must be a value or a GruCheckError with a one-line message:
 * generated .npy headers (including Python expressions, which must never run), shapes claiming far
 * more than the bytes present (refused before allocating), byte mutations and central-directory
 * lies in real .npz samples, array-level edits (NaN/Inf/huge/subnormal values, shapes, dtypes,
 * names) through loadArrays + checkBundle, and a few spawned CLI runs keeping the exit-code contract.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BIN, ROOT, tmp } from '../helpers.js';
import {
  PWNED,
  cliInputs,
  npyHeaderProperty,
  npyHugeClaimProperty,
  npzLieProperty,
  npzMutationProperty,
  runPathBytesProperty,
  runPathEditProperty,
  runPathResizeProperty,
} from './props.js';

let dir: string;
before(() => {
  dir = tmp();
  rmSync(PWNED, { force: true });
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.ok(!existsSync(PWNED), 'some header expression was executed');
});

describe('fuzz: .npy header parser', () => {
  it('generated headers -> NdArray or one-line GruCheckError, nothing evaluated (600 runs)', () => {
    fc.assert(npyHeaderProperty(), { seed: 0x6e707931, numRuns: 600 });
  });

  it('shapes claiming far more than the bytes present: refused before allocating (150 runs)', () => {
    fc.assert(npyHugeClaimProperty(), { seed: 0x6e707932, numRuns: 150 });
  });
});

describe('fuzz: .npz reader', () => {
  it('byte flips, cuts, insertions, zeroed and duplicated spans of real samples (250 runs)', () => {
    fc.assert(npzMutationProperty(), { seed: 0x6e707a31, numRuns: 250 });
  });

  it('central-directory, local-header, end-record and ZIP64 lies (250 runs)', () => {
    fc.assert(npzLieProperty(), { seed: 0x6e707a32, numRuns: 250 });
  });
});

describe('fuzz: whole run path in-process (loadArrays + checkBundle)', () => {
  it('array edits: NaN/Inf/huge/subnormal values, shapes, dtypes, names, lengths, config (200 runs)', async () => {
    await fc.assert(runPathEditProperty(dir), { seed: 0x72756e31, numRuns: 200 });
  });

  it('an axis emptied and another made huge in every array: answered as fast as the sample (40 runs)', async () => {
    await fc.assert(runPathResizeProperty(dir), { seed: 0x72756e33, numRuns: 40 });
  });

  it('byte mutations of real samples written to disk (100 runs)', async () => {
    await fc.assert(runPathBytesProperty(dir), { seed: 0x72756e32, numRuns: 100 });
  });
});

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnRun(files: string[]): Promise<Spawned> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'run', ...files, '--format', 'json'],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/** The stderr contract under hostile input: only `gru-check: ` lines, no stack, no internal error. */
function assertCleanStderr(r: Spawned, w: string): void {
  assert.ok(!r.stderr.includes('    at '), `${w}: stack trace`);
  assert.ok(!r.stderr.includes('internal error'), `${w}: internal error`);
  for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^gru-check: /, w);
}

type Doc = { pass: boolean; summary: { errors: number }; cases: Array<{ case: string; pass: boolean; error?: string }> };

describe('fuzz: the built CLI', () => {
  // One CLI start costs ~0.15 s: all 20 files go through one run, then one file of each outcome
  // (error, mismatch, pass) runs alone, for the single-case exit codes.
  it('20 mutated files: exit 0/1/2, stdout is one JSON document, stderr one-line errors, no stack', async () => {
    // The seed is chosen to give every outcome over the samples as they are (adding a sample
    // changes what each draw picks): 0x636c6935 gives 15 errors, 3 passes and 2 mismatches.
    const files = cliInputs(dir, 20, 0x636c6935);
    const all = await spawnRun(files);
    const w = `all 20: exit ${all.code}, stderr ${JSON.stringify(all.stderr)}`;
    assertCleanStderr(all, w);
    const doc = JSON.parse(all.stdout) as Doc;
    assert.deepEqual(doc.cases.map((c) => c.case), files, w);
    const errors = doc.cases.filter((c) => c.error !== undefined).length;
    assert.equal(doc.summary.errors, errors, w);
    assert.equal(all.code, errors > 0 ? 2 : doc.pass ? 0 : 1, `${w}: exit code vs the cases`);
    assert.equal(all.stderr.split('\n').filter((l) => l.startsWith('gru-check: error: ')).length, errors, `${w}: one error line per unreadable case`);
    for (const c of doc.cases) if (c.error !== undefined) assert.equal(c.pass, false, `${w}: an unreadable case cannot pass`);

    const one = (want: (c: Doc['cases'][number]) => boolean) => doc.cases.find(want);
    const picks = [one((c) => c.error !== undefined), one((c) => c.error === undefined && !c.pass), one((c) => c.pass)].filter((c) => c !== undefined);
    assert.equal(picks.length, 3, `the seed gives every outcome: ${JSON.stringify(doc.cases.map((c) => [c.pass, c.error !== undefined]))}`);
    for (const c of picks) {
      const r = await spawnRun([c.case]);
      const wi = `${c.case}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
      assertCleanStderr(r, wi);
      const d = JSON.parse(r.stdout) as Doc;
      assert.equal(d.cases.length, 1, wi);
      assert.equal(r.code, c.error !== undefined ? 2 : c.pass ? 0 : 1, `${wi}: exit code vs the case's outcome in the batch`);
      assert.equal(r.code === 0, d.pass, `${wi}: exit code vs pass`);
      if (r.code === 2) assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${wi}: one error line`);
    }
  });
});
