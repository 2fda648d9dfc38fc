/**
 * Fuzz properties for the weight-format readers (torch.save + the restricted unpickler,
 * safetensors, ONNX, Keras .weights.h5 / .keras), shared by test/io/formats-fuzz.ts (fixed seeds, part of `npm test`)
 * and test/fuzz/run-fuzz.ts (random seed, more runs). The contract is props.ts's: every outcome is
 * a value that holds together or a one-line GruCheckError with a known code; never another error,
 * never a hang, never an allocation the bytes and maxBytes do not justify; nothing in a pickle runs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { GruCheckError } from '../../src/errors.js';
import { openZip, readZipMember } from '../../src/io/npz.js';
import { readOnnx } from '../../src/io/onnx.js';
import { flattenTensors, unpickle } from '../../src/io/pickle.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readTorchZip } from '../../src/io/torch.js';
import type { NdArray } from '../../src/io/types.js';
import { readKerasArchive, readKerasWeightsH5, type KerasWeights } from '../../src/io/keras-file.js';
import { parseNpy } from '../../src/io/npy.js';
import { buildCase } from '../../src/model/case.js';
import { ROOT } from '../helpers.js';
import { formatFixture } from '../fixtures/formats/helpers.js';
import { makeZip } from '../fixtures/io/helpers.js';
import { applyByteOps, assertNdArray, bounded, byteOpsArb, outcome, type ByteOp } from './props.js';

/** Where a pickle payload in these properties would leave a mark if anything ever ran it. */
export const PICKLE_PWNED = '/tmp/gru-check-pwned-by-a-fuzzed-pickle';
const MAX = 1 << 20;

/** Outcomes per property (values vs refusals), so a run can show both paths were exercised. */
export const outcomes: Record<string, { read: number; refused: number }> = {};
function count(prop: string, r: unknown): void {
  const o = (outcomes[prop] ??= { read: 0, refused: 0 });
  if (r instanceof GruCheckError) o.refused++;
  else o.read++;
}

function checkArrays(r: Map<string, NdArray> | GruCheckError, where: string, maxBytes: number): void {
  if (r instanceof GruCheckError) return;
  let bytes = 0;
  for (const [name, nd] of r) {
    assertNdArray(nd, `${where}: ${name}`);
    bytes += nd.data.length * (ArrayBuffer.isView(nd.data) ? (nd.data as Float32Array).BYTES_PER_ELEMENT : 8);
  }
  assert.ok(bytes <= 2 * maxBytes, `${where}: ${bytes} bytes of arrays past twice maxBytes ${maxBytes}`);
}

// ---------------------------------------------------------------------------------------------
// torch.save

/** Real torch.save files split into members, so a mutated pickle can be re-zipped with good CRCs. */
export function torchSources(): Array<{ name: string; members: Array<{ name: string; data: Uint8Array }>; pkl: string }> {
  return ['gru_f32.pt', 'noncontig.pt', 'checkpoint.pt', 'gru_bf16.pt', 'gru_params.pt', 'model_prefix.pt', 'one_tensor.pt'].map((name) => {
    const zip = openZip(formatFixture(name));
    const members = zip.entries.map((e) => ({ name: e.name, data: readZipMember(zip, e).slice() }));
    return { name, members, pkl: members.find((m) => m.name.endsWith('/data.pkl'))!.name };
  });
}

const readTorch = (bytes: Uint8Array, maxBytes: number) => readTorchZip(openZip(bytes, { maxBytes }), { maxBytes });

/** Byte edits anywhere in a real torch.save zip (most end at a CRC or zip check). */
export function torchZipMutationProperty(): fc.IPropertyWithHooks<[number, ByteOp[]]> {
  const sources = ['gru_f32.pt', 'noncontig.pt', 'gru_f16.pt'].map((n) => ({ n, b: formatFixture(n) }));
  return fc.property(fc.nat({ max: sources.length - 1 }), byteOpsArb, (which, ops) => {
    const s = sources[which]!;
    const where = `readTorchZip(${s.n} ${JSON.stringify(ops)})`;
    const r = bounded(() => outcome(() => readTorch(applyByteOps(s.b, ops), MAX), where), where, { bytes: 16 << 20 });
    count('torch-zip', r);
    checkArrays(r, where, MAX);
  });
}

