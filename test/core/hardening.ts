/**
 * Hardening: one test per hostile or degenerate input a CI gate can meet — odd archive contents,
 * file-system tricks, zip bombs, size claims past what memory holds, NaN/Inf and tiny values, and
 * error indices in each layout's own axis order. Each asserts the precise outcome (a code, a
 * one-line message naming the culprit, or a result with honest metrics), not merely "no crash".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { GruCheckError } from '../../src/errors.js';
import { parseNpy } from '../../src/io/npy.js';
import { readNpz } from '../../src/io/npz.js';
import { loadArrays } from '../../src/io/load.js';
import type { ArrayBundle, NdArray } from '../../src/io/types.js';
import { buildCase } from '../../src/model/case.js';
import { readCandidate } from '../../src/candidate/read.js';
import { toUserLayout } from '../../src/model/layout.js';
import type { CaseResult } from '../../src/result.js';
import { compareTensors } from '../../src/compare/isclose.js';
import { runGruStack } from '../../src/gru/layer.js';
import type { CheckResult } from '../../src/result.js';
import { BIN, members, metric, npy, readableCli, sample, tmp, writeNpz, checkRef } from '../helpers.js';
import { assertGruError, assertGruErrorAsync, makeZip, npyBytes } from '../fixtures/io/helpers.js';

let dir: string;
before(() => {
  dir = tmp();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const F4 = npy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);

/** A sample's arrays, decoded (copies, so edits do not touch anything shared). */
/** The .npy bytes each decoded sample array came from, so unedited arrays are written back as read. */
const RAW = new WeakMap<NdArray, Uint8Array>();

function arraysOf(name: string): Map<string, NdArray> {
  const m = new Map<string, NdArray>();
  for (const [k, v] of Object.entries(members(sample(name)))) {
    const nd = parseNpy(v, k);
    RAW.set(nd, v);
    m.set(k, nd);
  }
  return m;
}

/** Writes arrays as a stored .npz: unedited ones as read, edited float ones via npyjs. */
function writeCase(file: string, arrays: Map<string, NdArray>, extra: Record<string, Uint8Array> = {}): string {
  const m: Record<string, Uint8Array> = { ...extra };
  for (const [k, a] of arrays) {
    const raw = RAW.get(a);
    if (raw) m[k] = raw;
    else if (a.data instanceof Float32Array || a.data instanceof Float64Array) m[k] = npy(a.data, a.shape);
    else assert.fail(`cannot write edited ${a.dtype} array ${k}`);
  }
  return writeNpz(join(dir, file), m);
}

/** The first folder on the way to `path` (itself excluded) that users other than its owner cannot enter. */
function closedAncestor(path: string): string | undefined {
  const parts = dirname(path).split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const d = `/${parts.slice(0, i).join('/')}`;
    const st = statSync(d);
    if (st.uid !== 65534 && (st.mode & 0o001) === 0) return d;
  }
  return undefined;
}

function withValue(a: NdArray, flat: number, v: number): NdArray {
  const data = (a.data as Float32Array | Float64Array).slice();
  data[flat] = v;
  return { ...a, data };
}

const flatIndex = (idx: number[], shape: number[]): number => idx.reduce((acc, i, k) => acc * shape[k]! + i, 0);

function check(r: CaseResult, tensor: 'output' | 'h_n', subject: CheckResult['subject'] = 'reference', against: CheckResult['against'] = 'expected'): CheckResult {
  const c = r.checks.find((k) => k.tensor === tensor && k.subject === subject && k.against === against);
  assert.ok(c, `no ${subject} ${tensor} vs ${against} check`);
  return c;
}

/**
 * The outcome (value or thrown error) and ArrayBuffer growth of an async call. Memory, not time, is
 * what shows that a refusal came before the work: inflating or allocating what a file claims moves
 * this counter by megabytes on any machine, however fast.
 */
