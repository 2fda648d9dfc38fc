// Issue 21, the CLI half (README "Safety"): writes that never go through a symlink, never leave a
// half file and never land on an input; baselines that merge, with parallel writers losing nothing;
// bounded suite and baseline files; suite paths kept in the suite's folder; every line clipped;
// inspect linear in the number of arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { BIN, ROOT, bin, cli, members, npyString, sample, tmp, writeNpz } from '../helpers.js';

const CASE = 'samples/lengths.npz';
const keys = (file: string): string[] => Object.keys(JSON.parse(readFileSync(file, 'utf8')).cases).sort();
const labels = (file: string): string[] => Object.values(JSON.parse(readFileSync(file, 'utf8')).cases as Record<string, { label: string }>).map((e) => e.label).sort();
const oneLine = (s: string): void => assert.equal(s.trim().split('\n').length, 1, s);

test('a symlinked report or baseline (dangling or not) is refused before anything runs; its target is untouched', async () => {
  const d = tmp();
  mkdirSync(join(d, 'outside'));
  mkdirSync(join(d, 'reports'));
  writeFileSync(join(d, 'outside', 'precious.txt'), 'precious');
  symlinkSync('../outside/precious.txt', join(d, 'reports', 'out.json'));
  symlinkSync('../outside/new.json', join(d, 'reports', 'dangling.json'));
  for (const args of [['--report', join(d, 'reports', 'out.json')], ['--save-baseline', join(d, 'reports', 'out.json')], ['--report', join(d, 'reports', 'dangling.json')], ['--save-baseline', join(d, 'reports', 'dangling.json')]]) {
    const r = await cli(['run', CASE, ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is a symbolic link: gru-check neither writes through a link nor replaces it/);
    oneLine(r.stderr);
    assert.equal(r.stdout, '', 'refused before the case ran');
  }
  assert.equal(readFileSync(join(d, 'outside', 'precious.txt'), 'utf8'), 'precious');
  assert.ok(!existsSync(join(d, 'outside', 'new.json')), 'a dangling link does not create its target');
  // A directory or a device is not a report either.
  mkdirSync(join(d, 'dir.json'));
  assert.match((await cli(['run', CASE, '--report', join(d, 'dir.json')])).stderr, /--report: is a directory: only a regular file is written/);
  assert.match((await cli(['run', CASE, '--report', join(d, 'nowhere', 'r.json')])).stderr, /cannot write: the folder '.*nowhere' does not exist \(mkdir -p/);
  assert.match((await cli(['run', CASE, '--save-baseline', '/dev/null'])).stderr, /not a regular file/);
});

test('an output that is one of the run\'s inputs (same device and inode, however spelt) is exit 2 before anything runs', async () => {
  const d = tmp();
  const c = join(d, 'case.npz');
  copyFileSync(join(ROOT, CASE), c);
  const w = join(d, 'weights.npz');
  copyFileSync(join(ROOT, CASE), w);
  writeFileSync(join(d, 'b.json'), '{"gruCheckBaseline": 2, "cases": {}}');
  linkSync(c, join(d, 'hardlink.json'));
  writeFileSync(join(d, 'suite.json'), JSON.stringify({ gruCheckSuite: 1, cases: [{ case: 'case.npz' }] }));
  const before = readFileSync(c);
  const runs: [string[], RegExp][] = [
    [['run', c, '--save-baseline', c], /--save-baseline would overwrite the case/],
    [['run', c, '--weights', w, '--save-baseline', join(d, '.', 'weights.npz')], /--save-baseline would overwrite the weights/],
    [['run', c, '--report', join(d, 'hardlink.json')], /--report would overwrite the case/],
    [['run', c, '--candidate', w, '--report', join(d, 'out.json'), '--save-baseline', w], /--save-baseline would overwrite the candidate/],
    [['run', '--suite', join(d, 'suite.json'), '--report', join(d, 'suite.json')], /--report would overwrite the suite/],
    [['run', c, '--report', join(d, 'b.json'), '--baseline', join(d, 'b.json')], /--report would overwrite the baseline/],
    [['run', c, '--report', join(d, 'x.json'), '--save-baseline', join(d, 'x.json')], /--report and --save-baseline name one file/],
    [['run', c, '--report', join(d, 'b.json'), '--save-baseline', join(d, '..', d.split('/').pop()!, 'b.json')], /name one file|overwrite/],
  ];
  for (const [argv, message] of runs) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    oneLine(r.stderr);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(readFileSync(c), before);
  assert.ok(!existsSync(join(d, 'x.json')));
});

test('killed mid-write, or stopped by a file-size limit, the old report is intact', () => {
  const d = tmp();
  const report = join(d, 'report.html');
  writeFileSync(report, 'OLD REPORT');
  // A preload that kills the process with SIGKILL half-way through the first large write to a file
  // (the report's bytes, whichever way they are written): a run killed mid-write, every time.
  const hook = join(d, 'kill-mid-write.cjs');
  writeFileSync(hook, `const fs = require('node:fs');
const write = fs.writeSync;
fs.writeSync = function (fd, buf, ...rest) {
  if (fd > 2 && typeof buf !== 'string' && buf.length > 1000) { write.call(fs, fd, buf, 0, buf.length >> 1); process.kill(process.pid, 'SIGKILL'); }
  return write.call(fs, fd, buf, ...rest);
};
const wfs = fs.writeFileSync;
fs.writeFileSync = function (p, data, ...rest) {
  if (typeof p === 'string' && String(data).length > 1000) { wfs.call(fs, p, String(data).slice(0, 500)); process.kill(process.pid, 'SIGKILL'); }
  return wfs.call(fs, p, data, ...rest);
};
`);
  const killed = bin(['run', CASE, '--report', report], { NODE_OPTIONS: `--require "${hook}"` });
  assert.equal(killed.code, null, 'the process was killed');
  assert.equal(readFileSync(report, 'utf8'), 'OLD REPORT');
  // Under `ulimit -f` the write fails part-way (EFBIG): exit 2, the old file intact, no temporary file left.
  const temps = (): string[] => readdirSync(d).filter((f) => f.startsWith('.report.html.'));
  // The killed run left its temporary file (nothing could remove it); the old report never moved.
  assert.equal(temps().length, 1);
  const limited = spawnBash(`ulimit -f 2; exec "${process.execPath}" "${BIN}" run ${CASE} --report "${report}"`);
  assert.equal(limited.code, 2, limited.stderr);
  assert.match(limited.stderr, /cannot write: the file is larger than the size limit/);
  assert.equal(readFileSync(report, 'utf8'), 'OLD REPORT');
  assert.equal(temps().length, 1, 'a failed write removes its temporary file');
  // And with no limit the new report replaces the old one whole.
  assert.equal(bin(['run', CASE, '--report', report]).code, 0);
  assert.match(readFileSync(report, 'utf8'), /^<!doctype html>[\s\S]*<\/html>\s*$/i);
});

function spawnBash(script: string): { code: number | null; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
  return { code: r.status, stderr: r.stderr };
}

test('--save-baseline merges: checked cases replace their entries, others are kept, an unreadable case is named and keeps its own', async () => {
  const d = tmp();
  const file = join(d, 'base.json');
  assert.equal((await cli(['run', sample('lengths.npz'), '--save-baseline', file])).code, 0);
  assert.equal((await cli(['run', sample('float64.npz'), '--save-baseline', file])).code, 0);
  assert.deepEqual(labels(file), [sample('float64.npz'), sample('lengths.npz')]);
  const first = keys(file);
  // lengths again, next to a case that cannot be read: float64's entry is kept, the missing case named.
  const r = await cli(['run', sample('lengths.npz'), join(d, 'gone.npz'), '--save-baseline', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /base\.json: .*gone\.npz could not be checked: its entry, if it had one, is kept as it was/);
  assert.deepEqual(keys(file), first);
  // A file that is not a baseline is refused, not replaced, before anything runs.
  writeFileSync(join(d, 'notes.json'), '{"mine": 1}');
  const n = await cli(['run', sample('lengths.npz'), '--save-baseline', join(d, 'notes.json')]);
  assert.equal(n.code, 2);
  assert.match(n.stderr, /not a gru-check baseline/);
  assert.equal(readFileSync(join(d, 'notes.json'), 'utf8'), '{"mine": 1}');
});

function runAsync(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    let stderr = '';
    p.stderr.on('data', (b) => (stderr += b));
    p.stdout.resume();
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

test('two parallel writers saving 20 times each to one baseline lose nothing (the lock); two CLI shards at once keep both', async () => {
  const d = tmp();
  const file = join(d, 'base.json');
  // The function the CLI saves with, in two processes at once, 20 distinct cases each.
  const script = join(d, 'writer.mjs');
  writeFileSync(script, `import { saveBaselineFile } from ${JSON.stringify(join(ROOT, 'dist', 'suite', 'baseline-file.js'))};
const [file, who] = process.argv.slice(2);
for (let i = 0; i < 20; i++) {
  const fp = (who + '-' + String(i).padStart(2, '0')).padEnd(64, '0');
  await saveBaselineFile(file, { cases: [{ case: who + i, pass: true, fingerprint: fp, checks: [{ tensor: 'output', subject: 'reference', against: 'expected', maxAbsError: i }], timings: {} }] });
}
`);
  const rs = await Promise.all(['a', 'b'].map((who) => runAsync(process.execPath, [script, file, who])));
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  assert.equal(keys(file).length, 40);
  assert.ok(!existsSync(`${file}.lock`), 'the lock is released');
  // The CLI: shards 1/2 and 2/2 of a suite saving to one file at the same time.
  const shared = join(d, 'shards.json');
  const shards = await Promise.all(['1/2', '2/2'].map((s) => runAsync(process.execPath, [BIN, 'run', '--suite', 'samples/suite.json', '--shard', s, '--save-baseline', shared])));
  for (const r of shards) assert.equal(r.code, 0, r.stderr);
  assert.equal(keys(shared).length, 5);
});

test('suite and baseline files are bounded: devices, depth, __proto__, 1e999, parse errors by line and column without the text', async () => {
  const d = tmp();
  const w = (name: string, text: string): string => {
    writeFileSync(join(d, name), text);
    return join(d, name);
  };
  const runs: [string[], RegExp][] = [
    [['run', '--suite', '/dev/zero'], /the suite is a device: only a regular file is read/],
    [['run', CASE, '--baseline', '/dev/urandom'], /the baseline is a device/],
    [['run', '--suite', w('deep.json', '['.repeat(100_000))], /suite is not valid JSON: nested deeper than 64 levels at line 1, column 65/],
    [['run', '--suite', w('proto.json', '{"gruCheckSuite": 1, "cases": [{"case": "a.npz", "__proto__": {"x": 1}}]}')], /the key "__proto__" is not allowed at line 1, column 50/],
    [['run', '--suite', w('ctor.json', '{"gruCheckSuite": 1, "defaults": {"constructor": 1}, "cases": [{"case": "a.npz"}]}')], /the key "constructor" is not allowed/],
    [['run', '--suite', w('tostring.json', '{"gruCheckSuite": 1, "cases": [{"case": "a.npz", "toString": 1}]}')], /cases\[0\]\.toString: not a suite key/],
    [['run', CASE, '--baseline', w('inf.json', '{"gruCheckBaseline": 2, "cases": {"ab": {"label": "x", "checks": {"output:reference:expected": 1e999}}}}')], /a number too large for a float64 .* at line 1, column 96/],
    [['run', CASE, '--baseline', w('neg.json', '{"gruCheckBaseline": 2, "cases": {"ab": {"label": "x", "checks": {"output:reference:expected": -1}}}}')], /every error a finite number >= 0/],
    [['run', '--suite', w('secret.json', '{"gruCheckSuite": 1,\n  "cases": [TOP-SECRET-TOKEN]}')], /suite is not valid JSON: unexpected character at line 2, column 13$/m],
    [['run', '--suite', w('other.json', '{"token": "TOP-SECRET-TOKEN"}')], /not a gru-check suite/],
  ];
  for (const [argv, message] of runs) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /TOP-SECRET|token/);
    oneLine(r.stderr);
  }
});

test('suite paths stay in the suite\'s folder: .., absolute paths and symlinks out are exit 2 unless --allow-outside-suite', async () => {
  const d = tmp();
  mkdirSync(join(d, 'outside'));
  mkdirSync(join(d, 'suite'));
  writeFileSync(join(d, 'outside', 'secret.txt'), 'TOP-SECRET-TOKEN line one\n');
  copyFileSync(join(ROOT, CASE), join(d, 'suite', 'case.npz'));
  symlinkSync('../outside', join(d, 'suite', 'link'));
  symlinkSync('../outside/secret.txt', join(d, 'suite', 'secret-link.json'));
  const suite = (name: string, entry: Record<string, string>): string => {
    const p = join(d, 'suite', name);
    writeFileSync(p, JSON.stringify({ gruCheckSuite: 1, cases: [{ case: 'case.npz', ...entry }] }));
    return p;
  };
  const runs: [string, RegExp][] = [
    [suite('dots.json', { baseline: '../outside/secret.txt' }), /cases\[0\]\.baseline: '\.\.\/outside\/secret\.txt' leaves the suite's folder \(keep the files under the suite's folder, or pass --allow-outside-suite\)/],
    [suite('abs.json', { baseline: join(d, 'outside', 'secret.txt') }), /cases\[0\]\.baseline: '.*' is an absolute path/],
    [suite('link.json', { candidate: 'link/secret.txt' }), /cases\[0\]\.candidate: 'link\/secret\.txt' leaves the suite's folder through a symbolic link/],
    [suite('case.json', { case: 'link/../../outside/secret.txt' }), /leaves the suite's folder/],
    [suite('file-link.json', { baseline: 'secret-link.json' }), /cases\[0\]\.baseline: 'secret-link\.json' leaves the suite's folder through a symbolic link/],
  ];
  for (const [file, message] of runs) {
    const r = await cli(['run', '--suite', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    oneLine(r.stderr);
    assert.equal(r.stdout, '');
  }
  // Allowed, the secret is read as a baseline and refused without a word of it.
  const allowed = await cli(['run', '--suite', join(d, 'suite', 'dots.json'), '--allow-outside-suite']);
  assert.equal(allowed.code, 2);
  assert.match(allowed.stderr, /baseline is not valid JSON: unexpected character at line 1, column 1/);
  assert.doesNotMatch(allowed.stderr, /SECRET/);
  // Inside the folder is fine.
  assert.equal((await cli(['run', '--suite', suite('ok.json', {})])).code, 0);
});

test('every line is clipped with an ellipsis and the length left out', async () => {
  const long = `1e-3,${'output:1e-3,'.repeat(60_000)}`;
  const r = await cli(['run', CASE, '--rtol', long]);
  assert.equal(r.code, 2);
  oneLine(r.stderr);
  assert.ok(r.stderr.length < 1200, `${r.stderr.length} characters`);
  assert.match(r.stderr, /… \([\d,]+ more characters\)/);
  // A warning built from a file (a 5000-character config key), on stderr and in the JSON.
  const m = members(join(ROOT, CASE));
  m.config = npyString(JSON.stringify({ batch_first: true, ['k'.repeat(5000)]: 1 }));
  const w = await cli(['run', writeNpz(join(tmp(), 'long-key.npz'), m), '--format', 'json']);
  assert.equal(w.code, 0, w.stderr);
  oneLine(w.stderr);
  assert.match(w.stderr, /^gru-check: warning: .*config key "k+… \([\d,]+ more characters\)\n$/);
  assert.ok(w.stderr.length < 1200);
  const warned = JSON.parse(w.stdout).cases[0].warnings[0].message as string;
  assert.ok(warned.length < 1100 && warned.includes('more characters)'), warned.slice(0, 200));
  const named = await cli(['run', join('x'.repeat(5000), 'case.npz')]);
  oneLine(named.stderr);
  assert.ok(named.stderr.length < 1200 && /… \([\d,]+ more characters\)/.test(named.stderr), named.stderr.slice(0, 400));
});

test('inspect of an .npz of 20,000 arrays lists every one (the table is drawn in one pass)', async () => {
  const d = tmp();
  const header = (() => {
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
    return h;
  })();
  const member = new Uint8Array(10 + header.length + 4);
  member.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  member.set(new TextEncoder().encode(header), 10);
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 20_000; i++) files[`a${String(i).padStart(5, '0')}.npy`] = member;
  writeFileSync(join(d, 'many.npz'), zipSync(files, { level: 0 }));
  const r = await cli(['inspect', join(d, 'many.npz')]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => /^│ a\d{5} /.test(l));
  assert.equal(rows.length, 20_000);
  assert.match(rows[19_999]!, /^│ a19999 +│ float32 │ \(1,\) +│ 0 +│ 0 +│ 0 +│ 0 +│ 0 +│$/);
});
