/**
 * The fuzz properties, shared by test/fuzz/fixed-seeds.ts (fixed seeds, a few thousand runs, part of
 * `npm test`) and test/fuzz/run-fuzz.ts (random seed, many more runs). Each property states the
 * contract a CI gate reading untrusted files must keep: every outcome is a value (an NdArray, a
 * member map, a CaseResult) or a GruCheckError with a one-line message — never a TypeError,
 * RangeError, DataView or fflate error, never a hang, never an allocation the bytes do not justify,
 * and nothing in a header is ever evaluated.
 *
 * The checks are written so that they fail on a loader that crashes: a thrown value is asserted to
 * be a GruCheckError with a known code and a one-line message, and a returned value is asserted to
 * be internally consistent (shape product = data length, finite metrics, indices inside shapes).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { GruCheckError, formatError } from '../../src/errors.js';
import { parseNpy } from '../../src/io/npy.js';
import { readNpz } from '../../src/io/npz.js';
import { loadArrays } from '../../src/io/load.js';
import type { NdArray } from '../../src/io/types.js';
import { checkCase, type CheckOptions } from '../../src/check.js';
import { readCandidate } from '../../src/candidate/read.js';
import type { CaseResult } from '../../src/result.js';
import { checkRef } from '../helpers.js';
import { ROOT, SAMPLES, sampleFiles } from '../helpers.js';
import { makeZip } from '../fixtures/io/helpers.js';

// ---------------------------------------------------------------------------------------------
// Outcome checks

const CODES = new Set([
  'USAGE', 'NOT_FOUND', 'UNREADABLE', 'EMPTY_FILE', 'NOT_NPY', 'NOT_ZIP', 'TRUNCATED', 'CRC_MISMATCH',
  'DUPLICATE_MEMBER', 'BAD_MEMBER', 'BAD_HEADER', 'UNSUPPORTED_DTYPE', 'OBJECT_DTYPE', 'TOO_LARGE',
  'MISSING_ARRAY', 'NO_EXPECTED', 'AMBIGUOUS_PREFIX', 'AMBIGUOUS_LAYOUT', 'SHAPE_MISMATCH', 'BAD_LENGTHS', 'BAD_CONFIG',
  'PICKLE_REFUSED', 'BAD_PICKLE', 'LEGACY_TORCH', 'BAD_SAFETENSORS', 'BAD_ONNX', 'UNSUPPORTED_ONNX', 'BAD_HDF5',
]);

/** A thrown value must be a GruCheckError with a known code and one-line, non-empty text. */
export function assertGruCheckError(e: unknown, where: string): asserts e is GruCheckError {
  if (!(e instanceof GruCheckError)) {
    const desc = e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack}` : String(e);
    assert.fail(`${where}: expected a GruCheckError, got ${desc}`);
  }
  assert.ok(CODES.has(e.code), `${where}: unknown error code ${e.code}`);
  assert.ok(e.message.length > 0, `${where}: empty message`);
  assert.ok(!/[\r\n]/.test(e.message), `${where}: message must be one line: ${JSON.stringify(e.message)}`);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/.test(e.message), `${where}: control character in message: ${JSON.stringify(e.message)}`);
  assert.ok(e.message.length < 4000, `${where}: message of ${e.message.length} characters`);
  assert.ok(e.hint === undefined || !/[\r\n]/.test(e.hint), `${where}: hint must be one line: ${JSON.stringify(e.hint)}`);
  assert.ok(!/[\r\n]/.test(formatError(e)), `${where}: formatted error must be one line`);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(e.message), `${where}: message carries a stack frame: ${e.message}`);
}

/** Runs fn; returns its value, or the GruCheckError it threw (anything else fails). */
export function outcome<T>(fn: () => T, where: string): T | GruCheckError {
  try {
    return fn();
  } catch (e) {
    assertGruCheckError(e, where);
    return e;
  }
}

export async function outcomeAsync<T>(fn: () => Promise<T>, where: string): Promise<T | GruCheckError> {
  try {
    return await fn();
  } catch (e) {
    assertGruCheckError(e, where);
    return e;
  }
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** A decoded array is consistent: integer dims, data length = product of the shape. */
export function assertNdArray(nd: NdArray, where: string): void {
  assert.ok(Array.isArray(nd.shape), `${where}: shape is not an array`);
  for (const d of nd.shape) assert.ok(Number.isSafeInteger(d) && d >= 0, `${where}: bad dim ${d}`);
  assert.equal(nd.data.length, prod(nd.shape), `${where}: data length vs shape ${JSON.stringify(nd.shape)}`);
  if (nd.dtype === 'unicode') assert.ok(Array.isArray(nd.data), `${where}: unicode data is not a string[]`);
  else assert.ok(ArrayBuffer.isView(nd.data), `${where}: numeric data is not a typed array`);
}

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

/** A CaseResult a renderer can print and JSON can carry: finite metrics, indices inside the shape. */
export function assertCaseResult(r: CaseResult, where: string): void {
  assert.equal(typeof r.pass, 'boolean', `${where}: pass`);
  assert.ok(Array.isArray(r.checks), `${where}: checks`);
  assert.equal(r.pass, r.checks.every((c) => c.pass), `${where}: pass must be every check passing`);
  for (const c of r.checks) {
    const w = `${where}: ${c.subject} ${c.tensor} vs ${c.against}`;
    for (const k of ['maxAbsError', 'maxRelError', 'meanAbsError', 'atol', 'rtol'] as const) {
      const v = c[k];
      // A check that could not be made element by element (problem) has no error metrics: null.
      if (v === null && c.problem !== undefined && k !== 'atol' && k !== 'rtol') continue;
      assert.ok(finite(v) && v! >= 0, `${w}: ${k} must be a finite number >= 0, got ${v}`);
    }
    assert.ok(c.requiredAtol === null || (finite(c.requiredAtol) && c.requiredAtol >= 0), `${w}: requiredAtol ${c.requiredAtol}`);
    assert.ok(c.mismatched >= 0 && c.mismatched <= c.total, `${w}: mismatched ${c.mismatched} of ${c.total}`);
    assert.ok(c.nonFiniteMismatched <= c.mismatched, `${w}: nonFiniteMismatched > mismatched`);
    if (c.nonFiniteMismatched > 0) assert.equal(c.requiredAtol, null, `${w}: requiredAtol must be null with non-finite mismatches`);
    assert.equal(c.pass, c.mismatched === 0 && c.problem === undefined, `${w}: pass vs mismatched`);
    for (const idx of [c.maxAbsIndex, c.maxRelIndex]) {
      if (idx === null) continue;
      assert.equal(idx.length, c.shape.length, `${w}: index rank`);
      idx.forEach((v, i) => assert.ok(Number.isInteger(v) && v >= 0 && v < c.shape[i]!, `${w}: index ${JSON.stringify(idx)} outside ${JSON.stringify(c.shape)}`));
    }
    if (c.firstMismatchStep !== null) assert.ok(Number.isInteger(c.firstMismatchStep) && c.firstMismatchStep >= 0);
    for (const v of c.stepMaxAbs ?? []) assert.ok(finite(v), `${w}: stepMaxAbs ${v}`);
    for (const v of c.errorMap?.values ?? []) assert.ok(finite(v), `${w}: errorMap ${v}`);
  }
  // What --format json would print must parse back with the same numbers (no Infinity -> null).
  const back = JSON.parse(JSON.stringify(r)) as CaseResult;
  assert.deepEqual(back.checks.map((c) => c.maxRelError), r.checks.map((c) => c.maxRelError), `${where}: JSON round trip`);
}

/**
 * ArrayBuffer growth around fn: catches allocations the input's bytes do not justify. (No clock:
 * how long a parse takes depends on the machine; what it allocates does not.)
 */
export function bounded<T>(fn: () => T, where: string, limits: { bytes: number }): T {
  const m0 = process.memoryUsage().arrayBuffers;
  const v = fn();
  const grew = process.memoryUsage().arrayBuffers - m0;
  assert.ok(grew < limits.bytes, `${where}: ArrayBuffers grew by ${grew} bytes (limit ${limits.bytes})`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// .npy header generator

/** A header expression that would leave this file behind if anything ever evaluated it. */
export const PWNED = join(ROOT, 'test', 'fuzz', '.pwned-by-a-header');

/** `arb` once in `odds` draws, else undefined. */
function rare<T>(arb: fc.Arbitrary<T>, odds: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: odds - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

const dimNat = fc.nat({ max: 5 }).map((v) => ({ text: String(v), n: v as number | undefined }));
const dimHuge = fc.constantFrom('1099511627776', '4294967296', '2147483648', '9007199254740991', '9007199254740993',
  '18446744073709551616', '99999999999999999999999999999999999999', '1' + '0'.repeat(400)).map((text) => ({ text, n: undefined }));
const dimOdd = fc.constantFrom('-1', '-0', '2.0', '1e3', '3.5', '.5', '', '()', '(2,)', '[3]', 'True', 'False', 'None', "'3'", '"3"',
  '0x10', '0o7', '0b1', '1_000', '01', '00', '3L', '3l', '4j', 'inf', 'nan', '+2', '2**40', '~0', '-2**63', 'len("ab")',
  '{}', '[]', '(1, (2, 3))', '((),)').map((text) => ({ text, n: undefined }));
const dimBig = fc.bigInt({ min: 0n, max: 2n ** 80n }).map((v) => ({ text: String(v), n: undefined }));
const dim = fc.oneof({ weight: 8, arbitrary: dimNat }, { weight: 2, arbitrary: dimHuge }, { weight: 3, arbitrary: dimOdd }, { weight: 1, arbitrary: dimBig });

const shapeArb = fc.oneof(
  { weight: 10, arbitrary: fc.array(dim, { maxLength: 5 }).map((ds) => ({ text: ds.length === 1 ? `(${ds[0]!.text},)` : `(${ds.map((d) => d.text).join(', ')})`, dims: ds.map((d) => d.n) })) },
  { weight: 2, arbitrary: fc.array(dim, { maxLength: 4 }).map((ds) => ({ text: `[${ds.map((d) => d.text).join(', ')}]`, dims: [undefined] })) },
  { weight: 2, arbitrary: fc.constantFrom('()', '(,)', '(1,,)', '((2, 3),)', '(3)', '3', 'None', "'(3,)'", '{}', '(1, 2', '(2,) + (3,)', '(*x,)',
    '(1,) * 99999999999', 'tuple(range(9**9))', '(' + '('.repeat(200) + ')'.repeat(200) + ')', '(' + '1, '.repeat(70) + ')').map((text) => ({ text, dims: [undefined] })) },
);

/** Item sizes of the descrs we accept, to build data of the right length sometimes. */
const GOOD_DESCR: Record<string, number> = {
  '<f2': 2, '<f4': 4, '<f8': 8, '>f4': 4, '>f8': 8, '>f2': 2, '|b1': 1, '<i4': 4, '<i8': 8, '>i2': 2, '|u1': 1, '<u8': 8,
  '<U3': 12, '>U2': 8, '=f4': 4, 'f4': 4, '|i1': 1, '<U0': 0,
};
const descrArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...Object.keys(GOOD_DESCR)).map((d) => ({ text: `'${d}'`, itemsize: GOOD_DESCR[d] as number | undefined })) },
  { weight: 5, arbitrary: fc.constantFrom('<f4 ', ' <f4', '>U', '|O', 'O', '<O8', '|O8', '<c8', '<c16', '<f16', '<f3', '<V8', '|S5', '|a3', '<M8[ns]', '<m8[s]',
    'float32', '', '<', '<U99999999999999999', '<U-1', '<U1.5', '\\u003cf4', '<f\\x34', 'é', '<f4\u0000', '<f4[3]', '(<f4, 3)', '<U' + '9'.repeat(30),
    '\u202e4f<', '<f4\t').map((d) => ({ text: `'${d}'`, itemsize: undefined })) },
  { weight: 3, arbitrary: fc.constantFrom("[('a', '<f4')]", "[('a', '<f4'), ('b', '<i8')]", '[]', "[('', '|O')]", "('<f4', (2,))", "{'names': ['a'], 'formats': ['<f4']}",
    "u'<f4'", "b'<f4'", "r'<f4'", "'<f' '4'", "'<f' + '4'", '3', 'None', 'True', '"<f4"', "'''<f4'''", "'<f4").map((text) => ({ text, itemsize: undefined })) },
);
const fortranArb = fc.constantFrom('True', 'False', 'False', 'False', "'False'", '0', '1', 'None', 'true', 'false', '(False)', 'not True', '[]', 'False or True', 'Falsey');

const INJECT = [
  `__import__('os').system('touch ${PWNED}')`,
  `__import__('subprocess').run(['touch', '${PWNED}'])`,
  `open('${PWNED}', 'w')`,
  `(lambda: __import__('os').system('touch ${PWNED}'))()`,
  'lambda: 0',
  "f'{1}'",
  "f'{__import__(\"os\").system(\"true\")}'",
  '{**x}',
  'eval("1")',
  '9**9**9',
  '[i for i in range(10**9)]',
  '1 if True else 0',
  "getattr(__builtins__, 'exec')",
  'x.__class__.__mro__',
  '...',
  'print',
];

/** Builds a header dict text from generated pieces, possibly wrong in every way numpy's is not. */
const headerArb = fc
  .record({
    descr: descrArb,
    fortran: fortranArb,
    shape: shapeArb,
    order: fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]),
    drop: rare(fc.nat({ max: 2 }), 6),
    dupKey: rare(fc.nat({ max: 2 }), 8),
    extra: rare(fc.constantFrom("'extra': 1", "'descr2': '<f4'", '1: 2', "'shape': (1,)", '**x', "'__class__': None", "'a' 'b': 1"), 6),
    inject: rare(fc.record({ at: fc.nat({ max: 3 }), expr: fc.constantFrom(...INJECT) }), 4),
    quote: fc.constantFrom("'", "'", '"'),
    trailingComma: fc.boolean(),
    junk: rare(fc.constantFrom(' ', '\n', ' # c', '; import os', '}', ' or 1', ')', '\u0000', '\\x00', '\t\n', ` and __import__('os').system('touch ${PWNED}')`, '{}', ',', ' '.repeat(3000)), 4),
    whole: rare(fc.constantFrom(`__import__('os').system('touch ${PWNED}')`, '', '{', '}', '{}', 'None', "dict(descr='<f4', fortran_order=False, shape=(1,))",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}.copy()", '[1, 2]', 'b"\\x93NUMPY"'), 12),
  })
  .map((h) => {
    const q = h.quote;
    let values = [h.descr.text, h.fortran, h.shape.text];
    if (h.inject) values = values.map((v, i) => (i === h.inject!.at ? h.inject!.expr : v));
    const keys = ['descr', 'fortran_order', 'shape'];
    let entries = h.order.map((i) => `${q}${keys[i]}${q}: ${values[i]}`);
    if (h.drop !== undefined) entries.splice(h.drop, 1);
    if (h.dupKey !== undefined && entries[h.dupKey]) entries.push(entries[h.dupKey]!);
    if (h.extra) entries.push(h.extra);
    const inside = entries.join(', ') + (h.trailingComma ? ', ' : '');
    const text = h.whole ?? `{${inside}}${h.junk ?? ''}`;
    // The data size when the header happens to be valid: exact, so the success path runs too.
    const dims = h.shape.dims;
    const count = dims.every((d) => d !== undefined) ? prod(dims as number[]) : undefined;
    const exact = count !== undefined && h.descr.itemsize !== undefined ? count * h.descr.itemsize : undefined;
    return { text, exact };
  });

export const npyCaseArb = fc.record({
  header: headerArb,
  version: fc.constantFrom([1, 0], [1, 0], [2, 0], [3, 0], [0, 0], [4, 0], [1, 1], [255, 255], [2, 1]),
  /** Declared header length: true, or a lie. */
  lenLie: fc.oneof({ weight: 6, arbitrary: fc.constant('true') }, { weight: 3, arbitrary: fc.constantFrom('max', 'zero', 'plus', 'minus', 'huge') }),
  data: fc.oneof(
    { weight: 5, arbitrary: fc.constant('exact') },
    { weight: 2, arbitrary: fc.constantFrom('short', 'long', 'none') },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  ),
  encoding: fc.constantFrom('utf8', 'utf8', 'latin1-bytes'),
  magicFlip: rare(fc.record({ at: fc.nat({ max: 5 }), xor: fc.integer({ min: 1, max: 255 }) }), 15),
});
export type NpyCase = typeof npyCaseArb extends fc.Arbitrary<infer T> ? T : never;

/** The .npy bytes for a generated case (padded like numpy unless the length lies). */
export function buildNpy(c: NpyCase): Uint8Array {
  const [major, minor] = c.version as [number, number];
  const pre = major === 1 ? 10 : 12;
  let h = c.header.text;
  const pad = (64 - ((pre + h.length + 1) % 64)) % 64;
  h = h + ' '.repeat(pad) + '\n';
  const hb = c.encoding === 'utf8' ? new TextEncoder().encode(h) : Uint8Array.from(h, (ch) => ch.charCodeAt(0) & 0xff);
  let data: Uint8Array;
  if (c.data instanceof Uint8Array) data = c.data;
  else {
    const exact = c.header.exact !== undefined && c.header.exact <= 1 << 16 ? c.header.exact : 16;
    const n = c.data === 'exact' ? exact : c.data === 'short' ? Math.max(0, exact - 1) : c.data === 'long' ? exact + 3 : 0;
    data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 37 + 11) & 0xff;
  }
  const out = new Uint8Array(pre + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, minor]);
  const dv = new DataView(out.buffer);
  const max = pre === 10 ? 0xffff : 0xffffffff;
  const len = { true: hb.length, max, zero: 0, plus: hb.length + 7, minus: Math.max(0, hb.length - 5), huge: max - 1 }[c.lenLie as 'true'];
  if (pre === 10) dv.setUint16(8, Math.min(len, 0xffff), true);
  else dv.setUint32(8, len, true);
  out.set(hb, pre);
  out.set(data, pre + hb.length);
  if (c.magicFlip) out[c.magicFlip.at]! ^= c.magicFlip.xor;
  return out;
}

/** parseNpy on a generated header: an NdArray consistent with itself, or a one-line GruCheckError. */
export function npyHeaderProperty(): fc.IPropertyWithHooks<[NpyCase]> {
  return fc.property(npyCaseArb, (c) => {
    const bytes = buildNpy(c);
    const where = `parseNpy(${JSON.stringify(c.header.text.slice(0, 200))})`;
    const r = bounded(() => outcome(() => parseNpy(bytes, 'x'), where), where, { bytes: 8 << 20 });
    if (!(r instanceof GruCheckError)) {
      assertNdArray(r, where);
      // Whatever parsed holds no more elements than the file has bytes (zero-size items included):
      // memory stays proportional to the input.
      assert.ok(r.data.length <= bytes.length, `${where}: ${r.data.length} elements from ${bytes.length} bytes`);
    }
    assert.ok(!existsSync(PWNED), `${where}: a header expression was executed`);
  });
}

/** Shapes claiming far more than the bytes present: refused before any allocation. */
export function npyHugeClaimProperty(): fc.IPropertyWithHooks<[string[], string, number, number]> {
  const hugeDim = fc.constantFrom('1099511627776', '4294967296', '2147483648', '1073741824', '536870912', '9007199254740991', '4611686018427387904', '65536', '100000');
  return fc.property(
    fc.array(hugeDim, { minLength: 1, maxLength: 3 }),
    fc.constantFrom('<f4', '<f8', '>f8', '<f2', '|b1', '<i8', '<U1', '<U1000', '<U99999999999999'),
    fc.constantFrom(1, 2, 3),
    fc.nat({ max: 256 }),
    (dims, descr, version, dataLen) => {
      const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
      const c: NpyCase = {
        header: { text: `{'descr': '${descr}', 'fortran_order': ${dataLen % 2 ? 'True' : 'False'}, 'shape': ${shape}, }`, exact: undefined },
        version: [version, 0], lenLie: 'true', data: new Uint8Array(dataLen), encoding: 'utf8', magicFlip: undefined,
      };
      const where = `parseNpy(shape ${shape} ${descr}, ${dataLen} data bytes)`;
      const r = bounded(() => outcome(() => parseNpy(buildNpy(c), 'x'), where), where, { bytes: 1 << 20 });
      assert.ok(r instanceof GruCheckError, `${where}: must be refused`);
      assert.ok(['TOO_LARGE', 'TRUNCATED', 'UNSUPPORTED_DTYPE'].includes(r.code), `${where}: code ${r.code}: ${r.message}`);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// .npz bytes

const read = (p: string): Uint8Array => new Uint8Array(readFileSync(p));

/** Real archives: every sample (deflated, as np.savez_compressed writes), plus stored ones. */
export function npzSources(): Array<{ name: string; bytes: Uint8Array }> {
  const out = sampleFiles().map((p) => ({ name: p.slice(SAMPLES.length + 1), bytes: read(p) }));
  out.push({ name: 'io/plain.npz (stored)', bytes: read(join(ROOT, 'test', 'fixtures', 'io', 'plain.npz')) });
  for (const n of ['classic_batch_first.npz', 'onnx_lbr1.npz', 'keras_reset_after.npz']) {
    const m: Record<string, Uint8Array> = {};
    for (const [k, v] of readNpz(read(join(SAMPLES, n)))) m[`${k}.npy`] = v;
    out.push({ name: `${n} (re-zipped stored)`, bytes: zipSync(m, { level: 0 }) });
    out.push({ name: `${n} (re-zipped ZIP64)`, bytes: makeZip(Object.entries(m).map(([name, data], i) => ({ name, data, method: i % 2 ? 8 : 0 })), { zip64: true }) });
  }
  return out;
}

/** A uniform position in [0, 1) (fc.double is biased towards its bounds). */
const frac = fc.integer({ min: 0, max: 9999 }).map((v) => v / 10000);
/** One edit to a byte string; `near` picks the start, the end (where zip records live) or anywhere. */
const byteOp = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: frac, near: fc.constantFrom('start', 'end', 'any'), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), at: frac, near: fc.constantFrom('start', 'end', 'any') }),
  fc.record({ op: fc.constant('insert' as const), at: frac, near: fc.constantFrom('start', 'end', 'any'), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('zero' as const), at: frac, near: fc.constantFrom('start', 'end', 'any'), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('dup' as const), at: frac, near: fc.constantFrom('start', 'end', 'any'), len: fc.integer({ min: 1, max: 128 }) }),
);
export const byteOpsArb = fc.array(byteOp, { minLength: 1, maxLength: 4 });
export type ByteOp = typeof byteOp extends fc.Arbitrary<infer T> ? T : never;

export function applyByteOps(src: Uint8Array, ops: ByteOp[]): Uint8Array {
  let b = src.slice();
  for (const o of ops) {
    const span = Math.min(160, b.length);
    const pos = b.length === 0 ? 0 : o.near === 'start' ? Math.floor(o.at * span) : o.near === 'end' ? b.length - 1 - Math.floor(o.at * span) : Math.floor(o.at * b.length);
    switch (o.op) {
      case 'flip':
        if (b.length) b[pos]! ^= o.xor;
        break;
      case 'cut':
        b = b.slice(0, pos);
        break;
      case 'insert': {
        const n = new Uint8Array(b.length + o.bytes.length);
        n.set(b.subarray(0, pos));
        n.set(o.bytes, pos);
        n.set(b.subarray(pos), pos + o.bytes.length);
        b = n;
        break;
      }
      case 'zero':
        b.fill(0, pos, pos + o.len);
        break;
      case 'dup': {
        const chunk = b.slice(pos, pos + o.len);
        const n = new Uint8Array(b.length + chunk.length);
        n.set(b.subarray(0, pos + chunk.length));
        n.set(chunk, pos + chunk.length);
        n.set(b.subarray(pos + chunk.length), pos + 2 * chunk.length);
        b = n;
        break;
      }
    }
  }
  return b;
}

/** readNpz, then parseNpy over every member: values or one-line GruCheckErrors, bounded. */
function readAll(bytes: Uint8Array, where: string, maxBytes?: number): void {
  bounded(
    () => {
      const r = outcome(() => readNpz(bytes, maxBytes === undefined ? {} : { maxBytes }), where);
      if (r instanceof GruCheckError) return;
      assert.ok(r instanceof Map, `${where}: not a Map`);
      for (const [name, npy] of r) {
        assert.ok(npy instanceof Uint8Array, `${where}: member ${name} is not bytes`);
        const nd = outcome(() => parseNpy(npy, name, { label: `member '${name}.npy'` }), `${where} member ${name}`);
        if (!(nd instanceof GruCheckError)) assertNdArray(nd, `${where} member ${name}`);
      }
    },
    where,
    // A member may legitimately inflate to its declared size; the samples are all small.
    { bytes: 64 << 20 },
  );
}

export function npzMutationProperty(): fc.IPropertyWithHooks<[number, ByteOp[]]> {
  const sources = npzSources();
  return fc.property(fc.nat({ max: sources.length - 1 }), byteOpsArb, (which, ops) => {
    const s = sources[which]!;
    readAll(applyByteOps(s.bytes, ops), `readNpz(${s.name} ${JSON.stringify(ops)})`);
  });
}

/** Where the zip records of an archive are, to lie in them. */
function zipLayout(b: Uint8Array): { eocd: number; central: number[]; local: number[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= 0; i--) if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  const central: number[] = [];
  const local: number[] = [];
  for (let i = 0; i + 4 <= b.length; i++) {
    const sig = dv.getUint32(i, true);
    if (sig === 0x02014b50) central.push(i);
    else if (sig === 0x04034b50) local.push(i);
  }
  return { eocd, central, local };
}

/** [offset in record, width in bytes] of the fields worth lying in. */
const CENTRAL_FIELDS: Array<[number, number]> = [[8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [34, 2], [42, 4]];
const LOCAL_FIELDS: Array<[number, number]> = [[6, 2], [8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2]];
const EOCD_FIELDS: Array<[number, number]> = [[4, 2], [6, 2], [8, 2], [10, 2], [12, 4], [16, 4], [20, 2]];

const lie = fc.record({
  record: fc.constantFrom('central', 'central', 'local', 'eocd', 'zip64'),
  which: frac,
  field: frac,
  value: fc.oneof(
    fc.constantFrom('zero', 'one', 'max', 'plus1', 'minus1', 'double', 'half', 'i32max', 'ffff'),
    fc.integer({ min: 0, max: 0xffffffff }).map((v) => `=${v}`),
  ),
});
export type Lie = typeof lie extends fc.Arbitrary<infer T> ? T : never;

export function applyLies(src: Uint8Array, lies: Lie[]): Uint8Array {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  const lay = zipLayout(src);
  for (const l of lies) {
    let at: number;
    let width: number;
    if (l.record === 'eocd') {
      if (lay.eocd < 0) continue;
      const f = EOCD_FIELDS[Math.floor(l.field * EOCD_FIELDS.length)]!;
      at = lay.eocd + f[0];
      width = f[1];
    } else if (l.record === 'zip64') {
      // 64-bit values: ZIP64 extra fields and the ZIP64 end record, wherever their ids sit.
      const marks: number[] = [];
      for (let i = 0; i + 12 <= b.length; i++) {
        if ((dv.getUint16(i, true) === 1 && dv.getUint16(i + 2, true) % 8 === 0 && dv.getUint16(i + 2, true) > 0) || dv.getUint32(i, true) === 0x06064b50 || dv.getUint32(i, true) === 0x07064b50) marks.push(i);
      }
      if (!marks.length) continue;
      const m = marks[Math.floor(l.which * marks.length)]!;
      const off = m + 4 + 8 * Math.floor(l.field * 4);
      if (off + 8 > b.length) continue;
      const v = { zero: 0n, one: 1n, max: 2n ** 64n - 1n, plus1: dv.getBigUint64(off, true) + 1n, minus1: 2n ** 63n, double: 2n ** 53n + 1n, half: 2n ** 32n, i32max: 2n ** 31n, ffff: 0xffffffffn }[l.value as 'zero'] ?? BigInt(l.value.slice(1)) * 65537n;
      dv.setBigUint64(off, v & (2n ** 64n - 1n), true);
      continue;
    } else {
      const recs = l.record === 'central' ? lay.central : lay.local;
      if (!recs.length) continue;
      const fields = l.record === 'central' ? CENTRAL_FIELDS : LOCAL_FIELDS;
      const f = fields[Math.floor(l.field * fields.length)]!;
      at = recs[Math.floor(l.which * recs.length)]! + f[0];
      width = f[1];
    }
    if (at + width > b.length) continue;
    const orig = width === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true);
    const max = width === 2 ? 0xffff : 0xffffffff;
    const named: Record<string, number> = { zero: 0, one: 1, max, plus1: orig + 1, minus1: orig - 1, double: orig * 2, half: Math.floor(orig / 2), i32max: 0x7fffffff, ffff: 0xffff };
    const v = (named[l.value] ?? Number(l.value.slice(1))) & max;
    const u = v < 0 ? v + max + 1 : v;
    if (width === 2) dv.setUint16(at, u & 0xffff, true);
    else dv.setUint32(at, u >>> 0, true);
  }
  return b;
}

export function npzLieProperty(): fc.IPropertyWithHooks<[number, Lie[], number | undefined]> {
  const sources = npzSources();
  return fc.property(
    fc.nat({ max: sources.length - 1 }),
    fc.array(lie, { minLength: 1, maxLength: 3 }),
    rare(fc.constantFrom(0, 100, 4096, 1 << 20), 5),
    (which, lies, maxBytes) => {
      const s = sources[which]!;
      readAll(applyLies(s.bytes, lies), `readNpz(${s.name} lies ${JSON.stringify(lies)})`, maxBytes);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Array-level edits and the whole run path

/** float32 -> float16 bits (truncating; the values only need to be plausible). */
function f16bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const e = (u >>> 23) & 0xff;
  const mant = (u >>> 13) & 0x3ff;
  if (e === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const exp = e - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | mant;
}

/** Writes an .npy (v1) for any decoded array, in the dtype/order asked for. */
export function encodeNpy(nd: NdArray, as: string = 'same', fortran = false): Uint8Array {
  const n = prod(nd.shape);
  const shape = nd.shape.length === 1 ? `(${nd.shape[0]},)` : `(${nd.shape.join(', ')})`;
  let descr: string;
  let body: Uint8Array;
  const nums = (): number[] => (nd.dtype === 'unicode' ? (nd.data as string[]).map((s) => s.length) : Array.from(nd.data as ArrayLike<number | bigint>, Number));
  const target = as === 'same' ? ({ float16: 'f2', float32: 'f4', float64: 'f8', int32: 'i4', int64: 'i8', unicode: 'U', bool: 'b1' } as Record<string, string>)[nd.dtype] ?? 'f8' : as;
  switch (target) {
    case 'U': {
      const strs = nd.dtype === 'unicode' ? (nd.data as string[]) : nums().map(String);
      const chars = Math.max(1, ...strs.map((s) => [...s].length));
      descr = `<U${chars}`;
      body = new Uint8Array(n * chars * 4);
      const dv = new DataView(body.buffer);
      strs.forEach((s, i) => [...s].forEach((c, j) => dv.setUint32((i * chars + j) * 4, c.codePointAt(0)!, true)));
      break;
    }
    case 'f2':
      descr = '<f2';
      body = new Uint8Array(new Uint16Array(nums().map(f16bits)).buffer);
      break;
    case 'f4':
      descr = '<f4';
      body = new Uint8Array(new Float32Array(nums()).buffer);
      break;
    case 'be-f4': {
      descr = '>f4';
      body = new Uint8Array(n * 4);
      const dv = new DataView(body.buffer);
      nums().forEach((v, i) => dv.setFloat32(i * 4, v, false));
      break;
    }
    case 'f8':
      descr = '<f8';
      body = new Uint8Array(new Float64Array(nums()).buffer);
      break;
    case 'i4':
      descr = '<i4';
      body = new Uint8Array(new Int32Array(nums().map((v) => (Number.isFinite(v) ? v : 0))).buffer);
      break;
    case 'i8':
      descr = '<i8';
      body = new Uint8Array(new BigInt64Array(nums().map((v) => BigInt(Number.isFinite(v) ? Math.trunc(Math.max(-(2 ** 62), Math.min(2 ** 62, v))) : 0))).buffer);
      break;
    default:
      descr = '|b1';
      body = Uint8Array.from(nums(), (v) => (v ? 1 : 0));
  }
  // Fortran order is written honestly: the C-order values laid out column-major.
  if (fortran && nd.shape.length > 1 && target !== 'U') {
    const size = body.length / Math.max(1, n);
    const out = new Uint8Array(body.length);
    const s = nd.shape;
    const cStride = s.map((_, k) => prod(s.slice(k + 1)));
    const fStride = s.map((_, k) => prod(s.slice(0, k)));
    for (let c = 0; c < n; c++) {
      let f = 0;
      for (let k = 0; k < s.length; k++) f += (Math.floor(c / cStride[k]!) % s[k]!) * fStride[k]!;
      out.set(body.subarray(c * size, (c + 1) * size), f * size);
    }
    body = out;
  }
  let h = `{'descr': '${descr}', 'fortran_order': ${fortran && target !== 'U' ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const pad = (64 - ((10 + h.length + 1) % 64)) % 64;
  h = h + ' '.repeat(pad) + '\n';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(10 + hb.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, hb.length & 0xff, hb.length >> 8]);
  out.set(hb, 10);
  out.set(body, 10 + hb.length);
  return out;
}

const SPECIAL = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e308, -1e308, 1e-45, 5e-324, -0, 0, 1e30, -1e30, 65504, 1e-8];
const OTHER_NAMES = ['input', 'h0', 'output', 'h_n', 'lengths', 'config', 'weight_ih_l1', 'weight_hh_l0_reverse', 'bias_ih_l0', 'X', 'W', 'R', 'Y', 'kernel',
  'gru/recurrent_kernel', 'enc.weight_ih_l0', 'weight_ih_l99999999999', 'sequence_lens', 'initial_h', 'B'];