async function measure<T>(fn: () => Promise<T>): Promise<{ value: T | unknown; grew: number }> {
  const m0 = process.memoryUsage().arrayBuffers;
  let value: T | unknown;
  try {
    value = await fn();
  } catch (e) {
    value = e;
  }
  return { value, grew: process.memoryUsage().arrayBuffers - m0 };
}

// -----------------------------------------------------------------------------------------------

describe('hardening: archive contents', () => {
  it('duplicate member names -> DUPLICATE_MEMBER naming the member', async () => {
    const p = join(dir, 'dup.npz');
    writeFileSync(p, makeZip([{ name: 'input.npy', data: F4 }, { name: 'input.npy', data: F4, method: 8 }]));
    const e = await assertGruErrorAsync(() => loadArrays(p), 'DUPLICATE_MEMBER', ["'input.npy'", 'more than once']);
    assert.equal(e.file, p);
  });

  it('a member that is not .npy (notes.txt) -> BAD_MEMBER naming it', async () => {
    const p = join(dir, 'notes.npz');
    writeFileSync(p, makeZip([{ name: 'input.npy', data: F4 }, { name: 'notes.txt', data: new TextEncoder().encode('hello\n') }]));
    const e = await assertGruErrorAsync(() => loadArrays(p), 'BAD_MEMBER', ["'notes.txt'", 'expected an .npy member']);
    assert.equal(e.file, p);
  });

  it('member names with newlines, ESC and bidi controls are escaped: the error stays one printable line', () => {
    const evil = 'a\n\u001b[31mFAKE PASS\u001b[0m\r\u202e.npy';
    // Flag bit 11: the names are UTF-8 (else the zip spec says CP437 and U+202E would not survive).
    const zip = makeZip([{ name: 'x.npy', data: F4 }, { name: evil, data: F4, flags: 0x800 }, { name: evil, data: F4, flags: 0x800 }]);
    const e = assertGruError(() => readNpz(zip), 'DUPLICATE_MEMBER');
    assert.ok(!/[\u0000-\u001f\u007f\u202e]/.test(e.message), JSON.stringify(e.message));
    assert.ok(e.message.includes('a\\n\\x1b[31mFAKE PASS\\x1b[0m\\r\\u202e.npy'), e.message);
  });

  it('a 60000-character member name is clipped in the message', () => {
    const long = `${'w'.repeat(60000)}.npy`;
    const e = assertGruError(() => readNpz(makeZip([{ name: long, data: F4 }, { name: long, data: F4 }])), 'DUPLICATE_MEMBER');
    assert.ok(e.message.length < 400, `message of ${e.message.length} characters`);
    // clipped at 100 with an ellipsis and the length left out
    assert.ok(e.message.includes('w… (59,904 more characters)'), e.message);
  });

  it('array names from the file that reach model errors are escaped too (several GRUs, bad dtype)', async () => {
    const a = arraysOf('classic_batch_first.npz');
    const raw: Record<string, Uint8Array> = {};
    for (const k of ['weight_ih_l0', 'weight_hh_l0']) raw[`x\u001b[2J\u0007.${k}`] = npy(a.get(k)!.data as Float32Array, a.get(k)!.shape);
    const p = writeCase('two-evil.npz', a, raw);
    const bundle = await loadArrays(p);
    const e = assertGruError(() => buildCase(bundle), 'AMBIGUOUS_PREFIX');
    assert.ok(!/[\u0000-\u001f]/.test(e.message) && !/[\u0000-\u001f]/.test(e.hint ?? ''), JSON.stringify([e.message, e.hint]));
    assert.ok(e.message.includes('x\\x1b[2J\\x07'), e.message);
  });
});

