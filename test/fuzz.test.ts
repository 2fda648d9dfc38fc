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
import { BIN, ROOT, tmp } from './helpers.js';
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
} from './fuzz/props.js';

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
  it('generated headers -> NdArray or one-line GruCheckError, nothing evaluated (1500 runs)', () => {
    fc.assert(npyHeaderProperty(), { seed: 0x6e707931, numRuns: 1500 });
  });

  it('shapes claiming far more than the bytes present: refused before allocating (300 runs)', () => {
    fc.assert(npyHugeClaimProperty(), { seed: 0x6e707932, numRuns: 300 });
  });
});

describe('fuzz: .npz reader', () => {
  it('byte flips, cuts, insertions, zeroed and duplicated spans of real samples (500 runs)', () => {
    fc.assert(npzMutationProperty(), { seed: 0x6e707a31, numRuns: 500 });
  });

  it('central-directory, local-header, end-record and ZIP64 lies (500 runs)', () => {
    fc.assert(npzLieProperty(), { seed: 0x6e707a32, numRuns: 500 });
  });
});

describe('fuzz: whole run path in-process (loadArrays + checkBundle)', () => {
  it('array edits: NaN/Inf/huge/subnormal values, shapes, dtypes, names, lengths, config (400 runs)', async () => {
    await fc.assert(runPathEditProperty(dir), { seed: 0x72756e31, numRuns: 400 });
  });

  it('an axis emptied and another made huge in every array: answered as fast as the sample (60 runs)', async () => {
    await fc.assert(runPathResizeProperty(dir), { seed: 0x72756e33, numRuns: 60 });
  });

  it('byte mutations of real samples written to disk (200 runs)', async () => {
    await fc.assert(runPathBytesProperty(dir), { seed: 0x72756e32, numRuns: 200 });
  });
});

interface Spawned {
  file: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnRun(file: string): Promise<Spawned> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'run', file, '--format', 'json'],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } },
      (err, stdout, stderr) => resolve({ file, code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

describe('fuzz: the built CLI', () => {
  it('20 mutated files: exit 0/1/2, stdout is one JSON document, stderr one-line errors, no stack', async () => {
    const files = cliInputs(dir, 20, 0x636c6931);
    const results: Spawned[] = [];
    for (let i = 0; i < files.length; i += 5) results.push(...(await Promise.all(files.slice(i, i + 5).map(spawnRun))));
    for (const r of results) {
      const w = `${r.file}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
      assert.ok(r.code === 0 || r.code === 1 || r.code === 2, w);
      assert.ok(!r.stderr.includes('    at '), `${w}: stack trace`);
      assert.ok(!r.stderr.includes('internal error'), `${w}: internal error`);
      for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^gru-check: /, w);
      const doc = JSON.parse(r.stdout) as { pass: boolean; cases: Array<{ error?: string }> };
      assert.equal(doc.cases.length, 1, w);
      assert.equal(r.code === 0, doc.pass, `${w}: exit code vs pass`);
      assert.equal(r.code === 2, doc.cases[0]!.error !== undefined, `${w}: exit 2 iff the case is an error`);
      if (r.code === 2) assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${w}: one error line`);
    }
  });
});
