/**
 * torch.save, safetensors and ONNX files through loadArrays: every fixture that must load gives
 * exactly the arrays PyTorch / numpy / onnx wrote (test/fixtures/formats/*.expected.npz, never
 * values computed here), every ONNX graph matches what onnx's own Python package read, and every
 * hostile or mistaken file is refused with its stable code, one line, naming what it refused —
 * with nothing run (a payload would have created a file; it must not exist).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatError, GruCheckError } from '../../src/errors.js';
import { loadArrays, openZip, readOnnx, readSafetensors, readTorchZip } from '../../src/io/index.js';
import type { NdArray } from '../../src/io/types.js';
import onnxProto from 'onnx-proto';
import { assertGruErrorAsync, makeZip } from '../fixtures/io/helpers.js';
import { assertSameArrays, expectedArrays, FORMATS, formatFixture, manifest } from '../fixtures/formats/helpers.js';

const onnxSchema = onnxProto.onnx;

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gru-check-formats-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** The memory a numeric array's data lives in. */
function bufferOf(a: NdArray): ArrayBufferLike {
  assert.ok(ArrayBuffer.isView(a.data), `${a.name}: not a numeric array`);
  return a.data.buffer;
}

const FORMAT_OF: Record<string, string> = { '.pt': 'torch', '.safetensors': 'safetensors', '.onnx': 'onnx' };
const formatOf = (f: string): string => FORMAT_OF[f.slice(f.lastIndexOf('.'))]!;

describe('formats: every fixture reads to exactly what torch / numpy / onnx wrote', () => {
  for (const [file, m] of Object.entries(manifest).filter(([, m]) => m.expect === 'load')) {
    it(`${file}: ${m.holds}`, async () => {
      const b = await loadArrays(join(FORMATS, file));
      assert.equal(b.format, formatOf(file));
      assertSameArrays(b.arrays, expectedArrays(m.expected!), file);
      if (m.dtype) assert.ok([...b.arrays.values()].some((a) => a.dtype === m.dtype), `${file}: some array is ${m.dtype}`);
    });
  }

  it('bfloat16 is reported as bfloat16, widened exactly into a Float32Array', async () => {
    const b = await loadArrays(join(FORMATS, 'gru_bf16.pt'));
    const w = b.arrays.get('weight_ih_l0')!;
    assert.equal(w.dtype, 'bfloat16');
    assert.ok(w.data instanceof Float32Array);
    // Every value is a bfloat16: its low 16 bits are zero.
    const bits = new Uint32Array(Float32Array.from(w.data).buffer);
    assert.ok(bits.every((v) => (v & 0xffff) === 0));
    assert.equal(b.arrays.get('f32_alongside')!.dtype, 'float32');
  });

  it('contiguous tensors are views of their storage; views sharing a storage share its memory', () => {
    const bytes = formatFixture('noncontig.pt');
    const arrays = readTorchZip(openZip(bytes));
    assert.equal(bufferOf(arrays.get('base')!), bytes.buffer, 'base: a view of the file bytes, not a copy');
    assert.equal(bufferOf(arrays.get('flat_offset')!), bytes.buffer, 'flat_offset: a view at an offset');
    assert.notEqual(bufferOf(arrays.get('transposed')!), bytes.buffer, 'transposed: copied out in C order');
    assert.deepEqual(arrays.get('expanded')!.shape, [4, 3]);
  });

  it('a float16 state_dict keeps dtype float16 (data widened to float32, like .npy)', async () => {
    const b = await loadArrays(join(FORMATS, 'gru_f16.pt'));
    for (const a of b.arrays.values()) {
      assert.equal(a.dtype, 'float16');
      assert.ok(a.data instanceof Float32Array);
    }
  });

  it('safetensors: aligned float32 tensors are views of the file bytes', () => {
    const bytes = formatFixture('gru.safetensors');
    const arrays = readSafetensors(bytes);
    assert.equal(bufferOf(arrays.get('weight_ih_l0')!), bytes.buffer);
  });
});