const CONFIGS = ['{"batch_first": true}', '{"batch_first": false}', '{"batch_first": 1}', '[]', 'null', '"x"', '{"layout": "onnx"}', '{"layout": "keras"}',
  '{"layout": "tflite"}', 'not json', '{"direction": "reverse"}', '{"direction": "sideways"}', '{"linear_before_reset": 2}', '{"linear_before_reset": 1}',
  '{"reset_after": false}', '{"__proto__": {"batch_first": true}}', '{"batch_first": true, "batch_first": false}', '', '{' + '"a":['.repeat(2000)];

const edit = fc.oneof(
  // The same two sizes changed in every array, so shapes stay consistent: axis size `a` of the
  // input becomes 0 and size `b` becomes huge wherever they occur (e.g. batch 0, seq 2**40).
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resize' as const), a: fc.nat({ max: 3 }), b: fc.nat({ max: 3 }), size: fc.constantFrom(2 ** 20, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 0) }) },
  fc.record({ kind: fc.constant('values' as const), member: frac, at: fc.array(frac, { minLength: 1, maxLength: 4 }), value: fc.constantFrom(...SPECIAL) }),
  fc.record({ kind: fc.constant('fill' as const), member: frac, value: fc.constantFrom(...SPECIAL) }),
  fc.record({ kind: fc.constant('reshape' as const), member: frac, shape: fc.array(fc.nat({ max: 6 }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('dim' as const), member: frac, axis: frac, delta: fc.constantFrom(-1, 1, 2) }),
  fc.record({ kind: fc.constant('transpose' as const), member: frac }),
  // One axis 0 and another huge: no bytes, yet a loop over the huge axis would never end.
  fc.record({ kind: fc.constant('empty' as const), member: frac, zero: frac, huge: frac, size: fc.constantFrom(2 ** 20, 2 ** 31, 2 ** 40, 2 ** 53 - 1) }),
  fc.record({ kind: fc.constant('dtype' as const), member: frac, to: fc.constantFrom('f2', 'f4', 'f8', 'be-f4', 'i4', 'i8', 'U', 'b1', 'fortran') }),
  fc.record({ kind: fc.constant('delete' as const), member: frac }),
  fc.record({ kind: fc.constant('rename' as const), member: frac, to: fc.constantFrom(...OTHER_NAMES) }),
  fc.record({ kind: fc.constant('lengths' as const), values: fc.array(fc.constantFrom(-1, 0, 1, 2, 3, 4, 5, 6, 2 ** 31, 2 ** 40), { maxLength: 4 }), as: fc.constantFrom('i8', 'i4', 'f4', 'b1') }),
  fc.record({ kind: fc.constant('config' as const), text: fc.oneof(fc.constantFrom(...CONFIGS), fc.json({ maxDepth: 2 })) }),
);
export type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

/** Applies edits to a case's arrays, returning .npy bytes per member. */
export function applyEdits(arrays: Map<string, NdArray>, edits: Edit[]): Record<string, Uint8Array> {
  const m = new Map<string, { nd: NdArray; as: string; fortran: boolean }>();
  for (const [k, nd] of arrays) m.set(k, { nd, as: 'same', fortran: false });
  const pickName = (f: number): string | undefined => {
    const names = [...m.keys()].sort();
    return names.length ? names[Math.floor(f * names.length)] : undefined;
  };
  const numeric = (nd: NdArray): number[] => (nd.dtype === 'unicode' ? [] : Array.from(nd.data as ArrayLike<number | bigint>, Number));
  const withData = (nd: NdArray, shape: number[], vals: number[]): NdArray => {
    const n = prod(shape);
    // An edit that would need a huge file is not an input anyone can hand us: keep the array.
    if (n > 1e6) return nd;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = vals.length ? vals[i % vals.length]! : 0.25;
    return { name: nd.name, dtype: nd.dtype === 'unicode' ? 'float32' : nd.dtype, shape, data };
  };
  for (const e of edits) {
    if (e.kind === 'lengths') {
      const data = new Float64Array(e.values);
      m.set('lengths', { nd: { name: 'lengths', dtype: 'float64', shape: [e.values.length], data }, as: e.as, fortran: false });
      continue;
    }
    if (e.kind === 'config') {
      m.set('config', { nd: { name: 'config', dtype: 'unicode', shape: [], data: [e.text] }, as: 'U', fortran: false });
      continue;
    }
    if (e.kind === 'resize') {
      const input = m.get('input') ?? m.get('X');
      if (!input || input.nd.shape.length < 2) continue;
      const sh = input.nd.shape;
      const a = sh[e.a % sh.length]!;
      const b = sh[e.b % sh.length]!;
      if (a === b) continue;
      for (const [k, v] of m) {
        if (k === 'config' || v.nd.shape.length === 0) continue;
        const shape = v.nd.shape.map((d) => (d === a ? 0 : d === b ? e.size : d));
        if (prod(shape) > 1e6) continue;
        m.set(k, { ...v, nd: withData(v.nd, shape, numeric(v.nd)) });
      }
      continue;
    }
    const name = pickName(e.member);
    if (name === undefined) continue;
    const cur = m.get(name)!;
    const nd = cur.nd;
    switch (e.kind) {
      case 'values': {
        if (nd.dtype === 'unicode' || nd.data.length === 0) break;
        const vals = numeric(nd);
        for (const f of e.at) vals[Math.floor(f * vals.length)] = e.value;
        m.set(name, { ...cur, nd: withData(nd, nd.shape, vals) });
        break;
      }
      case 'fill':
        if (nd.dtype === 'unicode') break;
        m.set(name, { ...cur, nd: withData(nd, nd.shape, [e.value]) });
        break;
      case 'reshape':
        m.set(name, { ...cur, nd: withData(nd, e.shape, numeric(nd)) });
        break;
      case 'dim': {
        if (nd.shape.length === 0) break;
        const shape = [...nd.shape];
        const ax = Math.floor(e.axis * shape.length);
        shape[ax] = Math.max(0, shape[ax]! + e.delta);
        m.set(name, { ...cur, nd: withData(nd, shape, numeric(nd)) });
        break;
      }
      case 'empty': {
        if (nd.shape.length === 0) break;
        const shape = [...nd.shape];
        const z = Math.floor(e.zero * shape.length);
        shape[z] = 0;
        if (shape.length > 1) shape[(z + 1 + Math.floor(e.huge * (shape.length - 1))) % shape.length] = e.size;
        m.set(name, { ...cur, nd: withData(nd, shape, []) });
        break;
      }
      case 'transpose':
        m.set(name, { ...cur, nd: { ...nd, shape: [...nd.shape].reverse() } });
        break;
      case 'dtype':
        if (e.to === 'fortran') m.set(name, { ...cur, fortran: true });
        else m.set(name, { ...cur, as: e.to });
        break;
      case 'delete':
        m.delete(name);
        break;
      case 'rename':
        m.delete(name);
        m.set(e.to, { ...cur, nd: { ...nd, name: e.to } });
        break;
    }
  }
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of m) out[k] = encodeNpy(v.nd, v.as, v.fortran);
  return out;
}

const optionsArb = fc.record({
  equalNan: fc.boolean(),
  precision: rare(fc.constantFrom('f32' as const, 'f64' as const), 3),
  batchFirst: rare(fc.boolean(), 4),
  layout: rare(fc.constantFrom('pytorch' as const, 'onnx' as const, 'keras' as const), 6),
  rtol: rare(fc.constantFrom(0, 1e-6, 1, 1e10), 4),
  atol: rare(fc.constantFrom(0, 1e-5, 1, 1e300), 4),
  linearBeforeReset: rare(fc.boolean(), 4),
  direction: rare(fc.constantFrom('forward' as const, 'reverse' as const, 'bidirectional' as const), 4),
  prefix: rare(fc.constantFrom('', 'enc', 'gru', 'x.', 'gru/'), 8),
  candidate: rare(fc.constant(true), 4),
  maxBytes: rare(fc.constantFrom(0, 200, 4096, 1 << 20), 10),
  /** runCheckBundle (the fast engine, what `gru-check run` uses) instead of checkBundle (reference loops). */
  fast: fc.boolean(),
});
export type RunOptions = typeof optionsArb extends fc.Arbitrary<infer T> ? T : never;

/** Loads a file like the CLI does and checks it: a CaseResult or a one-line GruCheckError. */
export async function runPath(path: string, o: RunOptions, where: string): Promise<CaseResult | GruCheckError> {
  const bundle = await outcomeAsync(() => loadArrays(path, o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }), `${where} loadArrays`);
  if (bundle instanceof GruCheckError) {
    assert.ok(bundle.file !== undefined, `${where}: a load error must name its file`);
    return bundle;
  }
  const opts: CheckOptions = {};
  for (const k of ['equalNan', 'precision', 'batchFirst', 'layout', 'rtol', 'atol', 'linearBeforeReset', 'direction', 'prefix'] as const) {
    if (o[k] !== undefined) (opts as Record<string, unknown>)[k] = o[k];
  }
  if (o.candidate) {
    const cand = outcome(() => readCandidate(bundle), `${where} readCandidate`);
    if (cand instanceof GruCheckError) return cand;
    opts.candidate = cand;
  }
  const r = o.fast
    ? await outcomeAsync(() => checkCase(bundle, opts), `${where} runCheckBundle`)
    : await outcomeAsync(() => checkRef(bundle, opts), `${where} checkBundle`);
  if (!(r instanceof GruCheckError)) assertCaseResult(r, where);
  return r;
}

