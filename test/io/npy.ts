/**
 * parseNpy against files written by real numpy (test/fixtures/io/make_io_fixtures.py): every
 * dtype, both byte orders, C and Fortran order, header versions, and each refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float16ToFloat32 } from 'npyjs';
import { parseNpy } from '../../src/io/npy.js';
import { assertGruError, assertMatches, expected, fixture, npyBytes } from '../fixtures/io/helpers.js';

describe('parseNpy: numpy-written fixtures', () => {
  for (const [name, e] of Object.entries(expected.npy)) {
    it(`${name}: ${e.dtype} ${JSON.stringify(e.shape)} matches numpy`, () => {
      const nd = parseNpy(fixture(`npy/${name}.npy`), name);
      assert.equal(nd.name, name);
      assertMatches(nd, e, name);
    });
  }
  for (const [name, e] of Object.entries(expected.versions)) {
    it(`format version ${name[1]}.0 header`, () => {
      const bytes = fixture(`npy/${name}.npy`);
      assert.equal(bytes[6], Number(name[1]));
      assertMatches(parseNpy(bytes, name), e, name);
    });
  }

  it('0-d unicode config string is a one-element string list', () => {
    const nd = parseNpy(fixture('npy/config.npy'), 'config');
    assert.deepEqual(nd.shape, []);
    assert.deepEqual(nd.data, ['{"batch_first": true}']);
    assert.deepEqual(JSON.parse((nd.data as string[])[0]!), { batch_first: true });
  });

  it('Fortran order is transposed into C order (2-D and 3-D, same values as the C-order file)', () => {
    const c = parseNpy(fixture('npy/f4.npy'), 'c');
    const f = parseNpy(fixture('npy/fortran_f4_2d.npy'), 'f');
    assert.deepEqual(f.shape, [3, 4]);
    assert.deepEqual(Array.from(f.data as Float32Array), Array.from(c.data as Float32Array));
    const f3 = parseNpy(fixture('npy/fortran_f8_3d.npy'), 'f3');
    // numpy: np.arange(24).reshape(2, 3, 4) * 0.5 - 3, so C-order element i is i * 0.5 - 3
    assert.deepEqual(Array.from(f3.data as Float64Array), Array.from({ length: 24 }, (_, i) => i * 0.5 - 3));
  });

  it('big-endian data equals the little-endian values', () => {
    const le = parseNpy(fixture('npy/f4.npy'), 'le');
    const be = parseNpy(fixture('npy/be_f4.npy'), 'be');
    assert.deepEqual(be.shape, [4, 3]);
    assert.deepEqual(Array.from(be.data as Float32Array), Array.from(le.data as Float32Array));
  });

  it('float16 keeps dtype float16, widened exactly to Float32Array', () => {
    const nd = parseNpy(fixture('npy/f2.npy'), 'f2');
    assert.equal(nd.dtype, 'float16');
    assert.ok(nd.data instanceof Float32Array);
    // edge bit patterns, checked against the IEEE definitions
    const cases: Array<[number, number]> = [
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x0400, 2 ** -14],
      [0x3c00, 1],
      [0x7bff, 65504],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x8000, -0],
    ];
    for (const [bits, want] of cases) {
      const one = parseNpy(
        npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", new Uint8Array([bits & 0xff, bits >> 8])),
        'h',
      );
      assert.ok(Object.is((one.data as Float32Array)[0], want), `0x${bits.toString(16)}`);
      assert.ok(Object.is(Math.fround(float16ToFloat32(bits)), want));
    }
    const nan = parseNpy(npyBytes("{'descr': '>f2', 'fortran_order': False, 'shape': (), }", new Uint8Array([0x7e, 0x00])), 'h');
    assert.ok(Number.isNaN((nan.data as Float32Array)[0]));
  });
});

describe('parseNpy: views, copies and buffer bounds', () => {
  it('aligned little-endian C-order data is a view of the input, of exactly the array length', () => {
    const file = fixture('npy/f4.npy');
    // The .npy followed by other bytes in the same buffer, like a stored member inside an .npz.
    const big = new Uint8Array(file.length + 64);
    big.set(file);
    big.fill(0xff, file.length);
    const nd = parseNpy(big.subarray(0, file.length), 'w');
    assert.equal((nd.data as Float32Array).buffer, big.buffer, 'expected a view, not a copy');
    assert.equal((nd.data as Float32Array).length, 12, 'view must not run to the end of the buffer');
  });

  it('misaligned data is copied and still correct', () => {
    const file = fixture('npy/f8.npy');
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const nd = parseNpy(big.subarray(3), 'f8');
    assert.notEqual((nd.data as Float64Array).buffer, big.buffer);
    assertMatches(nd, expected.npy.f8!, 'f8');
  });

  it('big-endian and Fortran data are copies (input bytes untouched)', () => {
    const file = fixture('npy/be_f8.npy');
    const before = file.slice();
    const nd = parseNpy(file, 'be');
    assert.notEqual((nd.data as Float64Array).buffer, file.buffer);
    assert.deepEqual(file, before);
  });

  it('empty (0, 3) array', () => {
    const nd = parseNpy(fixture('npy/empty_f4.npy'), 'e');
    assert.deepEqual(nd.shape, [0, 3]);
    assert.equal((nd.data as Float32Array).length, 0);
  });
});

describe('parseNpy: refusals', () => {
  it('object array saved with allow_pickle=True -> OBJECT_DTYPE, never unpickled', () => {
    assertGruError(() => parseNpy(fixture('npy/refuse_object.npy'), 'obj'), 'OBJECT_DTYPE', ["'obj'", '|O', 'unpickling']);
  });
  it('structured dtype (list descr) -> OBJECT_DTYPE', () => {
    assertGruError(() => parseNpy(fixture('npy/refuse_structured.npy'), 'rec'), 'OBJECT_DTYPE', ["'rec'", 'structured']);
  });
  it('complex -> UNSUPPORTED_DTYPE', () => {
    assertGruError(() => parseNpy(fixture('npy/refuse_complex.npy'), 'cx'), 'UNSUPPORTED_DTYPE', ["'cx'", 'complex', '<c8']);
  });
  it('datetime64 -> UNSUPPORTED_DTYPE', () => {
    assertGruError(() => parseNpy(fixture('npy/refuse_datetime.npy'), 'dt'), 'UNSUPPORTED_DTYPE', ["'dt'", '<M8[D]']);
  });
  it('float128 / bytes / void -> UNSUPPORTED_DTYPE', () => {
    for (const d of ['<f16', '|S4', '|V8', '<x4']) {
      assertGruError(() => parseNpy(npyBytes(`{'descr': '${d}', 'fortran_order': False, 'shape': (), }`), 'a'), 'UNSUPPORTED_DTYPE', [d]);
    }
  });

  it('empty input -> EMPTY_FILE', () => {
    assertGruError(() => parseNpy(new Uint8Array(0), 'w'), 'EMPTY_FILE', ["'w'"]);
  });
  it('bad magic -> NOT_NPY', () => {
    const b = fixture('npy/f4.npy');
    b[1] = 0x58; // 'NUMPY' -> 'XUMPY'
    assertGruError(() => parseNpy(b, 'w'), 'NOT_NPY', ["'w'", 'magic']);
    assertGruError(() => parseNpy(new TextEncoder().encode('hello world'), 'txt'), 'NOT_NPY', ["'txt'"]);
  });
  it('header length past the end -> TRUNCATED', () => {
    const b = fixture('npy/f4.npy');
    assertGruError(() => parseNpy(b.subarray(0, 60), 'w'), 'TRUNCATED', ["'w'", 'header length 118']);
    assertGruError(() => parseNpy(b.subarray(0, 9), 'w'), 'TRUNCATED', ["'w'"]);
  });
  it('data shorter than shape x itemsize -> TRUNCATED, stating both sizes', () => {
    const b = fixture('npy/f4.npy'); // (3, 4) float32 = 48 bytes of data after a 128-byte header
    assertGruError(() => parseNpy(b.subarray(0, b.length - 8), 'weight_ih_l0'), 'TRUNCATED', [
      "array 'weight_ih_l0': array data is 40 bytes, header says shape (3, 4) float32 needs 48 bytes",
    ]);
  });
  it('claimed size checked before allocating: a 2^40-element claim in a tiny file -> TRUNCATED', () => {
    const b = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", new Uint8Array(8));
    assertGruError(() => parseNpy(b, 'huge'), 'TRUNCATED', ['needs 8796093022208 bytes']);
  });
  it('element count past 2^53 -> TOO_LARGE', () => {
    const b = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }");
    assertGruError(() => parseNpy(b, 'huge'), 'TOO_LARGE', ["'huge'"]);
  });
  it('trailing bytes after the data are refused (BAD_HEADER), not silently ignored', () => {
    const b = fixture('npy/f4.npy');
    const longer = new Uint8Array(b.length + 4);
    longer.set(b);
    assertGruError(() => parseNpy(longer, 'w'), 'BAD_HEADER', ['array data is 52 bytes', 'needs 48 bytes', '4 unexpected trailing bytes']);
  });
  it('unknown format version -> BAD_HEADER', () => {
    const b = fixture('npy/f4.npy');
    b[6] = 4;
    assertGruError(() => parseNpy(b, 'w'), 'BAD_HEADER', ['version', '4.0']);
  });
});

describe('parseNpy: strict header parser', () => {
  const good = (h: string, data = new Uint8Array(4)) => parseNpy(npyBytes(h, data), 'a');
  const bad = (h: string, parts: string[] = []) => assertGruError(() => good(h), 'BAD_HEADER', ["'a'", ...parts]);

  it('accepts numpy spellings: key order, double quotes, no trailing comma, `L` ints, = and | orders', () => {
    assert.deepEqual(good("{'shape': (1,), 'fortran_order': False, 'descr': '<f4'}").shape, [1]);
    assert.deepEqual(good('{"descr": "<i4", "fortran_order": False, "shape": (1L,)}').shape, [1]);
    assert.equal(good("{'descr': '=u4', 'fortran_order': True, 'shape': (1,), }").dtype, 'uint32');
    assert.equal(good("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }").dtype, 'uint8');
    assert.deepEqual(good("{'descr':'<f4','fortran_order':False,'shape':()}").shape, []);
  });
  it('refuses anything that is not the three-key literal dict', () => {
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", ['not a tuple']);
    bad("{'descr': '<f4', 'fortran_order': False, }", ["missing key 'shape'"]);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", ["got 'extra'"]);
    bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", ['twice']);
    bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", ['fortran_order']);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", ['shape']);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (01,)}", ['leading zero']);
    bad("{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (1,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", ['after the header']);
    bad("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,)}", ['escape']);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", ['end of the header']);
    bad("['descr', '<f4']", ['dict']);
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 'a')}", ['shape']);
  });
  it('refuses deep nesting without blowing the stack', () => {
    bad(`{'descr': ${'('.repeat(5000)}`, ['nesting']);
  });
});