/** Byte edits inside the pickle only, re-zipped with correct CRCs: the unpickler meets every one. */
export function pickleMutationProperty(): fc.IPropertyWithHooks<[number, ByteOp[]]> {
  const sources = torchSources();
  return fc.property(fc.nat({ max: sources.length - 1 }), byteOpsArb, (which, ops) => {
    const s = sources[which]!;
    const members = s.members.map((m) => (m.name === s.pkl ? { name: m.name, data: applyByteOps(m.data, ops) } : m));
    const where = `pickle of ${s.name} ${JSON.stringify(ops)}`;
    const r = bounded(() => outcome(() => readTorch(makeZip(members), MAX), where), where, { bytes: 16 << 20 });
    count('pickle-mutation', r);
    checkArrays(r, where, MAX);
    assert.ok(!existsSync(PICKLE_PWNED), `${where}: something ran`);
  });
}

const enc = new TextEncoder();
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const str = (s: string) => {
  const b = enc.encode(s);
  return [0x58, ...u32(b.length), ...b];
};
const int = (v: number) => (v >= 0 && v < 256 ? [0x4b, v] : v >= 0 && v <= 0xffffffff && v < 2 ** 31 ? [0x4a, ...u32(v)] : long1(BigInt(v)));
function long1(v: bigint): number[] {
  const bytes: number[] = [];
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < 8; i++, x >>= 8n) bytes.push(Number(x & 0xffn));
  return [0x8a, 8, ...bytes];
}

const GLOBALS = [
  'torch._utils\n_rebuild_tensor_v2', 'torch._utils\n_rebuild_tensor', 'torch._utils\n_rebuild_parameter', 'collections\nOrderedDict',
  'torch\nFloatStorage', 'torch\nHalfStorage', 'torch\nBFloat16Storage', 'torch\nLongStorage', 'torch\nUntypedStorage',
  'os\nsystem', 'builtins\neval', 'posix\nsystem', 'collections\ndefaultdict', 'torch\nload', '__builtin__\ngetattr',
];

/** One opcode with plausible arguments: allowed ones mostly, some refused, some nonsense. */
const opArb: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<number[]>([0x28], [0x7d], [0x5d], [0x29], [0x74], [0x85], [0x86], [0x87], [0x73], [0x75], [0x61], [0x65], [0x52], [0x51], [0x62], [0x4e], [0x88], [0x89], [0x94], [0x30], [0x2e], [0x93]) },
  { weight: 4, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 40 }).map(int) },
  { weight: 3, arbitrary: fc.constantFrom('storage', 'cpu', '0', '1', 'w', 'rnn.weight_ih_l0', 'os', 'system', 'torch', '', 'é\u202e').map(str) },
  { weight: 3, arbitrary: fc.constantFrom(...GLOBALS).map((g) => [0x63, ...enc.encode(`${g}\n`)]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(0x71, 0x68), fc.nat({ max: 8 })).map(([op, i]) => [op, i]) },
  { weight: 1, arbitrary: fc.constantFrom<number[]>([0x6a, 0xff, 0xff, 0xff, 0xff], [0x72, 0, 0, 1, 0], [0x8c, 200], [0x58, 0xff, 0xff, 0xff, 0x7f], [0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40], [0x95, 0xff, 0xff, 0, 0, 0, 0, 0, 0], [0x8a, 0xff], [0x8b, 0xff, 0xff, 0xff, 0xff], [0x80, 9], [0x47, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => [...b]) },
);