describe('hardening: the file system', () => {
  it('a directory with unrelated files (README, .txt, subdirectories, a dir named x.npy) still loads', async () => {
    const d = join(dir, 'case-dir');
    mkdirSync(join(d, 'sub'), { recursive: true });
    mkdirSync(join(d, 'folder.npy'));
    for (const [k, v] of Object.entries(members(sample('classic_batch_first.npz')))) writeFileSync(join(d, `${k}.npy`), v);
    writeFileSync(join(d, 'README'), 'not an array');
    writeFileSync(join(d, 'notes.txt'), 'not an array either');
    writeFileSync(join(d, 'sub', 'input.npy'), 'garbage that must not be read');
    const bundle = await loadArrays(d);
    assert.deepEqual([...bundle.arrays.keys()].sort(), ['bias_hh_l0', 'bias_ih_l0', 'config', 'h0', 'h_n', 'input', 'output', 'weight_hh_l0', 'weight_ih_l0']);
    assert.equal((await checkRef(bundle)).pass, true);
  });

  it('a symlink to a file is followed (also inside a case directory)', async () => {
    const link = join(dir, 'link.npz');
    symlinkSync(sample('classic_batch_first.npz'), link);
    assert.equal((await checkRef(await loadArrays(link))).pass, true);
    const d = join(dir, 'linked-dir');
    mkdirSync(d);
    const src = join(dir, 'real-input.npy');
    for (const [k, v] of Object.entries(members(sample('classic_batch_first.npz')))) {
      if (k === 'input') {
        writeFileSync(src, v);
        symlinkSync(src, join(d, 'input.npy'));
      } else writeFileSync(join(d, `${k}.npy`), v);
    }
    assert.equal((await checkRef(await loadArrays(d))).pass, true);
  });

  it('a broken symlink -> NOT_FOUND naming its target', async () => {
    const link = join(dir, 'broken.npz');
    symlinkSync(join(dir, 'does-not-exist.npz'), link);
    const e = await assertGruErrorAsync(() => loadArrays(link), 'NOT_FOUND', ['broken symbolic link', 'does-not-exist.npz']);
    assert.equal(e.file, link);
  });

  it('a symlink loop -> UNREADABLE, not a hang', async () => {
    const a = join(dir, 'loop-a.npz');
    const b = join(dir, 'loop-b.npz');
    symlinkSync(b, a);
    symlinkSync(a, b);
    await assertGruErrorAsync(() => loadArrays(a), 'UNREADABLE', ['symbolic links']);
  });

  it('an unreadable file (mode 000) read by an unprivileged user -> exit 2, one line, permission denied', (t) => {
    if (process.getuid?.() !== 0) {
      const p = join(dir, 'secret-own.npz');
      copyFileSync(sample('mismatch.npz'), p);
      chmodSync(p, 0o000);
      const r = spawnSync(process.execPath, [BIN, 'run', p], { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^gru-check: error: .*secret-own\.npz: permission denied \(check the file permissions\)\n$/);
      return;
    }
    // Root reads mode-000 files, so the check runs the built CLI as uid/gid 65534 (nobody). nobody
    // may not be able to enter the repository (a clone inside `mktemp -d` is mode 700), so it runs
    // a world-readable copy of the CLI, with the file next to it.
    const { dir: cliDir, bin } = readableCli();
    const p = join(cliDir, 'secret.npz');
    copyFileSync(sample('mismatch.npz'), p);
    chmodSync(p, 0o000);
    const asNobody = { encoding: 'utf8', uid: 65534, gid: 65534, cwd: cliDir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } } as const;
    // The temp folder's parents, or node itself, may be private too (TMPDIR inside `mktemp -d`, node
    // under /root): then no copy helps.
    const closed = [cliDir, process.execPath].map(closedAncestor).find((d) => d !== undefined);
    if (closed !== undefined) return t.skip(`uid 65534 cannot enter ${closed} (mode ${(statSync(closed).mode & 0o777).toString(8)}), on the way to ${cliDir} or ${process.execPath}`);
    const probe = spawnSync(process.execPath, [bin, '--version'], asNobody);
    assert.equal(probe.status, 0, `the readable copy of the CLI does not run as uid 65534: ${probe.error?.message ?? probe.stderr}`);
    const r = spawnSync(process.execPath, [bin, 'run', p], asNobody);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `gru-check: error: ${p}: permission denied (check the file permissions)\n`);
    // And the copy is a working CLI: the same file, readable, is checked (exit 1, a mismatch).
    chmodSync(p, 0o644);
    const ok = spawnSync(process.execPath, [bin, 'run', p, '--threads', '2'], asNobody);
    assert.equal(ok.status, 1, ok.stderr);
  });
});