let tmpCounter = 0;

export function runPathEditProperty(dir: string): fc.IAsyncPropertyWithHooks<[number, Edit[], RunOptions]> {
  const files = sampleFiles();
  const decoded = files.map((p) => {
    const arrays = new Map<string, NdArray>();
    for (const [k, v] of readNpz(read(p))) arrays.set(k, parseNpy(v.slice(), k));
    return { name: p.slice(SAMPLES.length + 1), arrays };
  });
  return fc.asyncProperty(fc.nat({ max: decoded.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 3 }), optionsArb, async (which, edits, o) => {
    const s = decoded[which]!;
    const path = join(dir, `edit-${tmpCounter++}.npz`);
    const files: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(applyEdits(s.arrays, edits))) files[`${k}.npy`] = v;
    writeFileSync(path, zipSync(files, { level: tmpCounter % 2 ? 0 : 6 }));
    await runPath(path, o, `run(${s.name} edits ${JSON.stringify(edits)} options ${JSON.stringify(o)})`);
  });
}

export function runPathBytesProperty(dir: string): fc.IAsyncPropertyWithHooks<[number, ByteOp[], RunOptions]> {
  const sources = npzSources();
  return fc.asyncProperty(fc.nat({ max: sources.length - 1 }), byteOpsArb, optionsArb, async (which, ops, o) => {
    const s = sources[which]!;
    const path = join(dir, `bytes-${tmpCounter++}.npz`);
    writeFileSync(path, applyByteOps(s.bytes, ops));
    await runPath(path, o, `run(${s.name} ops ${JSON.stringify(ops)} options ${JSON.stringify(o)})`);
  });
}