/** A generated opcode stream: unpickle + flattenTensors must end in a value or a GruCheckError, fast. */
export function pickleStreamProperty(): fc.IPropertyWithHooks<[number[][], boolean]> {
  return fc.property(fc.array(opArb, { maxLength: 60 }), fc.boolean(), (ops, stop) => {
    const bytes = Uint8Array.from([0x80, 2, ...ops.flat(), ...(stop ? [0x2e] : [])]);
    const where = `unpickle(${Buffer.from(bytes).toString('hex').slice(0, 300)})`;
    bounded(
      () => {
        const v = outcome(() => unpickle(bytes), where);
        count('pickle-stream', v instanceof GruCheckError ? v : outcome(() => flattenTensors(v, { maxVisits: 10_000 }), `${where} flatten`));
      },
      where,
      { bytes: 8 << 20 },
    );
    assert.ok(!existsSync(PICKLE_PWNED), `${where}: something ran`);
  });
}

/** A pickle of one tensor with generated numel/offset/size/stride over a storage of generated length. */
const dimArb = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1, 1 << 20) });
const tensorCaseArb = fc.record({
  numel: fc.oneof({ weight: 4, arbitrary: fc.constant('fit' as const) }, { weight: 2, arbitrary: fc.nat({ max: 64 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 40) }),
  slack: fc.nat({ max: 3 }),
  strides: fc.constantFrom('c', 'c', 'reversed', 'given'),
  storageBytes: fc.oneof({ weight: 4, arbitrary: fc.constant('exact' as const) }, { weight: 1, arbitrary: fc.nat({ max: 300 }) }),
  offset: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 53 - 1) }),
  size: fc.array(dimArb, { maxLength: 4 }),
  stride: fc.array(dimArb, { maxLength: 4 }),
  storage: fc.constantFrom('FloatStorage', 'HalfStorage', 'BFloat16Storage', 'DoubleStorage', 'LongStorage', 'BoolStorage'),
  parameter: fc.boolean(),
  maxBytes: fc.constantFrom(1 << 12, 1 << 16, MAX),
});
type TensorCaseArb = typeof tensorCaseArb extends fc.Arbitrary<infer T> ? T : never;
type TensorCase = Omit<TensorCaseArb, 'numel'> & { numel: number };

/** Resolve 'fit' (a storage just large enough) and the stride mode into concrete numbers. */
function resolveTensorCase(c: TensorCaseArb): TensorCase {
  let stride = c.stride;
  if (c.strides !== 'given') {
    // C-order strides over the sizes, or the same reversed (a transposed view).
    const order = c.size.map((_, i) => i);
    if (c.strides === 'reversed') order.reverse();
    stride = new Array<number>(c.size.length).fill(0);
    let acc = 1;
    for (let j = order.length - 1; j >= 0; j--) {
      stride[order[j]!] = acc;
      acc *= Math.max(1, c.size[order[j]!]!);
    }
  } else {
    stride = c.size.map((_, i) => c.stride[i] ?? 1);
  }
  let numel = c.numel;
  if (numel === 'fit') {
    const extent = c.size.some((d) => d === 0) ? 0 : c.size.reduce((a, d, i) => a + (d - 1) * stride[i]!, 0) + 1;
    numel = c.offset + extent + c.slack;
  }
  return { ...c, stride, numel };
}
const ITEM: Record<string, number> = { FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8, LongStorage: 8, BoolStorage: 1 };

function tensorPickle(c: TensorCase): Uint8Array {
  const tuple = (vs: number[]) => [0x28, ...vs.flatMap(int), 0x74];
  const rebuild = [
    0x63, ...enc.encode('torch._utils\n_rebuild_tensor_v2\n'), 0x28,
    0x28, ...str('storage'), 0x63, ...enc.encode(`torch\n${c.storage}\n`), ...str('0'), ...str('cpu'), ...int(c.numel), 0x74, 0x51,
    ...int(c.offset), ...tuple(c.size), ...tuple(c.stride), 0x89, 0x7d, 0x74, 0x52,
  ];
  const value = c.parameter ? [0x63, ...enc.encode('torch._utils\n_rebuild_parameter\n'), ...rebuild, 0x88, 0x7d, 0x87, 0x52] : rebuild;
  return Uint8Array.from([0x80, 2, 0x7d, 0x28, ...str('w'), ...value, 0x75, 0x2e]);
}