// -----------------------------------------------------------------------------------------------

describe('hardening: zip bombs and size claims', () => {
  // 16 MiB of zeros deflates to ~16 KB.
  const BOMB_SIZE = 16 << 20;
  let bombDeflated: Uint8Array;
  let bombNpy: Uint8Array;
  before(() => {
    bombNpy = new Uint8Array(BOMB_SIZE);
    bombNpy.set(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (16777088,), }"));
    bombDeflated = zlib.deflateRawSync(bombNpy, { level: 9 });
  });

  it('a deflated member declaring a small size but inflating far past it: refused within one slice, memory bounded, rest untouched', async () => {
    const p = join(dir, 'bomb.npz');
    const honest = npy(new Float32Array(4), [4]);
    writeFileSync(
      p,
      makeZip([
        { name: 'bomb.npy', data: bombNpy.subarray(0, 1000), method: 8, compressed: bombDeflated, size: 1000 },
        // Would take another 16 MiB if the reader went on inflating after the lie.
        { name: 'next.npy', data: bombNpy, method: 8, compressed: bombDeflated },
        { name: 'ok.npy', data: honest },
      ]),
    );
    const { value: e, grew } = await measure(() => loadArrays(p));
    assert.ok(e instanceof GruCheckError, String(e));
    assert.equal(e.code, 'BAD_MEMBER');
    assert.match(e.message, /member 'bomb\.npy': inflates past its declared size of 1000 bytes \(refused: possible zip bomb\)/);
    // The overshoot before the lie is noticed is about 1 MB (a 32 MB slice before the fix).
    assert.ok(grew < 8 << 20, `ArrayBuffers grew by ${grew} bytes`);
  });

  it('a member declaring more than DEFLATE can produce from its bytes: refused before inflating', () => {
    const zip = makeZip([{ name: 'lie.npy', data: F4, method: 8, compressed: zlib.deflateRawSync(F4), size: 0x7fffffff }]);
    const m0 = process.memoryUsage().arrayBuffers;
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["'lie.npy'", 'more than DEFLATE can produce']);
    assert.ok(process.memoryUsage().arrayBuffers - m0 < 1 << 20);
  });

  it('CRC-32 mismatch -> CRC_MISMATCH naming the member and both values', () => {
    const zip = makeZip([{ name: 'input.npy', data: F4, crc: (zlib.crc32(F4) ^ 1) >>> 0 }]);
    assertGruError(() => readNpz(zip), 'CRC_MISMATCH', ["'input.npy'", 'CRC-32 mismatch', 'expected 0x']);
  });

  it('maxBytes: a case whose declared total exceeds it -> TOO_LARGE before inflating anything', async () => {
    const p = join(dir, 'big-honest.npz');
    writeFileSync(p, makeZip([{ name: 'big.npy', data: bombNpy, method: 8, compressed: bombDeflated }]));
    const { value: e, grew } = await measure(() => loadArrays(p, { maxBytes: 1 << 20 }));
    assert.ok(e instanceof GruCheckError, String(e));
    assert.equal(e.code, 'TOO_LARGE');
    assert.match(e.message, /members total 16777216 bytes uncompressed, more than the limit of 1048576 bytes/);
    assert.ok(grew < 1 << 20, `ArrayBuffers grew by ${grew} bytes: something was inflated`);
  });

  it('shape (2**40,) with a few bytes of data -> TRUNCATED, nothing allocated', () => {
    const m0 = process.memoryUsage().arrayBuffers;
    assertGruError(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", new Uint8Array(16)), 'x'), 'TRUNCATED', [
      '(1099511627776,) float32 needs 4398046511104 bytes',
    ]);
    assert.ok(process.memoryUsage().arrayBuffers - m0 < 1 << 20);
  });

  it('element counts past 2**53 (or bytes past it) -> TOO_LARGE before any arithmetic goes inexact', () => {
    assertGruError(() => parseNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"), 'x'), 'TOO_LARGE', [
      'more elements than can be addressed',
    ]);
    assertGruError(() => parseNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4503599627370496,), }"), 'x'), 'TOO_LARGE', [
      'needs more bytes than can be addressed',
    ]);
    assertGruError(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551616,), }"), 'x'), 'TOO_LARGE', [
      'header dimension 18446744073709551616 is too large',
    ]);
  });

  it('an input with an empty batch but a 2**40-step time axis -> SHAPE_MISMATCH at once (no 2**40-step loop)', async () => {
    const a = arraysOf('classic_batch_first.npz'); // batch_first: input (B, T, I), h0 (1, B, H)
    const empty = (name: string, shape: number[]): NdArray => ({ name, dtype: 'float32', shape, data: new Float32Array(0) });
    a.set('input', empty('input', [0, 2 ** 40, 4]));
    a.set('output', empty('output', [0, 2 ** 40, 5]));
    a.set('h0', empty('h0', [1, 0, 5]));
    a.set('h_n', empty('h_n', [1, 0, 5]));
    // Refused by validation, before the GRU starts: no work is ever reported (a run that started
    // would report its progress in flops; a 2**40-step loop would never return at all).
    const progress: string[] = [];
    await assertGruErrorAsync(() => checkRef({ source: 'x.npz', arrays: a }, { onProgress: (d, t, phase) => progress.push(`${phase} ${d}/${t}`) }), 'SHAPE_MISMATCH', [
      'input: expected at least one time step and one batch element', '[0, 1099511627776, 4]',
    ]);
    assert.deepEqual(progress.filter((p) => p.startsWith('compute')), [], 'nothing was computed');
  });

  it('an empty candidate and expected with a 2**40-long axis compare without allocating per-step arrays', () => {
    const shape = [0, 2 ** 40, 5];
    const m0 = process.memoryUsage().arrayBuffers;
    const r = compareTensors({ shape, data: new Float32Array(0) }, { shape, data: new Float32Array(0) }, { tensor: 'output', subject: 'candidate', against: 'expected', timeAxis: 1, mapRowAxis: 1 }, { rtol: 0, atol: 0, equalNan: false });
    assert.equal(r.pass, true);
    assert.equal(r.total, 0);
    // No per-step series over the empty tensor's 2**40 steps (nor a map over its rows).
    assert.equal(r.stepMaxAbs, undefined);
    assert.equal(r.errorMap, undefined);
    assert.ok(process.memoryUsage().arrayBuffers - m0 < 1 << 20);
  });

  it('a 1-D tensor whose heatmap row axis is its only axis does not square its size', () => {
    const n = 200_000;
    const r = compareTensors({ shape: [n], data: new Float64Array(n) }, { shape: [n], data: new Float64Array(n).fill(1) }, { tensor: 'h_n', subject: 'candidate', against: 'expected', mapRowAxis: 0 }, { rtol: 0, atol: 0, equalNan: false });
    assert.equal(r.mismatched, n);
    assert.equal(r.errorMap, undefined);
  });
});