describe('formats: recognised by content, not by name', () => {
  const cases: Array<[string, string, string]> = [
    ['gru_f32.pt', 'weights.npz', 'torch'],
    ['gru_f32.pt', 'weights', 'torch'],
    ['gru.safetensors', 'weights.bin', 'safetensors'],
    ['gru.safetensors', 'weights.npy', 'safetensors'],
    ['gru_l1.onnx', 'model.dat', 'onnx'],
    ['gru_l1.onnx', 'model.npy', 'onnx'],
    ['one_tensor.pt', 'x.pth', 'torch'],
  ];
  for (const [src, name, format] of cases) {
    it(`${src} named ${name} loads as ${format}`, async () => {
      const p = join(tmp, name);
      copyFileSync(join(FORMATS, src), p);
      const b = await loadArrays(p);
      assert.equal(b.format, format);
      assertSameArrays(b.arrays, expectedArrays(manifest[src]!.expected!), `${src} as ${name}`);
    });
  }

  it('a tensor saved alone (torch.save(t, path)) is named by the file stem', async () => {
    const data = new Float32Array([1.5, -2.5, 4]);
    const p = join(tmp, 'bias.pt');
    writeFileSync(p, makeZip([
      { name: 'bias/data.pkl', data: storagePickle({ numel: 3, size: [3], stride: [1], root: 'tensor' }) },
      { name: 'bias/data/0', data: new Uint8Array(data.buffer) },
    ]));
    const b = await loadArrays(p);
    assert.deepEqual([...b.arrays.keys()], ['bias']);
    assert.deepEqual(Array.from(b.arrays.get('bias')!.data as Float32Array), [1.5, -2.5, 4]);
  });

  it('.npz, .npy and directories still load as before', async () => {
    assert.equal((await loadArrays(join(FORMATS, 'gru_f32.pt.expected.npz'))).format, 'npz');
  });

  it('unknown content: the error lists the formats read', async () => {
    const p = join(tmp, 'notes.txt');
    writeFileSync(p, 'just some text, not weights');
    const e = await assertGruErrorAsync(() => loadArrays(p), 'NOT_NPY');
    assert.match(e.hint ?? '', /torch\.save.*safetensors.*onnx/);
  });

  it('an .onnx file that does not decode -> BAD_ONNX, one line', async () => {
    const p = join(tmp, 'broken.onnx');
    writeFileSync(p, Buffer.from([0x08, 0x07, 0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
    await assertGruErrorAsync(() => loadArrays(p), 'BAD_ONNX', ['ONNX model']);
  });

  it('a .safetensors file with a lying header length -> BAD_SAFETENSORS', async () => {
    const p = join(tmp, 'broken.safetensors');
    const b = new Uint8Array(32);
    new DataView(b.buffer).setBigUint64(0, 1000n, true);
    writeFileSync(p, b);
    await assertGruErrorAsync(() => loadArrays(p), 'BAD_SAFETENSORS', ['header length 1000']);
  });
});

describe('formats: --max-bytes is honoured before reading', () => {
  for (const file of ['gru_f32.pt', 'gru.safetensors', 'gru_l2_bidir.onnx', 'gru_bf16.pt']) {
    it(file, async () => {
      await assertGruErrorAsync(() => loadArrays(join(FORMATS, file), { maxBytes: 1000 }), 'TOO_LARGE', ['1000 bytes']);
      assert.ok((await loadArrays(join(FORMATS, file), { maxBytes: 1 << 20 })).arrays.size > 0);
    });
  }

  it('an expanded (stride 0) tensor is counted at its full size, not its storage size', () => {
    // 1 float32 storage element expanded to 2^20 elements: 4 MiB from a few hundred bytes.
    const pkl = storagePickle({ numel: 1, size: [1 << 20], stride: [0] });
    const zip = makeZip([
      { name: 'a/data.pkl', data: pkl },
      { name: 'a/data/0', data: new Uint8Array(4) },
    ]);
    assert.throws(() => readTorchZip(openZip(zip), { maxBytes: 1 << 20 }), (e: GruCheckError) => e.code === 'TOO_LARGE');
    const ok = readTorchZip(openZip(zip), { maxBytes: 8 << 20 });
    assert.equal(ok.get('w')!.data.length, 1 << 20);
  });
});

describe('formats: hostile and mistaken files are refused, nothing runs', () => {
  for (const [file, m] of Object.entries(manifest).filter(([, m]) => m.expect === 'refuse')) {
    it(`${file}: ${m.holds} -> ${m.code}`, async () => {
      if (m.pwned) rmSync(m.pwned, { force: true });
      const path = join(FORMATS, file);
      const e = await assertGruErrorAsync(() => loadArrays(path), m.code!, m.contains ?? []);
      assert.equal(e.file, path);
      assert.ok(!/[\r\n]/.test(formatError(e)));
      if (m.pwned) assert.ok(!existsSync(m.pwned), `${file}: its payload ran`);
    });
  }

  it('the refusal names the global and says nothing ran', async () => {
    const e = await assertGruErrorAsync(() => loadArrays(join(FORMATS, 'evil_os_system.pt')), 'PICKLE_REFUSED', [
      'refusing pickle global os.system: only tensors and OrderedDict are read',
    ]);
    assert.match(e.hint ?? '', /nothing from the file was run/);
  });

  it('a TorchScript archive (torch.jit.save) is refused with what to save instead', () => {
    const zip = makeZip([
      { name: 'm/data.pkl', data: new Uint8Array([0x80, 0x02, 0x4e, 0x2e]) },
      { name: 'm/constants.pkl', data: new Uint8Array([0x80, 0x02, 0x29, 0x2e]) },
      { name: 'm/code/__torch__.py', data: new Uint8Array(1) },
    ]);
    assert.throws(() => readTorchZip(openZip(zip)), (e: GruCheckError) => e.code === 'BAD_MEMBER' && /TorchScript/.test(e.message) && /state_dict/.test(e.hint ?? ''));
  });

  it('a storage member whose size disagrees with its numel -> BAD_MEMBER', () => {
    const zip = makeZip([
      { name: 'a/data.pkl', data: storagePickle({ numel: 4, size: [4], stride: [1] }) },
      { name: 'a/data/0', data: new Uint8Array(12) },
    ]);
    assert.throws(() => readTorchZip(openZip(zip)), (e: GruCheckError) => e.code === 'BAD_MEMBER' && /12 bytes, expected 16/.test(e.message));
  });

  it("byteorder 'big' (PyTorch >= 2.1 on a big-endian machine) is honoured; anything else refused", () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 1.5, false);
    new DataView(data.buffer).setFloat32(4, -2.25, false);
    const mk = (order: string) =>
      makeZip([
        { name: 'a/data.pkl', data: storagePickle({ numel: 2, size: [2], stride: [1] }) },
        { name: 'a/byteorder', data: new TextEncoder().encode(order) },
        { name: 'a/data/0', data },
      ]);
    assert.deepEqual(Array.from(readTorchZip(openZip(mk('big'))).get('w')!.data as Float32Array), [1.5, -2.25]);
    assert.throws(() => readTorchZip(openZip(mk('middle'))), (e: GruCheckError) => e.code === 'BAD_MEMBER');
  });

  it('a .npz with a member named data.pkl at the top (no folder) is still an .npz, refused as one', async () => {
    const p = join(tmp, 'odd.npz');
    writeFileSync(p, makeZip([{ name: 'data.pkl', data: new Uint8Array([0x80, 0x02, 0x4e, 0x2e]) }]));
    await assertGruErrorAsync(() => loadArrays(p), 'BAD_MEMBER', ['expected an .npy member']);
  });
});

describe('formats: ONNX graphs read as onnx itself reads them', () => {
  for (const [file, m] of Object.entries(manifest).filter(([, m]) => m.graph)) {
    it(file, async () => {
      const want = JSON.parse(readFileSync(join(FORMATS, m.graph!), 'utf8')) as {
        opsetVersion: number;
        nodes: Array<{ name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attributes: Record<string, { type: string; value?: unknown; dtype?: string; shape?: number[] }> }>;
        inputs: unknown;
        outputs: unknown;
        initializerNames: string[];
      };
      const b = await loadArrays(join(FORMATS, file));
      const g = b.onnx!;
      assert.equal(g.opsetVersion, want.opsetVersion);
      // JSON has no undefined: a value without a shape is null there.
      const plain = (vs: typeof g.inputs) => vs.map((v) => ({ ...v, shape: v.shape ?? null }));
      assert.deepEqual(plain(g.inputs), want.inputs);
      assert.deepEqual(plain(g.outputs), want.outputs);
      assert.deepEqual(g.initializerNames, want.initializerNames);
      assert.deepEqual([...b.arrays.keys()], want.initializerNames);
      assert.equal(g.nodes.length, want.nodes.length);
      g.nodes.forEach((n, i) => {
        const w = want.nodes[i]!;
        assert.deepEqual({ name: n.name, opType: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs }, { name: w.name, opType: w.opType, domain: w.domain, inputs: w.inputs, outputs: w.outputs });
        assert.deepEqual(Object.keys(n.attributes).sort(), Object.keys(w.attributes).sort(), `${n.name}: attribute names`);
        for (const [k, a] of Object.entries(n.attributes)) {
          const wa = w.attributes[k]!;
          assert.equal(a.type, wa.type, `${n.name}.${k}: type`);
          if (a.type === 'tensor') {
            const t: NdArray = a.value;
            assert.deepEqual(t.shape, wa.shape, `${n.name}.${k}: shape`);
            assert.deepEqual(Array.from(t.data as ArrayLike<number | bigint>, Number), wa.value, `${n.name}.${k}: values`);
          } else if (a.type !== 'other') {
            assert.deepEqual(a.value, wa.value, `${n.name}.${k}: value`);
          }
        }
      });
    });
  }

  it('a 2-layer bidirectional export has two GRU nodes with torch input/output names', async () => {
    const g = (await loadArrays(join(FORMATS, 'gru_l2_bidir.onnx'))).onnx!;
    const grus = g.nodes.filter((n) => n.opType === 'GRU');
    assert.equal(grus.length, 2);
    for (const n of grus) {
      assert.deepEqual(n.attributes.direction, { type: 'string', value: 'bidirectional' });
      assert.deepEqual(n.attributes.hidden_size, { type: 'int', value: 4 });
    }
    assert.deepEqual(g.inputs.map((v) => v.name), ['input', 'h0']);
    assert.deepEqual(g.outputs.map((v) => v.name), ['output', 'h_n']);
  });

  it('ONNX from memory: readOnnx gives the same initializers', () => {
    const m = readOnnx(formatFixture('encodings.onnx'));
    assertSameArrays(m.arrays, expectedArrays('encodings.onnx.expected.npz'), 'encodings.onnx');
  });
});

/** A pickle of {'w': _rebuild_tensor_v2(storage('0', numel), 0, size, stride, False, OrderedDict())}. */
export function storagePickle(o: { numel: number; size: number[]; stride: number[]; offset?: number; root?: 'dict' | 'tensor' }): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const str = (s: string) => {
    const b = enc.encode(s);
    parts.push(0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b);
  };
  const int = (v: number) => {
    parts.push(0x4a, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  };
  const tuple = (vs: number[]) => {
    parts.push(0x28);
    vs.forEach(int);
    parts.push(0x74);
  };
  const dict = o.root !== 'tensor';
  parts.push(0x80, 0x02);
  if (dict) {
    parts.push(0x7d, 0x28);
    str('w');
  }
  parts.push(...enc.encode('ctorch._utils\n_rebuild_tensor_v2\n'), 0x28, 0x28);
  str('storage');
  parts.push(...enc.encode('ctorch\nFloatStorage\n'));
  str('0');
  str('cpu');
  int(o.numel);
  parts.push(0x74, 0x51);
  int(o.offset ?? 0);
  tuple(o.size);
  tuple(o.stride);
  parts.push(0x89, ...enc.encode('ccollections\nOrderedDict\n'), 0x29, 0x52, 0x74, 0x52);
  if (dict) parts.push(0x75);
  parts.push(0x2e);
  return Uint8Array.from(parts);
}

describe('formats: ONNX models built here with the same schema (onnx-proto encoder)', () => {
  // These build ModelProto bytes directly, for shapes torch.onnx.export never writes.
  const model = (initializer: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Uint8Array =>
    onnxSchema.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph: { name: 'g', initializer, ...extra } }).finish();

  it('dims claiming 2**28 or 2**40 elements over 8 bytes of raw_data: refused before allocating', () => {
    const b = model([{ name: 'w', dataType: 1, dims: [2 ** 14, 2 ** 14], rawData: new Uint8Array(8) }]);
    assert.throws(() => readOnnx(b), (e: GruCheckError) => e.code === 'BAD_ONNX' && /raw_data is 8 bytes/.test(e.message));
    const huge = model([{ name: 'w', dataType: 1, dims: [2 ** 20, 2 ** 20], rawData: new Uint8Array(8) }]);
    assert.throws(() => readOnnx(huge), (e: GruCheckError) => e.code === 'TOO_LARGE');
  });

  it('float_data with fewer values than the dims say -> BAD_ONNX', () => {
    const b = model([{ name: 'w', dataType: 1, dims: [2, 3], floatData: [1, 2, 3] }]);
    assert.throws(() => readOnnx(b), (e: GruCheckError) => e.code === 'BAD_ONNX' && /float_data holds 3 values/.test(e.message));
  });

  it('a STRING tensor is refused by name', () => {
    const b = model([{ name: 'names', dataType: 8, dims: [1], stringData: [new Uint8Array([0x61])] }]);
    assert.throws(() => readOnnx(b), (e: GruCheckError) => e.code === 'UNSUPPORTED_ONNX' && /STRING/.test(e.message));
  });

  it('two initializers with one name -> DUPLICATE_MEMBER', () => {
    const w = { name: 'w', dataType: 1, dims: [1], floatData: [1] };
    assert.throws(() => readOnnx(model([w, w])), (e: GruCheckError) => e.code === 'DUPLICATE_MEMBER');
  });

  it('no graph, or no ir_version -> BAD_ONNX (bytes that merely decode are not a model)', () => {
    assert.throws(() => readOnnx(onnxSchema.ModelProto.encode({ irVersion: 8 }).finish()), (e: GruCheckError) => e.code === 'BAD_ONNX');
    assert.throws(() => readOnnx(onnxSchema.ModelProto.encode({ graph: { name: 'g' } }).finish()), (e: GruCheckError) => e.code === 'BAD_ONNX');
  });

  it('subgraphs nested 20000 deep (If/Loop bodies): one error, no crash', () => {
    // ModelProto.graph(7) > GraphProto.node(1) > NodeProto.attribute(5) > AttributeProto.g(6) > ...
    // Written outside-in in one pass: each level's header is a tag and the varint size of all below.
    const headers: number[][] = [];
    let size = 0;
    for (let i = 0; i < 60000; i++) {
      const field = [6, 5, 1][i % 3]!;
      const len: number[] = [];
      let n = size;
      do {
        len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>>= 7;
      } while (n);
      headers.push([(field << 3) | 2, ...len]);
      size += 1 + len.length;
    }
    const len7: number[] = [];
    for (let n = size; ; ) {
      len7.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
      if (!n) break;
    }
    const bytes = Uint8Array.from([0x08, 0x08, 0x3a, ...len7, ...headers.reverse().flat()]);
    let r: unknown;
    try {
      r = readOnnx(bytes);
    } catch (e) {
      r = e;
    }
    // Either protobufjs decodes it (and we never walk subgraphs) or the stack runs out: both end here.
    assert.ok(!(r instanceof Error) || (r instanceof GruCheckError && r.code === 'BAD_ONNX'), String(r));
  });
});