/** Generated tensor views: never an allocation past maxBytes, never an index outside the storage. */
export function tensorViewProperty(): fc.IPropertyWithHooks<[TensorCaseArb]> {
  return fc.property(tensorCaseArb, (arb) => {
    const c = resolveTensorCase(arb);
    const len = c.storageBytes === 'exact' ? Math.min(c.numel * ITEM[c.storage]!, 4096) : c.storageBytes;
    const zip = makeZip([
      { name: 'archive/data.pkl', data: tensorPickle(c) },
      { name: 'archive/data/0', data: new Uint8Array(len).map((_, i) => (i * 29 + 3) & 0xff) },
    ]);
    const where = `tensor ${JSON.stringify(c)} over ${len} bytes`;
    const r = bounded(() => outcome(() => readTorch(zip, c.maxBytes), where), where, { bytes: 2 * c.maxBytes + (1 << 20) });
    count('tensor-view', r);
    checkArrays(r, where, c.maxBytes);
    if (!(r instanceof GruCheckError)) {
      const w = r.get('w')!;
      assert.deepEqual(w.shape, c.size, `${where}: shape`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// safetensors

const stDtype = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'U8', 'BOOL') },
  { weight: 1, arbitrary: fc.constantFrom('F8_E4M3', 'C64', 'f32', '', 'F32 ') },
);
const stShape = fc.oneof({ weight: 20, arbitrary: fc.array(fc.nat({ max: 5 }), { maxLength: 3 }) }, { weight: 1, arbitrary: fc.constantFrom([2 ** 31], [2 ** 53], [-1], [1.5], ['3'], null, [2 ** 40, 2 ** 40]) });
const stEntry = fc.record({
  name: fc.oneof({ weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'a\nb', 'é\u202e', '__metadata__') }),
  dtype: stDtype,
  shape: stShape,
  offsets: fc.oneof({ weight: 20, arbitrary: fc.constant('auto' as const) }, { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 200 }), fc.nat({ max: 200 })) }, { weight: 1, arbitrary: fc.constantFrom([0, 2 ** 53], [2 ** 60, 2 ** 60 + 4], [-4, 0], [0], 'x') }),
});
export const stCase = fc.record({
  entries: fc.array(stEntry, { maxLength: 5 }),
  metadata: fc.constantFrom(undefined, undefined, { format: 'pt' }, { format: 'pt' }, { n: 3 }, [], 'x'),
  lenLie: fc.oneof({ weight: 12, arbitrary: fc.constant('true') }, { weight: 1, arbitrary: fc.constantFrom('plus', 'minus', 'huge', 'zero') }),
  junk: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('', ' ', '   ') }, { weight: 1, arbitrary: fc.constantFrom('x', ',', '}') }),
  tail: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 7) }),
  cut: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 9999 }).map((v) => v / 10000) }),
});
type StCase = typeof stCase extends fc.Arbitrary<infer T> ? T : never;
const ST_ITEM: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1 };

export function buildSafetensors(c: StCase): Uint8Array {
  const header: Record<string, unknown> = {};
  if (c.metadata !== undefined) header.__metadata__ = c.metadata;
  let at = 0;
  for (const e of c.entries) {
    const n = Array.isArray(e.shape) ? e.shape.reduce((a: number, d) => a * (typeof d === 'number' ? d : 1), 1) : 1;
    const size = Math.max(0, Math.min(n * (ST_ITEM[e.dtype] ?? 4), 1 << 12)) || 0;
    const offsets = e.offsets === 'auto' ? [at, at + size] : e.offsets;
    if (e.offsets === 'auto') at += size;
    Object.defineProperty(header, e.name, { value: { dtype: e.dtype, shape: e.shape, data_offsets: offsets }, enumerable: true, configurable: true, writable: true });
  }
  const h = enc.encode(JSON.stringify(header) + c.junk);
  const len = { true: h.length, plus: h.length + 3, minus: Math.max(0, h.length - 3), huge: 2 ** 40, zero: 0 }[c.lenLie as 'true'];
  const out = new Uint8Array(8 + h.length + at + c.tail);
  new DataView(out.buffer).setBigUint64(0, BigInt(len), true);
  out.set(h, 8);
  for (let i = 8 + h.length; i < out.length; i++) out[i] = (i * 31) & 0xff;
  return c.cut === undefined ? out : out.subarray(0, Math.floor(c.cut * out.length));
}