// -----------------------------------------------------------------------------------------------

describe('hardening: NaN, Inf and tiny values', () => {
  it('NaN in the input: propagates in the reference; fails honestly (nonFiniteMismatched, requiredAtol null)', async () => {
    const a = arraysOf('classic_batch_first.npz'); // input (B=2, T=3, I=4); output (2, 3, 5)
    a.set('input', withValue(a.get('input')!, flatIndex([1, 1, 2], [2, 3, 4]), NaN));
    const r = await checkRef(await loadArrays(writeCase('nan-input.npz', a)));
    assert.equal(r.pass, false);
    const out = check(r, 'output');
    // batch 1 is NaN from step 1 on (2 steps x 5 features); batch 0 is untouched.
    assert.equal(out.mismatched, 10);
    assert.equal(out.nonFiniteMismatched, 10);
    assert.equal(out.requiredAtol, null);
    assert.ok(Number.isFinite(out.maxAbsError) && metric(out.maxAbsError) < 1e-6, `finite part still measured: ${out.maxAbsError}`);
    assert.equal(out.firstMismatchStep, 1);
    const hn = check(r, 'h_n');
    assert.equal(hn.nonFiniteMismatched, 5);
    assert.equal(hn.requiredAtol, null);
  });

  it('NaN in expected where the reference is NaN too: a mismatch, but a match with equalNan', async () => {
    const a = arraysOf('classic_batch_first.npz');
    a.set('weight_hh_l0', withValue(a.get('weight_hh_l0')!, 0, NaN)); // every state goes NaN after step 0
    const bundle: ArrayBundle = { source: 'nan-w.npz', arrays: a };
    const c = buildCase(bundle);
    const ref = toUserLayout(c, runGruStack({ params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths }, { precision: 'f32' }));
    const refNan = Array.from(ref.output.data).filter(Number.isNaN).length;
    assert.ok(refNan > 0 && refNan < ref.output.data.length, `reference NaN count ${refNan}`);
    // Expected = PyTorch's output with NaN exactly where the reference has NaN.
    const exp = a.get('output')!;
    const data = (exp.data as Float32Array).slice();
    ref.output.data.forEach((v, i) => {
      if (Number.isNaN(v)) data[i] = NaN;
    });
    a.set('output', { ...exp, data });
    a.delete('h_n');
    const strict = check(await checkRef(bundle), 'output');
    assert.equal(strict.pass, false);
    assert.equal(strict.nonFiniteMismatched, refNan);
    assert.equal(strict.requiredAtol, null);
    const lenient = check(await checkRef(bundle, { equalNan: true }), 'output');
    assert.equal(lenient.pass, true, JSON.stringify(lenient));
    assert.equal(lenient.nonFiniteMismatched, 0);
    assert.equal(lenient.requiredAtol, 0);
  });

  it('Inf in the weights and NaN in h0: a result with finite metrics, never a crash', async () => {
    for (const [name, v] of [['weight_ih_l0', Infinity], ['weight_hh_l0', -Infinity], ['bias_hh_l0', Infinity], ['h0', NaN], ['input', 3.4e38]] as const) {
      const a = arraysOf('classic_batch_first.npz');
      a.set(name, withValue(a.get(name)!, 3, v));
      const r = await checkRef(await loadArrays(writeCase(`inf-${name}.npz`, a)));
      for (const k of r.checks) {
        for (const m of [k.maxAbsError, k.maxRelError, k.meanAbsError]) assert.ok(Number.isFinite(m), `${name}: ${JSON.stringify(k)}`);
        if (k.nonFiniteMismatched > 0) assert.equal(k.requiredAtol, null);
      }
    }
  });

  it('zero expected values: relative error stays finite and zeroExpected counts them', async () => {
    const a = arraysOf('classic_batch_first.npz');
    a.set('output', withValue(withValue(a.get('output')!, 0, 0), 7, 0));
    const out = check(await checkRef(await loadArrays(writeCase('zeros.npz', a))), 'output');
    assert.equal(out.zeroExpected, 2);
    assert.ok(Number.isFinite(out.maxRelError), String(out.maxRelError));
    assert.equal(out.mismatched, 2);
  });

  it('subnormal expected values (float64 5e-324): the ratio would overflow; counted in zeroExpected, maxRelError finite', async () => {
    const a = arraysOf('float64.npz');
    a.set('output', withValue(a.get('output')!, 5, 5e-324));
    const out = check(await checkRef(await loadArrays(writeCase('subnormal.npz', a))), 'output');
    assert.equal(out.zeroExpected, 1);
    assert.ok(Number.isFinite(out.maxRelError), String(out.maxRelError));
    assert.deepEqual(JSON.parse(JSON.stringify(out)).maxRelError, out.maxRelError, 'JSON keeps the number (Infinity would become null)');
  });

  it('differences near 1e308 (float64) do not overflow the mean', () => {
    const shape = [4];
    const r = compareTensors({ shape, data: [1.5e308, 1.5e308, 1.5e308, 0] }, { shape, data: [0, 0, 0, 0] }, { tensor: 'h_n', subject: 'reference', against: 'expected' }, { rtol: 0, atol: 0, equalNan: false });
    assert.ok(Number.isFinite(r.meanAbsError) && Math.abs(metric(r.meanAbsError) - 1.125e308) < 1e300, String(r.meanAbsError));
  });
});

