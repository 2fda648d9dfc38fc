/**
 * loadArrays: paths to .npz, .npy and directories, and file-system failures. Bad files are written
 * to a temp directory from the real fixtures with one byte edit each.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadArrays } from '../../src/io/index.js';
import { assertGruErrorAsync, assertMatches, centralEntry, expected, fixture, FIXTURES, makeZip } from '../fixtures/io/helpers.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gru-check-io-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('loadArrays: what it loads', () => {
  for (const file of ['plain.npz', 'compressed.npz'] as const) {
    it(`${file}`, async () => {
      const path = join(FIXTURES, file);
      const b = await loadArrays(path);
      assert.equal(b.source, path);
      assert.deepEqual([...b.arrays.keys()].sort(), Object.keys(expected[file]).sort());
      for (const [name, nd] of b.arrays) assertMatches(nd, expected[file][name]!, `${file}:${name}`);
    });
  }

  it('a single .npy: one array named by the stem', async () => {
    const b = await loadArrays(join(FIXTURES, 'npy', 'fortran_be_i8_3d.npy'));
    assert.deepEqual([...b.arrays.keys()], ['fortran_be_i8_3d']);
    assertMatches(b.arrays.get('fortran_be_i8_3d')!, expected.npy.fortran_be_i8_3d!, 'fortran_be_i8_3d');
  });

  it('a directory: *.npy stems, other files and subdirectories ignored, sorted', async () => {
    const b = await loadArrays(join(FIXTURES, 'dir'));
    assert.deepEqual([...b.arrays.keys()], ['h0', 'input']);
    for (const [name, nd] of b.arrays) assertMatches(nd, expected.dir[name]!, `dir:${name}`);
  });

  it('follows symlinks to files and directories', async () => {
    const link = join(tmp, 'link.npz');
    symlinkSync(join(FIXTURES, 'plain.npz'), link);
    assert.equal((await loadArrays(link)).arrays.size, 5);
    const dlink = join(tmp, 'dirlink');
    symlinkSync(join(FIXTURES, 'dir'), dlink);
    assert.equal((await loadArrays(dlink)).arrays.size, 2);
  });

  it('recognises the format by content: an .npz named .bin still loads', async () => {
    const p = join(tmp, 'case.bin');
    copyFileSync(join(FIXTURES, 'compressed.npz'), p);
    assert.equal((await loadArrays(p)).arrays.size, 5);
  });

  it('maxBytes: under the cap loads, over it -> TOO_LARGE', async () => {
    assert.equal((await loadArrays(join(FIXTURES, 'plain.npz'), { maxBytes: 100_000 })).arrays.size, 5);
    const e = await assertGruErrorAsync(() => loadArrays(join(FIXTURES, 'compressed.npz'), { maxBytes: 500 }), 'TOO_LARGE', ['500']);
    assert.equal(e.file, join(FIXTURES, 'compressed.npz'));
    await assertGruErrorAsync(() => loadArrays(join(FIXTURES, 'dir'), { maxBytes: 10 }), 'TOO_LARGE');
    await assertGruErrorAsync(() => loadArrays(join(FIXTURES, 'npy', 'f8.npy'), { maxBytes: 10 }), 'TOO_LARGE');
  });
});

describe('loadArrays: errors carry the file', () => {
  it('missing path -> NOT_FOUND', async () => {
    const p = join(tmp, 'nope.npz');
    const e = await assertGruErrorAsync(() => loadArrays(p), 'NOT_FOUND', ['no such file']);
    assert.equal(e.file, p);
  });

  it('broken symlink -> NOT_FOUND saying so', async () => {
    const p = join(tmp, 'broken.npz');
    symlinkSync(join(tmp, 'gone.npz'), p);
    const e = await assertGruErrorAsync(() => loadArrays(p), 'NOT_FOUND', ['broken symbolic link', 'gone.npz']);
    assert.equal(e.file, p);
  });

  it('symlink loop -> UNREADABLE', async () => {
    const a = join(tmp, 'loop-a.npy');
    const b = join(tmp, 'loop-b.npy');
    symlinkSync(b, a);
    symlinkSync(a, b);
    await assertGruErrorAsync(() => loadArrays(a), 'UNREADABLE', ['symbolic links']);
  });

  it('unreadable (permission denied) -> UNREADABLE', async (t) => {
    if (process.getuid?.() === 0) return t.skip('running as root: permissions are not enforced');
    const p = join(tmp, 'secret.npy');
    copyFileSync(join(FIXTURES, 'npy', 'f4.npy'), p);
    chmodSync(p, 0o000);
    const e = await assertGruErrorAsync(() => loadArrays(p), 'UNREADABLE', ['permission denied']);
    assert.equal(e.file, p);
  });

  it('empty file -> EMPTY_FILE (both extensions)', async () => {
    for (const n of ['empty.npz', 'empty.npy']) {
      const p = join(tmp, n);
      writeFileSync(p, '');
      const e = await assertGruErrorAsync(() => loadArrays(p), 'EMPTY_FILE', ['empty']);
      assert.equal(e.file, p);
    }
  });

  it('neither zip nor npy: the extension picks the error', async () => {
    const z = join(tmp, 'text.npz');
    writeFileSync(z, 'hello, world');
    await assertGruErrorAsync(() => loadArrays(z), 'NOT_ZIP');
    const n = join(tmp, 'text.npy');
    writeFileSync(n, 'hello, world');
    await assertGruErrorAsync(() => loadArrays(n), 'NOT_NPY', ["array 'text'"]);
  });

  it('CRC flipped on disk -> CRC_MISMATCH, file = the .npz, message names the member', async () => {
    const zip = fixture('compressed.npz');
    zip[centralEntry(zip, 'weight_ih_l0.npy') + 16]! ^= 0xff; // edit: corrupt the CRC
    const p = join(tmp, 'case.npz');
    writeFileSync(p, zip);
    const e = await assertGruErrorAsync(() => loadArrays(p), 'CRC_MISMATCH', ["member 'weight_ih_l0.npy': CRC-32 mismatch"]);
    assert.equal(e.file, p);
  });

  it('truncated .npz on disk -> TRUNCATED', async () => {
    const zip = fixture('plain.npz');
    const p = join(tmp, 'cut.npz');
    writeFileSync(p, zip.subarray(0, 700));
    const e = await assertGruErrorAsync(() => loadArrays(p), 'TRUNCATED');
    assert.equal(e.file, p);
  });

  it('short array data inside an .npz member names the member', async () => {
    const npy = fixture('npy/f4.npy');
    const p = join(tmp, 'short.npz');
    writeFileSync(p, makeZip([{ name: 'weight_ih_l0.npy', data: npy.subarray(0, npy.length - 4) }]));
    const e = await assertGruErrorAsync(() => loadArrays(p), 'TRUNCATED', [
      "member 'weight_ih_l0.npy': array data is 44 bytes, header says shape (3, 4) float32 needs 48 bytes",
    ]);
    assert.equal(e.file, p);
  });

  it('an .npz with no members -> MISSING_ARRAY', async () => {
    const p = join(tmp, 'none.npz');
    writeFileSync(p, makeZip([]));
    await assertGruErrorAsync(() => loadArrays(p), 'MISSING_ARRAY', ['no .npy members']);
  });

  it('a directory without .npy files -> MISSING_ARRAY', async () => {
    const d = join(tmp, 'nothing');
    mkdirSync(join(d, 'sub.npy'), { recursive: true }); // a directory named *.npy is not an array
    writeFileSync(join(d, 'readme.txt'), 'x');
    const e = await assertGruErrorAsync(() => loadArrays(d), 'MISSING_ARRAY', ['no .npy files']);
    assert.equal(e.file, d);
  });

  it('a bad .npy in a directory: file = that .npy', async () => {
    const d = join(tmp, 'case-dir');
    mkdirSync(d);
    copyFileSync(join(FIXTURES, 'npy', 'f4.npy'), join(d, 'a.npy'));
    copyFileSync(join(FIXTURES, 'npy', 'refuse_object.npy'), join(d, 'b.npy'));
    const e = await assertGruErrorAsync(() => loadArrays(d), 'OBJECT_DTYPE', ["array 'b'"]);
    assert.equal(e.file, join(d, 'b.npy'));
  });

  it('a broken symlink in a directory is reported, not skipped', async () => {
    const d = join(tmp, 'dangling-dir');
    mkdirSync(d);
    copyFileSync(join(FIXTURES, 'npy', 'f4.npy'), join(d, 'a.npy'));
    symlinkSync(join(d, 'missing.npy'), join(d, 'b.npy'));
    const e = await assertGruErrorAsync(() => loadArrays(d), 'NOT_FOUND', ['broken symbolic link']);
    assert.equal(e.file, join(d, 'b.npy'));
  });
});