export function safetensorsHeaderProperty(): fc.IPropertyWithHooks<[StCase]> {
  return fc.property(stCase, (c) => {
    const bytes = buildSafetensors(c);
    const where = `readSafetensors(${new TextDecoder().decode(bytes.subarray(8, 300))})`;
    const r = bounded(() => outcome(() => readSafetensors(bytes, { maxBytes: MAX }), where), where, { bytes: 8 << 20 });
    count('safetensors-header', r);
    checkArrays(r, where, MAX);
    if (!(r instanceof GruCheckError)) {
      let n = 0;
      for (const a of r.values()) n += a.data.length;
      assert.ok(n <= bytes.length, `${where}: ${n} elements from ${bytes.length} bytes`);
    }
  });
}

export function safetensorsMutationProperty(): fc.IPropertyWithHooks<[number, ByteOp[]]> {
  const sources = ['gru.safetensors', 'dtypes.safetensors'].map((n) => ({ n, b: formatFixture(n) }));
  return fc.property(fc.nat({ max: sources.length - 1 }), byteOpsArb, (which, ops) => {
    const s = sources[which]!;
    const where = `readSafetensors(${s.n} ${JSON.stringify(ops)})`;
    const r = bounded(() => outcome(() => readSafetensors(applyByteOps(s.b, ops), { maxBytes: MAX }), where), where, { bytes: 8 << 20 });
    count('safetensors-mutation', r);
    checkArrays(r, where, MAX);
  });
}

// ---------------------------------------------------------------------------------------------
// ONNX

