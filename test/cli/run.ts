// The CLI as a user runs it: exit codes, stdout/stderr contracts, JSON names, and one test per kind
// of input error (one line on stderr, exit 2, no stack trace). The first tests run the built binary
// itself (bin: launcher, bundle, a fresh process); the rest call main() in this process (cli), which
// is the same code without a process start each (helpers.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, bin, cli, readableCli, fixture, members, npy, npyString, sample, tmp, writeNpz } from '../helpers.js';

function assertOneLineError(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, /^gru-check: error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing on stdout for a lone bad case');
}

/**
 * Several bad cases in one run (each CLI start costs ~0.15 s, so one run checks them all): exit 2,
 * exactly one line per case on stderr, in the order given, each naming its file and matching its
 * pattern; the closing line counts them as errors. A lone bad case (assertOneLineError) also
 * keeps stdout empty; that is checked on its own.
 */
async function assertOneLineErrors(cases: Array<[file: string, pattern: RegExp]>): Promise<void> {
  const r = await cli(['run', ...cases.map(([f]) => f)]);
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, cases.length, `one line per bad case, got: ${r.stderr}`);
  cases.forEach(([file, pattern], i) => {
    assert.ok(lines[i]!.startsWith(`gru-check: error: ${file}: `), `line ${i} names ${file}: ${lines[i]}`);
    assert.match(lines[i]!, pattern);
  });
  assert.match(r.stdout, new RegExp(`\n0 passed, 0 failed, ${cases.length} errors\n$`));
}

test('exit 0 on a passing sample, with the config and both tensors in the table (the built binary)', () => {
  const r = bin(['run', 'samples/classic_batch_first.npz']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /GRU\(input_size=4, hidden_size=5, num_layers=1, bidirectional=False, bias=True, batch_first=True \(from config\)\)/);
  assert.match(r.stdout, /│ output │ \(2, 3, 5\)/);
  assert.match(r.stdout, /│ h_n +│ \(1, 2, 5\)/);
  assert.match(r.stdout, /tolerance: rtol=1.3e-6 atol=1e-5 \(torch.testing.assert_close default for float32\)/);
  assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when NO_COLOR is set and stdout is a pipe');
});