// -----------------------------------------------------------------------------------------------

describe("hardening: indices in the tensor's own axis order", () => {
  async function planted(file: string, name: string, arr: string, idx: number[], delta: number): Promise<CheckResult> {
    const a = arraysOf(file);
    const t = a.get(arr)!;
    const flat = flatIndex(idx, t.shape);
    a.set(arr, withValue(t, flat, (t.data as Float32Array)[flat]! + delta));
    const r = await checkRef(await loadArrays(writeCase(name, a)));
    const c = check(r, arr === 'Y' || arr === 'output' ? 'output' : 'h_n');
    assert.equal(c.pass, false);
    assert.equal(c.mismatched, 1);
    return c;
  }

  it('batch_first (B, T, D*H): the planted [1, 2, 3] is reported as [1, 2, 3], first bad step 2', async () => {
    const c = await planted('classic_batch_first.npz', 'plant-bf.npz', 'output', [1, 2, 3], 0.01);
    assert.deepEqual(c.maxAbsIndex, [1, 2, 3]);
    assert.deepEqual(c.maxRelIndex, [1, 2, 3]);
    assert.equal(c.firstMismatchStep, 2);
  });

  it('ONNX Y (T, D, B, H): the planted [0, 1, 2, 3] (backward direction, batch 2) is reported as such', async () => {
    const c = await planted('onnx_lbr1.npz', 'plant-onnx.npz', 'Y', [0, 1, 2, 3], 0.01);
    assert.deepEqual(c.maxAbsIndex, [0, 1, 2, 3]);
    assert.equal(c.firstMismatchStep, 0);
  });

  it('ONNX Y_h (D, B, H): the planted [1, 0, 4] is reported as such', async () => {
    const c = await planted('onnx_lbr1.npz', 'plant-onnx-h.npz', 'Y_h', [1, 0, 4], -0.01);
    assert.deepEqual(c.maxAbsIndex, [1, 0, 4]);
  });

  it('Keras output (B, T, H): the planted [1, 4, 2] is reported as such, first bad step 4', async () => {
    const c = await planted('keras_reset_after.npz', 'plant-keras.npz', 'output', [1, 4, 2], 0.01);
    assert.deepEqual(c.maxAbsIndex, [1, 4, 2]);
    assert.equal(c.firstMismatchStep, 4);
  });

  it('Keras h_n (B, H): the planted [2, 0] is reported as such', async () => {
    const c = await planted('keras_reset_after.npz', 'plant-keras-h.npz', 'h_n', [2, 0], 0.01);
    assert.deepEqual(c.maxAbsIndex, [2, 0]);
  });

  it('a candidate identical to the expected tensors passes all three checks (sanity for the planted ones)', async () => {
    const bundle = await loadArrays(sample('keras_reset_after.npz'));
    const r = await checkRef(bundle, { candidate: readCandidate(bundle) });
    assert.equal(r.pass, true);
    assert.equal(r.checks.length, 6);
  });
});