/** Files for the spawned CLI runs: a mix of byte mutations and array edits of the samples. */
export function cliInputs(dir: string, n: number, seed: number): string[] {
  const sources = npzSources();
  const files = sampleFiles();
  const decoded = files.map((p) => {
    const arrays = new Map<string, NdArray>();
    for (const [k, v] of readNpz(read(p))) arrays.set(k, parseNpy(v.slice(), k));
    return arrays;
  });
  const arb = fc.oneof(
    fc.record({ t: fc.constant('bytes' as const), which: fc.nat({ max: sources.length - 1 }), ops: byteOpsArb }),
    fc.record({ t: fc.constant('edit' as const), which: fc.nat({ max: decoded.length - 1 }), edits: fc.array(edit, { minLength: 1, maxLength: 3 }) }),
  );
  return fc.sample(arb, { numRuns: n, seed }).map((c, i) => {
    const path = join(dir, `cli-${i}.npz`);
    if (c.t === 'bytes') writeFileSync(path, applyByteOps(sources[c.which]!.bytes, c.ops));
    else {
      const f: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(applyEdits(decoded[c.which]!, c.edits))) f[`${k}.npy`] = v;
      writeFileSync(path, zipSync(f, { level: 6 }));
    }
    return path;
  });
}

/**
 * Consistent shape changes alone (no other edit to mask them): one axis size of the input becomes
 * 0 and another 2**30 in every array. Such a file holds no more bytes than the sample, so the run
 * must answer about as fast as the sample does (~2 ms here); a loop over the empty-but-long axis
 * would take half an hour at 2**30 (half a minute at 2**24, as fuzzing once found). Here the
 * latency is the point, so this is the one property with a clock: 5 s, over 1000x what a correct
 * run takes and 1/300 of what the bug costs, so neither a slow machine nor a fast one decides it.
 */
export function runPathResizeProperty(dir: string): fc.IAsyncPropertyWithHooks<[number, number, number, boolean]> {
  const decoded = sampleFiles().map((p) => {
    const arrays = new Map<string, NdArray>();
    for (const [k, v] of readNpz(read(p))) arrays.set(k, parseNpy(v.slice(), k));
    return { name: p.slice(SAMPLES.length + 1), arrays };
  });
  return fc.asyncProperty(fc.nat({ max: decoded.length - 1 }), fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.boolean(), async (which, a, b, fast) => {
    const s = decoded[which]!;
    const edits: Edit[] = [{ kind: 'resize', a, b, size: 2 ** 30 }];
    const path = join(dir, `resize-${tmpCounter++}.npz`);
    const files: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(applyEdits(s.arrays, edits))) files[`${k}.npy`] = v;
    writeFileSync(path, zipSync(files, { level: 0 }));
    const where = `run(${s.name} edits ${JSON.stringify(edits)} fast ${fast})`;
    const t0 = performance.now();
    await runPath(path, { equalNan: false, fast } as Parameters<typeof runPath>[1], where);
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `${where}: took ${ms.toFixed(0)} ms for a file no larger than the sample`);
  });
}