test('the built CLI loads its bundle with the code cache; a stale or damaged cache is not used, and the run is the same', async () => {
  // One fresh process per state: load the bundle as the launcher does (bin/load-cli.cjs), say
  // whether V8 took the cache, and run a sample through the loaded CLI.
  const probe = (root: string): { cached: boolean; code: number; stdout: string } => {
    const code = `import { loadCli } from ${JSON.stringify(pathToFileURL(join(root, 'bin', 'load-cli.cjs')).href)};
const { cli, cached } = loadCli();
let stdout = '';
const code = await cli.main(['run', 'samples/mismatch.npz'], { stdout: (s) => { stdout += s; }, stderr: (s) => process.stderr.write(s), env: { NO_COLOR: '1', COLUMNS: '1000' } });
process.stdout.write(JSON.stringify({ cached, code, stdout }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return JSON.parse(r.stdout) as { cached: boolean; code: number; stdout: string };
  };
  const want = await cli(['run', 'samples/mismatch.npz']);
  assert.equal(want.code, 1);
  // npm run build wrote the cache: V8 takes it in a fresh process.
  assert.deepEqual(probe(ROOT), { cached: true, code: 1, stdout: want.stdout });
  const { dir } = readableCli();
  const cache = join(dir, 'dist', 'engine', 'cli-bundle.cache');
  const bundle = join(dir, 'dist', 'engine', 'cli-bundle.cjs');
  // One byte of the cache data changed: its CRC no longer matches, so it is not offered to V8.
  const good = readFileSync(cache);
  const bad = Buffer.from(good);
  bad[bad.length >> 1] ^= 0xff;
  writeFileSync(cache, bad);
  assert.deepEqual(probe(dir), { cached: false, code: 1, stdout: want.stdout });
  // The bundle changed after the cache was made (same length, so V8's own check would pass).
  writeFileSync(cache, good);
  const src = readFileSync(bundle, 'utf8');
  writeFileSync(bundle, src.replace("'use strict';", '"use strict";'));
  assert.deepEqual(probe(dir), { cached: false, code: 1, stdout: want.stdout });
});

test('the launcher never exits 0 for a run that did not finish; a crash or a missing build is one line and exit 2', () => {
  // A CLI copy whose bundle's main() never settles and keeps nothing waiting: the event loop runs
  // dry with the run unfinished (the bug this guards against), which must not read as a pass.
  const { dir, bin: launcher } = readableCli();
  const bundle = join(dir, 'dist', 'engine', 'cli-bundle.cjs');
  const launch = (): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [launcher, 'run', 'samples/classic_batch_first.npz'], { encoding: 'utf8', cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const run = (main: string): ReturnType<typeof launch> => {
    writeFileSync(bundle, `module.exports = { startEngine() {}, main: ${main} };\n`);
    return launch();
  };
  const stalled = run('() => new Promise(() => {})');
  assert.equal(stalled.code, 2);
  assert.equal(stalled.stdout, '');
  assert.equal(stalled.stderr, 'gru-check: error: internal error: the run ended before it finished (report it)\n');
  const crashed = run("async () => { throw new Error('boom\\nsecond line'); }");
  assert.equal(crashed.code, 2);
  assert.equal(crashed.stderr, 'gru-check: error: internal error: boom (set GRU_CHECK_DEBUG=1 for a stack trace and report it)\n');
  // The copy's exit code is main()'s: 0 and 1 pass through.
  assert.equal(run('async () => 1').code, 1);
  assert.equal(run('async () => 0').code, 0);
  // No bundle at all (not built): one line saying what to do.
  rmSync(bundle);
  const missing = launch();
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "gru-check: error: cannot load the compiled CLI (ENOENT); run 'npm install' or 'npm run build' in the gru-check folder\n");
});

test('exit 1 on a mismatch; --atol large enough makes it pass', async () => {
  const r = bin(['run', 'samples/mismatch.npz']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /1\/48 \(2.08%\)/);
  assert.match(r.stdout, /FAIL/);
  assert.equal((await cli(['run', 'samples/mismatch.npz', '--atol', '2e-3'])).code, 0);
  assert.equal((await cli(['run', 'samples/mismatch.npz', '--rtol', '0.01'])).code, 0);
});

test('several cases: a closing "N passed, M failed" line; a bad case is reported, the others run, exit 2', async () => {
  const ok = await cli(['run', 'samples/classic_batch_first.npz', 'samples/mismatch.npz']);
  assert.equal(ok.code, 1);
  assert.match(ok.stdout, /\n1 passed, 1 failed\n$/);
  const bad = await cli(['run', 'samples/no_bias.npz', 'missing.npz', 'samples/unbatched.npz']);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /\n2 passed, 0 failed, 1 error\n$/);
  assert.match(bad.stderr, /^gru-check: error: missing.npz: /);
});

test('--format json: one JSON document with the stable names, nothing else on stdout', async () => {
  const r = await cli(['run', 'samples/bidir_2layer.npz', 'samples/mismatch.npz', '--format', 'json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ['pass', 'summary', 'cases']);
  assert.equal(doc.pass, false);
  assert.deepEqual(doc.summary, { cases: 2, passed: 1, failed: 1, errors: 0 });
  const c = doc.cases[0];
  assert.equal(c.case, 'samples/bidir_2layer.npz');
  assert.equal(c.pass, true);
  assert.deepEqual(c.config, { layout: 'pytorch', inputSize: 6, hiddenSize: 5, numLayers: 2, bidirectional: true, bias: true, batchFirst: false, batched: true, dtype: 'float32' });
  assert.deepEqual(Object.keys(c.timings).sort(), ['compareMs', 'engine', 'kernel', 'loadMs', 'referenceMs', 'threads']);
  const names = ['tensor', 'subject', 'against', 'pass', 'shape', 'total', 'mismatched', 'maxAbsError', 'maxAbsIndex', 'maxRelError', 'maxRelIndex', 'meanAbsError', 'atol', 'rtol', 'requiredAtol', 'firstMismatchStep'];
  for (const k of c.checks) for (const n of names) assert.ok(n in k, `check has ${n}`);
  assert.deepEqual(c.checks.map((k: { tensor: string }) => k.tensor), ['output', 'h_n']);
  assert.deepEqual(c.checks[0].shape, [7, 3, 10]);
  const m = doc.cases[1].checks[0];
  assert.equal(m.pass, false);
  assert.deepEqual(m.maxAbsIndex, [2, 1, 3]);
  assert.equal(m.firstMismatchStep, 2);
  assert.equal(m.subject, 'reference');
  assert.equal(m.against, 'expected');
});

test('--format json with a bad case: the case carries "error", stderr has the line, exit 2', async () => {
  const r = await cli(['run', 'nope.npz', '--format', 'json']);
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.summary.errors, 1);
  assert.match(doc.cases[0].error, /nope.npz: no such file/);
  assert.match(r.stderr, /^gru-check: error: nope.npz/);
});

test('--help, --version and no arguments exit 0; usage errors exit 2 with one line', async () => {
  const help = await cli(['run', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--weights', '--prefix', '--batch-first', '--seq-first', '--rtol', '--atol', '--equal-nan', '--precision', '--format', '--no-color']) {
    assert.ok(help.stdout.includes(flag), `help lists ${flag}`);
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(bin(['--version']).stdout.trim(), pkg.version);
  assert.equal((await cli([])).code, 0);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--rtol', 'abc']), /--rtol expects a non-negative number or tensor:value pairs, got 'abc'/);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--atol', '-1']), /--atol expects a non-negative number/);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--precision', 'f16']), /--precision.*f32, f64/);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--format', 'xml']), /--format/);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--bogus']), /unknown option '--bogus'/);
  assertOneLineError(await cli(['run']), /run needs a case .* or --suite FILE.json/);
  assertOneLineError(await cli(['diagnose']), /missing required argument/);
  assertOneLineError(await cli(['frobnicate']), /unknown command/);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--batch-first', '--seq-first']), /cannot be used with/);
});

test('--weights, --prefix, --batch-first / --seq-first and --precision', async () => {
  assert.equal((await cli(['run', fixture('dir_case'), '--weights', fixture('dir_case_weights.npz')])).code, 0);
  await assertOneLineErrors([
    [fixture('dir_case'), /dir_case: no GRU weights found/],
    [fixture('two_grus.npz'), /several GRUs in one file: dec, enc \(pick one with --prefix/],
    [fixture('ambiguous.npz'), /cannot tell batch_first from the shapes.*\(pass --batch-first or --seq-first/],
  ]);
  assert.equal((await cli(['run', fixture('two_grus.npz'), '--prefix', 'enc'])).code, 0);
  assertOneLineError(await cli(['run', fixture('two_grus.npz'), '--prefix', 'dec']), /input: expected last dim 5/);
  assertOneLineError(await cli(['run', fixture('two_grus.npz'), '--prefix', 'nope']), /no GRU weights under prefix 'nope': found dec, enc/);
  assert.equal((await cli(['run', fixture('ambiguous.npz'), '--batch-first'])).code, 0);
  assert.equal((await cli(['run', fixture('ambiguous.npz'), '--seq-first'])).code, 1);
  const j = JSON.parse((await cli(['run', 'samples/float64.npz', '--precision', 'f32', '--format', 'json'])).stdout);
  assert.equal(j.cases[0].precision, 'f32');
  assert.ok(j.cases[0].checks[0].maxAbsError > 1e-9, 'float32 rounding shows against a float64 dump');
});

test('input errors: each kind is one line naming the file and the array, exit 2', async () => {
  const dir = tmp();
  const base = members(sample('classic_batch_first.npz'));
  const other = members(sample('no_bias.npz'));
  const bidir = members(sample('bidir_2layer.npz'));
  const write = (name: string, m: Record<string, Uint8Array>) => writeNpz(join(dir, name), m);
  const raw = readFileSync(sample('classic_batch_first.npz'));

  // A lone bad case: one line on stderr and nothing on stdout.
  writeFileSync(join(dir, 'empty.npz'), '');
  assertOneLineError(await cli(['run', join(dir, 'empty.npz')]), /empty\.npz: .*empty/);

  writeFileSync(join(dir, 'text.npz'), 'hello, not a zip file at all');
  writeFileSync(join(dir, 'cut.npz'), raw.subarray(0, Math.floor(raw.length / 2)));
  const stored = readFileSync(write('stored.npz', base));
  const flipped = Buffer.from(stored);
  const at = flipped.indexOf(Buffer.from('weight_hh_l0.npy')) + 200; // inside that member's data
  flipped[at]! ^= 0xff;
  writeFileSync(join(dir, 'crc.npz'), flipped);
  const { input: _i, ...noInput } = base;
  const { weight_hh_l0: _w, ...noWeight } = base;
  const { output: _o, h_n: _h, ...noExpected } = base;
  const len = members(sample('lengths.npz'));

  await assertOneLineErrors([
    [join(dir, 'text.npz'), /text\.npz: expected a zip archive \(\.npz\), got bytes 68 65 6c 6c/],
    [join(dir, 'cut.npz'), /cut\.npz: .*(truncated|not a zip)/i],
    [join(dir, 'crc.npz'), /crc\.npz: .*CRC-32/],
    [write('noinput.npz', noInput), /noinput\.npz: missing array input/],
    [write('noweight.npz', noWeight), /noweight\.npz: missing weight_hh_l0/],
    [write('disagree.npz', { ...base, weight_hh_l0: other.weight_hh_l0! }), /disagree\.npz: weight_ih_l0: expected shape \[12, input_size\]/],
    [write('feat.npz', { ...base, weight_ih_l0: bidir.weight_ih_l0! }), /feat\.npz: input: expected last dim 6 \(input_size, from weight_ih_l0\), got \[2, 3, 4\]/],
    [write('bias.npz', { ...base, bias_hh_l0: npy(new Float32Array(14), [14]) }), /bias\.npz: bias_hh_l0: expected shape \[15\] \(3\*hidden_size\), got \[14\]/],
    [write('h0.npz', { ...base, h0: npy(new Float32Array(15), [1, 3, 5]) }), /h0\.npz: h0: expected shape \[1, 2, 5\] \(num_layers\*num_directions, batch, hidden_size\), got \[1, 3, 5\]/],
    [write('dtype.npz', { ...base, input: npy(new Int32Array(24), [2, 3, 4]) }), /dtype\.npz: input: expected a float16, float32 or float64 array, got int32/],
    [write('noexp.npz', noExpected), /noexp\.npz: nothing to check: neither output nor h_n/],
    [write('len0.npz', { ...len, lengths: npy(new BigInt64Array([5n, 0n, 7n, 4n]), [4]) }), /len0\.npz: lengths\[1\]: expected a value in 1\.\.7 \(seq length\), got 0/],
    [write('len8.npz', { ...len, lengths: npy(new BigInt64Array([5n, 2n, 8n, 4n]), [4]) }), /lengths\[2\]: expected a value in 1\.\.7/],
    [write('lenf.npz', { ...len, lengths: npy(new Float32Array([5, 2, 7, 4]), [4]) }), /lengths: expected an integer array \(any int or uint type\), got float32/],
    [write('cfg1.npz', { ...base, config: npyString('{"batch_first": "yes"}') }), /cfg1\.npz: config: batch_first must be true or false, got "yes"/],
    [write('cfg2.npz', { ...base, config: npyString('{batch_first: true') }), /cfg2\.npz: config: not valid JSON/],
  ]);
  // a config written by our own writer is read: batch_first from config, not shapes
  const good = await cli(['run', write('cfg3.npz', { ...base, config: npyString('{"batch_first": true, "note": "ünïcode"}') })]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /batch_first=True \(from config\)/);
});

test('input errors inside an archive: duplicate member, short array, object and complex dtypes', async () => {
  const dir = tmp();
  const base = members(sample('classic_batch_first.npz'));
  const obj = readFileSync(join(ROOT, 'test/fixtures/io/npy/refuse_object.npy'));
  const cplx = readFileSync(join(ROOT, 'test/fixtures/io/npy/refuse_complex.npy'));
  const write = (name: string, m: Record<string, Uint8Array>) => writeNpz(join(dir, name), m);

  // a duplicate name: rename one member in place so two entries say weight_ih_l0.npy
  const zip = Buffer.from(readFileSync(write('dup-src.npz', base)));
  let at = -1;
  while ((at = zip.indexOf('weight_hh_l0.npy', at + 1)) >= 0) zip.write('weight_ih_l0.npy', at);
  writeFileSync(join(dir, 'dup.npz'), zip);
  const short = base.weight_ih_l0!.slice(0, base.weight_ih_l0!.length - 8);
  await assertOneLineErrors([
    [write('obj.npz', { ...base, h0: new Uint8Array(obj) }), /obj\.npz: member 'h0\.npy'.*object.*pickl/i],
    [write('cplx.npz', { ...base, h0: new Uint8Array(cplx) }), /cplx\.npz: member 'h0\.npy'.*complex/i],
    [write('short.npz', { ...base, weight_ih_l0: short }), /short\.npz: member 'weight_ih_l0\.npy'.*needs 240 bytes/],
    [join(dir, 'dup.npz'), /dup\.npz: member 'weight_ih_l0\.npy' appears more than once in the archive/],
  ]);
});

test('--format junit|markdown|html on stdout, and --report FILE alongside the table', async () => {
  const { XMLParser } = await import('fast-xml-parser');
  const dir = tmp();
  const junit = await cli(['run', 'samples/mismatch.npz', 'samples/no_bias.npz', '--format', 'junit']);
  assert.equal(junit.code, 1);
  const doc = new XMLParser({ ignoreAttributes: false }).parse(junit.stdout);
  assert.equal(doc.testsuites['@_tests'], '4');
  assert.equal(doc.testsuites['@_failures'], '1');
  const md = await cli(['run', 'samples/mismatch.npz', '--format', 'markdown']);
  assert.match(md.stdout, /\| output \|/);
  const html = await cli(['run', 'samples/mismatch.npz', '--format', 'html']);
  assert.match(html.stdout, /^<!DOCTYPE html>/i);
  const report = join(dir, 'report.xml');
  const r = await cli(['run', 'samples/mismatch.npz', '--report', report]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /│ output │/, 'the terminal still shows the table');
  const rep = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(report, 'utf8'));
  assert.equal(rep.testsuites['@_failures'], '1');
  assertOneLineError(await cli(['run', 'samples/mismatch.npz', '--report', join(dir, 'report.pdf')]), /--report: cannot tell the format from the extension of/);
  assertOneLineError(await cli(['run', 'samples/mismatch.npz', '--report', join(dir, 'no/such/dir/r.xml')]), /r\.xml: cannot write: the folder '.*no\/such\/dir' does not exist \(mkdir -p .*no\/such\/dir first\)/);
});

test('--engine fast (default) and --engine reference agree; timings name the engine and threads', async () => {
  const fast = JSON.parse((await cli(['run', 'samples/lengths.npz', '--format', 'json'])).stdout).cases[0];
  const ref = JSON.parse((await cli(['run', 'samples/lengths.npz', '--format', 'json', '--engine', 'reference'])).stdout).cases[0];
  const two = JSON.parse((await cli(['run', 'samples/lengths.npz', '--format', 'json', '--threads', '2'])).stdout).cases[0];
  assert.equal(fast.timings.engine, 'fast');
  assert.equal(ref.timings.engine, 'reference');
  assert.equal(two.timings.threads, 2);
  for (const k of ['loadMs', 'referenceMs', 'compareMs']) assert.equal(typeof fast.timings[k], 'number');
  for (const r of [fast, ref, two]) assert.equal(r.pass, true);
  // both engines land within float32 rounding of PyTorch, and of each other
  for (let i = 0; i < fast.checks.length; i++) {
    assert.ok(Math.abs(fast.checks[i].maxAbsError - ref.checks[i].maxAbsError) < 1e-6);
  }
  assertOneLineError(await cli(['run', 'samples/lengths.npz', '--threads', '0']), /--threads expects a whole number from 1 to 256, got '0'/);
  assertOneLineError(await cli(['run', 'samples/lengths.npz', '--engine', 'gpu']), /--engine/);
});

test('--max-bytes refuses archives and computations past the limit before allocating them', async () => {
  assertOneLineError(await cli(['run', 'samples/bidir_2layer.npz', '--max-bytes', '1K']), /bidir_2layer\.npz: zip archive: members total \d+ bytes uncompressed, more than the limit of 1024 bytes/);
  // a few KB of weights asking for T = 2^13 steps: the archive fits the limit, the computation
  // (40 bytes x T x B x H) does not, and is refused from the shapes, before any allocation
  const dir = tmp();
  const base = members(sample('classic_batch_first.npz'));
  const T = 2 ** 13;
  const huge = writeNpz(join(dir, 'huge.npz'), { ...base, input: npy(new Float32Array(2 * T * 4), [2, T, 4]), output: npy(new Float32Array(2 * T * 5), [2, T, 5]) });
  assertOneLineError(await cli(['run', huge, '--max-bytes', '1M']), /huge\.npz: computing this GRU needs about 3\.13 MiB \(T=8192, B=2, 1x5 features\), over the 1 MiB limit \(raise --max-bytes/);
  assertOneLineError(await cli(['run', 'samples/no_bias.npz', '--max-bytes', 'lots']), /--max-bytes expects a size such as 4G, 512M or 1000000, got 'lots'/);
  assert.equal((await cli(['run', 'samples/no_bias.npz', '--max-bytes', '1M'])).code, 0);
});