export function onnxMutationProperty(): fc.IPropertyWithHooks<[number, ByteOp[]]> {
  const sources = ['gru_l1.onnx', 'gru_l2_bidir.onnx', 'encodings.onnx'].map((n) => ({ n, b: formatFixture(n) }));
  return fc.property(fc.nat({ max: sources.length - 1 }), byteOpsArb, (which, ops) => {
    const s = sources[which]!;
    const where = `readOnnx(${s.n} ${JSON.stringify(ops)})`;
    const r = bounded(() => outcome(() => readOnnx(applyByteOps(s.b, ops), { maxBytes: MAX }), where), where, { bytes: 16 << 20 });
    count('onnx-mutation', r);
    if (!(r instanceof GruCheckError)) {
      checkArrays(r.arrays, where, MAX);
      for (const n of r.graph.nodes) {
        assert.equal(typeof n.opType, 'string');
        for (const a of Object.values(n.attributes)) if (a.type === 'tensor') assertNdArray(a.value, `${where}: ${n.name}`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Keras files: .weights.h5 (HDF5 through jsfive + hdf5.ts's own checks) and .keras archives

const KERAS_FILES = join(ROOT, 'test', 'fixtures', 'keras-files');
const kerasFixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(KERAS_FILES, name)));

function checkKeras(r: KerasWeights | GruCheckError, where: string): void {
  if (r instanceof GruCheckError) return;
  checkArrays(r.arrays, where, MAX);
  for (const l of r.keras.layers) assert.equal(typeof l.prefix, 'string', where);
}

/** Byte edits anywhere in real Keras 3 .weights.h5 files. */
export function kerasH5MutationProperty(): fc.IPropertyWithHooks<[number, ByteOp[]]> {
  const sources = ['gru.weights.h5', 'bidirectional.weights.h5', 'no_bias.weights.h5', 'lstm.weights.h5'].map((n) => ({ n, b: kerasFixture(n) }));
  return fc.property(fc.nat({ max: sources.length - 1 }), byteOpsArb, (which, ops) => {
    const s = sources[which]!;
    const where = `readKerasWeightsH5(${s.n} ${JSON.stringify(ops)})`;
    const r = bounded(() => outcome(() => readKerasWeightsH5(applyByteOps(s.b, ops)), where), where, { bytes: 16 << 20 });
    count('keras-h5-mutation', r);
    checkKeras(r, where);
  });
}

/** Where a real .weights.h5 stores the kernel's dims [4, 15] (its dataspace message). */
function dimsOffset(b: Uint8Array): number {
  for (let i = 0; i + 16 <= b.length; i++) {
    if (b[i] === 4 && b[i + 8] === 15 && b.subarray(i + 1, i + 8).every((x) => x === 0) && b.subarray(i + 9, i + 16).every((x) => x === 0)) return i;
  }
  throw new Error('kernel dims not found');
}

/** The kernel's two dims set to generated values, small to past 2^53: read consistently or refused, never allocated. */
export function kerasH5DimsProperty(): fc.IPropertyWithHooks<[bigint, bigint]> {
  const src = kerasFixture('gru.weights.h5');
  const at = dimsOffset(src);
  const dimArb = fc.oneof({ weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 64n }) }, { weight: 2, arbitrary: fc.constantFrom(2n ** 28n, 2n ** 31n, 2n ** 32n, 2n ** 32n + 4n, 2n ** 40n, 2n ** 53n, 2n ** 64n - 1n) }, { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) });
  return fc.property(dimArb, dimArb, (d0, d1) => {
    const b = src.slice();
    const v = new DataView(b.buffer);
    v.setBigUint64(at, d0, true);
    v.setBigUint64(at + 8, d1, true);
    const where = `readKerasWeightsH5(gru.weights.h5 with kernel dims [${d0}, ${d1}])`;
    const r = bounded(() => outcome(() => readKerasWeightsH5(b), where), where, { bytes: 16 << 20 });
    count('keras-h5-dims', r);
    checkKeras(r, where);
    if (!(r instanceof GruCheckError)) assert.ok(d0 * d1 === 60n, `${where}: read although the data holds 60 values`);
  });
}

/** A .keras archive, re-zipped with good CRCs after edits to its config.json or its model.weights.h5, read and built into a case. */
export function kerasArchiveMutationProperty(): fc.IPropertyWithHooks<[boolean, ByteOp[]]> {
  const zip = openZip(kerasFixture('gru.keras'));
  const members = Object.fromEntries(zip.entries.map((e) => [e.name, readZipMember(zip, e).slice()]));
  const caseBundle = (() => {
    const z = openZip(kerasFixture('gru.npz'));
    const arrays = new Map<string, NdArray>();
    for (const e of z.entries) arrays.set(e.name.replace(/\.npy$/, ''), parseNpy(readZipMember(z, e), e.name));
    return { source: 'gru.npz', arrays };
  })();
  return fc.property(fc.boolean(), byteOpsArb, (editConfig, ops) => {
    const name = editConfig ? 'config.json' : 'model.weights.h5';
    const edited = { ...members, [name]: applyByteOps(members[name]!, ops) };
    const bytes = makeZip(Object.entries(edited).map(([n, data]) => ({ name: n, data })));
    const where = `readKerasArchive(gru.keras, ${name} ${JSON.stringify(ops)})`;
    const r = bounded(() => outcome(() => readKerasArchive(openZip(bytes, { maxBytes: MAX })), where), where, { bytes: 16 << 20 });
    count('keras-archive-mutation', r);
    checkKeras(r, where);
    if (!(r instanceof GruCheckError)) {
      const weights = { source: 'gru.keras', arrays: r.arrays, keras: r.keras };
      outcome(() => buildCase(caseBundle, { weights }), `buildCase(${where})`);
    }
  });
}
