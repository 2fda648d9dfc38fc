// What decides a check's verdict and how it is shown, through the built CLI (README "Command
// line" and "How tolerances are chosen"): --equal-nan, the tolerances of a float16 port end to end
// (and the JSON naming them), and colour: on with FORCE_COLOR even into a pipe, on a terminal by
// default, never with --no-color or with NO_COLOR=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy } from '../../src/io/npy.js';
import { BIN, bin, cli, members, npy, ROOT, sample, tmp, writeNpz } from '../helpers.js';

const ESC = /\x1b\[/;

test('--equal-nan: NaN where the reference has NaN fails without it and matches with it', async () => {
  // classic_batch_first: input (B=2, T=3, I=4), output (2, 3, 5), h_n (1, 2, 5). A NaN in input
  // [1, 1, 2] makes sequence 1 NaN from step 1 on, in the reference as in the expected tensors
  // written here; sequence 0 is untouched.
  const m = members(sample('classic_batch_first.npz'));
  const f32 = (name: string): Float32Array => (parseNpy(m[name]!, name).data as Float32Array).slice();
  const input = f32('input');
  input[(1 * 3 + 1) * 4 + 2] = NaN;
  const output = f32('output');
  for (let t = 1; t < 3; t++) output.fill(NaN, (1 * 3 + t) * 5, (1 * 3 + t + 1) * 5);
  const hN = f32('h_n');
  hN.fill(NaN, 5, 10);
  const file = writeNpz(join(tmp(), 'nan.npz'), { ...m, input: npy(input, [2, 3, 4]), output: npy(output, [2, 3, 5]), h_n: npy(hN, [1, 2, 5]) });

  const strict = await cli(['run', file, '--format', 'json']);
  assert.equal(strict.code, 1, strict.stderr);
  const [out, hn] = JSON.parse(strict.stdout).cases[0].checks;
  assert.deepEqual([out.mismatched, out.nonFiniteMismatched, out.requiredAtol], [10, 10, null], 'NaN vs NaN is a mismatch by default');
  assert.deepEqual([hn.mismatched, hn.nonFiniteMismatched], [5, 5]);

  const lenient = await cli(['run', file, '--format', 'json', '--equal-nan']);
  assert.equal(lenient.code, 0, lenient.stderr);
  for (const k of JSON.parse(lenient.stdout).cases[0].checks) assert.deepEqual([k.pass, k.mismatched, k.nonFiniteMismatched], [true, 0, 0]);
});

test('a float16 port: passes at float16 tolerances, fails at float32 ones; the JSON names the tolerances used', async () => {
  // test/fixtures/candidates: PyTorch's float32 output and h_n rounded to float16 (error <= 2^-11
  // relative), checked against a float32 case, as torch.testing.assert_close(check_dtype=False).
  const dir = join(ROOT, 'test', 'fixtures', 'candidates');
  const args = ['run', join(dir, 'base_bf.npz'), '--candidate', join(dir, 'bf_cand_f16.npz')];
  const r = await cli([...args, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const checks = JSON.parse(r.stdout).cases[0].checks as Array<{ tensor: string; subject: string; against: string; pass: boolean; rtol: number; atol: number }>;
  assert.equal(checks.length, 6);
  for (const k of checks) {
    const want = k.subject === 'candidate' ? [1e-3, 1e-5] : [1.3e-6, 1e-5];
    assert.deepEqual([k.rtol, k.atol], want, `${k.tensor} ${k.subject} vs ${k.against}: float16's for the port, float32's for the reference`);
    assert.equal(k.pass, true);
  }
  const table = await cli(args);
  assert.match(table.stdout, /tolerance: output, h_n: rtol=1\.3e-6 atol=1e-5 \(torch\.testing\.assert_close default for float32\); output \(candidate\), h_n \(candidate\): rtol=0\.001 atol=1e-5 \(torch\.testing\.assert_close default for float16 vs float32\)/);
  // At float32's tolerances the same port fails; a real error in it fails at float16's too.
  const strict = await cli([...args, '--rtol', '1.3e-6', '--atol', '1e-5', '--format', 'json']);
  assert.equal(strict.code, 1);
  const port = (JSON.parse(strict.stdout).cases[0].checks as Array<{ subject: string; pass: boolean; rtol: number }>).filter((k) => k.subject === 'candidate');
  assert.ok(port.every((k) => !k.pass && k.rtol === 1.3e-6));
  assert.equal((await cli(['run', join(dir, 'base_bf.npz'), '--candidate', join(dir, 'bf_cand_f16_bad.npz')])).code, 1);
});

test('colour: FORCE_COLOR=1 into a pipe, and never with --no-color', () => {
  // chalk reads FORCE_COLOR when it loads: a fresh process (bin), not main() in this one.
  const env = { FORCE_COLOR: '1', NO_COLOR: '' };
  const forced = bin(['run', 'samples/classic_batch_first.npz'], env);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, ESC, 'FORCE_COLOR=1 colours output that is not a terminal');
  const off = bin(['run', 'samples/classic_batch_first.npz', '--no-color'], env);
  assert.equal(off.code, 0);
  assert.doesNotMatch(off.stdout, ESC);
  // Only stdout's table is coloured: JSON never is.
  assert.doesNotMatch((bin(['run', 'samples/classic_batch_first.npz', '--format', 'json'], env)).stdout, ESC);
});

const SCRIPT = '/usr/bin/script';
test('colour on a terminal by default; none with NO_COLOR=1 or --no-color', { skip: existsSync(SCRIPT) ? false : `no ${SCRIPT} (util-linux) to give the CLI a terminal` }, async () => {
  // util-linux script runs the command on a pseudo-terminal: stdout is a TTY, as in a shell.
  const onTty = (extra: string[], env: Record<string, string> = {}): string => {
    const cmd = [process.execPath, BIN, 'run', 'samples/classic_batch_first.npz', ...extra].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync(SCRIPT, ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  assert.match(onTty([]), ESC, 'a terminal gets colour');
  assert.doesNotMatch(onTty([], { NO_COLOR: '1' }), ESC, 'NO_COLOR=1');
  assert.doesNotMatch(onTty(['--no-color']), ESC, '--no-color');
});
