/**
 * readNpz against np.savez / np.savez_compressed archives, and bad archives derived from them by
 * one visible byte edit (or, where numpy cannot write the case, built with the tiny zip writer in
 * fixtures/io/helpers.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { parseNpy } from '../../src/io/npy.js';
import { readNpz } from '../../src/io/npz.js';
import {
  assertGruError,
  assertMatches,
  centralEntry,
  expected,
  fixture,
  localEntry,
  makeZip,
  npyBytes,
  renameMember,
} from '../fixtures/io/helpers.js';

const NAMES = ['bias_ih_l0', 'config', 'lengths', 'weight_hh_l0', 'weight_ih_l0'];

describe('readNpz: numpy archives', () => {
  for (const file of ['plain.npz', 'compressed.npz'] as const) {
    it(`${file}: every member decodes to numpy's values`, () => {
      const members = readNpz(fixture(file));
      assert.deepEqual([...members.keys()].sort(), NAMES);
      for (const [name, bytes] of members) assertMatches(parseNpy(bytes, name), expected[file][name]!, `${file}:${name}`);
    });
  }

  it('numpy writes ZIP64 extra fields in every local header (so the fixtures exercise them)', () => {
    const zip = fixture('plain.npz');
    const dv = new DataView(zip.buffer);
    const lo = localEntry(zip, 'lengths.npy');
    assert.equal(dv.getUint32(lo + 18, true), 0xffffffff, 'local compressed size defers to ZIP64');
    assert.equal(dv.getUint16(lo + 30 + 11, true), 1, 'extra field id 1 = ZIP64');
  });

  it('stored members are views of the archive bytes, not copies', () => {
    const zip = fixture('plain.npz');
    for (const m of readNpz(zip).values()) assert.equal(m.buffer, zip.buffer);
  });

  it('deflated members are inflated into their own exact-size buffer', () => {
    const zip = fixture('compressed.npz');
    for (const m of readNpz(zip).values()) {
      assert.notEqual(m.buffer, zip.buffer);
      assert.equal(m.byteLength, m.buffer.byteLength);
    }
  });

  it('ZIP64 end-of-central-directory record and ZIP64 central sizes/offsets', () => {
    const npy = fixture('npy/f4.npy');
    const zip = makeZip(
      [
        { name: 'a.npy', data: npy },
        { name: 'b.npy', data: npy, method: 8 },
      ],
      { zip64: true },
    );
    const m = readNpz(zip);
    assert.deepEqual([...m.keys()], ['a', 'b']);
    assertMatches(parseNpy(m.get('b')!, 'f4'), expected.npy.f4!, 'zip64 b');
  });

  it('an archive with no members is an empty map (the loader decides that is an error)', () => {
    assert.equal(readNpz(makeZip([])).size, 0);
  });
});

describe('readNpz: bad archives', () => {
  it('empty -> EMPTY_FILE', () => {
    assertGruError(() => readNpz(new Uint8Array(0)), 'EMPTY_FILE', ['empty']);
  });

  it('not a zip -> NOT_ZIP', () => {
    assertGruError(() => readNpz(fixture('npy/f4.npy')), 'NOT_ZIP', ['expected a zip archive', '93 4e 55 4d']);
    assertGruError(() => readNpz(new Uint8Array([1, 2])), 'NOT_ZIP');
  });

  it('truncated (end cut off) -> TRUNCATED', () => {
    const zip = fixture('plain.npz');
    for (const keep of [zip.length - 1, Math.floor(zip.length / 2), 40]) {
      assertGruError(() => readNpz(zip.subarray(0, keep)), 'TRUNCATED', ['truncated']);
    }
  });

  it('central directory pointing past the file -> TRUNCATED', () => {
    const zip = fixture('plain.npz');
    const dv = new DataView(zip.buffer);
    const eocd = zip.length - 22;
    dv.setUint32(eocd + 16, dv.getUint32(eocd + 16, true) + 1000, true); // edit: CD offset += 1000
    assertGruError(() => readNpz(zip), 'TRUNCATED', ['central directory']);
  });

  it('CRC-32 field flipped in the central directory -> CRC_MISMATCH naming the member', () => {
    for (const file of ['plain.npz', 'compressed.npz']) {
      const zip = fixture(file);
      zip[centralEntry(zip, 'weight_ih_l0.npy') + 16]! ^= 0x01; // edit: flip one CRC bit
      assertGruError(() => readNpz(zip), 'CRC_MISMATCH', ["member 'weight_ih_l0.npy': CRC-32 mismatch: expected 0x"]);
    }
  });

  it('one data byte flipped in a stored member -> CRC_MISMATCH', () => {
    const zip = fixture('plain.npz');
    const lo = localEntry(zip, 'lengths.npy');
    zip[lo + 30 + 11 + 20 + 130]! ^= 0x40; // edit: a byte of lengths.npy's array data
    assertGruError(() => readNpz(zip), 'CRC_MISMATCH', ["member 'lengths.npy'"]);
  });

  it('duplicate member names -> DUPLICATE_MEMBER', () => {
    const zip = renameMember(fixture('plain.npz'), 'weight_hh_l0.npy', 'weight_ih_l0.npy'); // edit: rename
    assertGruError(() => readNpz(zip), 'DUPLICATE_MEMBER', ["member 'weight_ih_l0.npy'", 'more than once']);
  });

  it('a member that is not *.npy -> BAD_MEMBER', () => {
    const zip = renameMember(fixture('plain.npz'), 'config.npy', 'config.txt'); // edit: rename
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'config.txt'", '.npy']);
  });

  it('unsupported compression method -> BAD_MEMBER', () => {
    const zip = fixture('compressed.npz');
    const dv = new DataView(zip.buffer);
    dv.setUint16(centralEntry(zip, 'lengths.npy') + 10, 12, true); // edit: method 8 -> 12 (bzip2)
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'lengths.npy'", 'compression method', 'got 12']);
  });

  it('encrypted member -> BAD_MEMBER', () => {
    const zip = makeZip([{ name: 'a.npy', data: new Uint8Array(4), flags: 1 }]);
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'a.npy'", 'encrypted']);
  });

  it('local header naming another member -> BAD_MEMBER', () => {
    const zip = fixture('plain.npz');
    zip[localEntry(zip, 'config.npy') + 30] = 0x43; // edit: local name 'config.npy' -> 'Config.npy'
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'config.npy'", "'Config.npy'"]);
  });

  it('zip bomb: a member inflating past its declared size is refused while inflating', () => {
    const big = new Uint8Array(8 * 1024 * 1024); // 8 MiB of zeros deflates to ~8 KiB
    const bomb = makeZip([
      { name: 'bomb.npy', data: big, method: 8, size: 1000, crc: 0 },
      { name: 'next.npy', data: new Uint8Array(10), method: 8, size: 10 },
    ]);
    assertGruError(() => readNpz(bomb), 'BAD_MEMBER', ["member 'bomb.npy'", 'inflates past its declared size of 1000 bytes']);
  });

  it('a declared size DEFLATE could never produce is refused before allocating', () => {
    const zip = makeZip([{ name: 'a.npy', data: new Uint8Array(100), method: 8, size: 2 ** 32 - 2 }]);
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'a.npy'", 'more than DEFLATE can produce']);
  });

  it('a member inflating short of its declared size -> BAD_MEMBER', () => {
    const zip = makeZip([{ name: 'a.npy', data: new Uint8Array(100).fill(7), method: 8, size: 101 }]);
    assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'a.npy'", 'inflates to 100 bytes', 'declared size of 101']);
  });

  it('deflate stream cut short -> TRUNCATED', () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 7919) % 251);
    const full = zlib.deflateRawSync(data);
    const zip = makeZip([{ name: 'a.npy', data, method: 8, compressed: full.subarray(0, full.length >> 1) }]);
    assertGruError(() => readNpz(zip), 'TRUNCATED', ["member 'a.npy'", 'ends early']);
  });

  it('garbage deflate data -> BAD_MEMBER (fflate errors are wrapped)', () => {
    const zip = makeZip([{ name: 'a.npy', data: new Uint8Array(10), method: 8, compressed: new Uint8Array([0xff, 0xff, 0xff, 0xff]) }]);
    const err = assertGruError(() => readNpz(zip), 'BAD_MEMBER', ["member 'a.npy'"]);
    assert.match(err.message, /corrupt|declared size/);
  });

  it('maxBytes caps the total uncompressed size before inflating -> TOO_LARGE', () => {
    assertGruError(() => readNpz(fixture('compressed.npz'), { maxBytes: 1000 }), 'TOO_LARGE', ['limit of 1000 bytes']);
    assert.equal(readNpz(fixture('compressed.npz'), { maxBytes: 1_000_000 }).size, 5);
  });

  it('a member whose .npy is short is readNpz-valid but parseNpy names the member', () => {
    const npy = fixture('npy/f4.npy');
    const short = npy.subarray(0, npy.length - 4);
    const members = readNpz(makeZip([{ name: 'w.npy', data: short, method: 8 }]));
    assertGruError(() => parseNpy(members.get('w')!, 'w', { label: "member 'w.npy'" }), 'TRUNCATED', [
      "member 'w.npy': array data is 44 bytes",
    ]);
  });

  it('builds .npy members by hand too (helper sanity)', () => {
    const m = readNpz(makeZip([{ name: 'x.npy', data: npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([1, 2])) }]));
    assert.deepEqual(Array.from(parseNpy(m.get('x')!, 'x').data as Uint8Array), [1, 2]);
  });
});
