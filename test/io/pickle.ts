/**
 * The restricted unpickler opcode by opcode, on hand-written pickles (each checked here against
 * what Python's pickle would make of it, stated in the test name): what it reads, what it refuses
 * by name, and the bounds that keep a hostile pickle to the cost of its size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GruCheckError } from '../../src/errors.js';
import { flattenTensors, unpickle, type PickleValue, type TensorRef } from '../../src/io/pickle.js';

const enc = new TextEncoder();
/** Pickle bytes from a mix of numbers (bytes) and strings (latin1 text). */
function pk(...parts: Array<number | string | number[]>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') out.push(...enc.encode(p));
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const binunicode = (s: string) => {
  const b = enc.encode(s);
  return [0x58, ...u32(b.length), ...b];
};

function refused(bytes: Uint8Array, code: string, ...parts: string[]): GruCheckError {
  let caught: unknown;
  try {
    unpickle(bytes, { label: 'p' });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof GruCheckError, `expected GruCheckError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of parts) assert.ok(caught.message.includes(p), `${caught.message} should include ${p}`);
  assert.ok(!/[\r\n]/.test(caught.message));
  return caught;
}

const plain = (v: PickleValue): unknown => {
  if (v === null || typeof v !== 'object') return v;
  if (v.kind === 'list' || v.kind === 'tuple') return { [v.kind]: v.items.map(plain) };
  if (v.kind === 'dict') return { dict: [...v.map].map(([k, x]) => [plain(k), plain(x)]), ordered: v.ordered };
  return v;
};

describe('unpickle: the values a state_dict is made of', () => {
  it("ints: BININT1 5, BININT2 0x1234, BININT -2, LONG1 -1 / 2**40 / 2**63-1 -> (5, 4660, -2, -1, 1099511627776, 9223372036854775807n)", () => {
    const v = unpickle(pk(0x80, 2, 0x28, 0x4b, 5, 0x4d, 0x34, 0x12, 0x4a, ...u32(-2 >>> 0), 0x8a, 1, 0xff, 0x8a, 6, 0, 0, 0, 0, 0, 1, 0x8a, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x74, 0x2e));
    assert.deepEqual(plain(v), { tuple: [5, 0x1234, -2, -1, 2 ** 40, 2n ** 63n - 1n] });
  });

  it('BINFLOAT is big-endian: 1.5', () => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, 1.5, false);
    assert.equal(unpickle(pk(0x80, 2, 0x47, [...b], 0x2e)), 1.5);
  });

  it("strings: BINUNICODE, SHORT_BINUNICODE, BINUNICODE8 ('é', 'ab', 'xyz')", () => {
    const v = unpickle(pk(0x80, 4, 0x28, binunicode('é'), 0x8c, 2, 'ab', 0x8d, 3, 0, 0, 0, 0, 0, 0, 0, 'xyz', 0x74, 0x2e));
    assert.deepEqual(plain(v), { tuple: ['é', 'ab', 'xyz'] });
  });

  it('None, True, False; TUPLE1-3; EMPTY_TUPLE', () => {
    const v = unpickle(pk(0x80, 2, 0x4e, 0x88, 0x89, 0x87, 0x4b, 1, 0x85, 0x29, 0x86, 0x86, 0x2e));
    assert.deepEqual(plain(v), { tuple: [{ tuple: [null, true, false] }, { tuple: [{ tuple: [1] }, { tuple: [] }] }] });
  });

  it('lists: EMPTY_LIST + APPEND + APPENDS; dicts: SETITEM + SETITEMS; memo BINPUT/BINGET/MEMOIZE/LONG_*', () => {
    // l = [1]; l += [2, 3]; d = {'a': l, 'b': l}  (the same list twice through the memo)
    const v = unpickle(
      pk(0x80, 4, 0x7d, 0x94, 0x8c, 1, 'a', 0x5d, 0x71, 7, 0x4b, 1, 0x61, 0x28, 0x4b, 2, 0x4b, 3, 0x65, 0x73, 0x28, 0x8c, 1, 'b', 0x68, 7, 0x72, ...u32(70000), 0x75, 0x6a, ...u32(70000), 0x30, 0x2e),
    );
    assert.deepEqual(plain(v), { dict: [['a', { list: [1, 2, 3] }], ['b', { list: [1, 2, 3] }]], ordered: false });
    const d = v as Extract<PickleValue, { kind: 'dict' }>;
    assert.equal(d.map.get('a'), d.map.get('b'), 'one list, referenced twice');
  });

  it('collections.OrderedDict() via GLOBAL + EMPTY_TUPLE + REDUCE, and its _metadata BUILD is ignored', () => {
    const v = unpickle(pk(0x80, 2, 'ccollections\nOrderedDict\n', 0x29, 0x52, 0x7d, 0x62, 0x2e));
    assert.deepEqual(plain(v), { dict: [], ordered: true });
  });

  it('FRAME within bounds is skipped; PROTO 2..5 accepted', () => {
    assert.equal(unpickle(pk(0x80, 5, 0x95, 2, 0, 0, 0, 0, 0, 0, 0, 0x4b, 9, 0x2e)), 9);
  });
});

describe('unpickle: refused by name', () => {
  const globals: Array<[string, string]> = [
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['__builtin__', 'eval'],
    ['builtins', 'getattr'],
    ['subprocess', 'Popen'],
    ['collections', 'defaultdict'],
    ['torch', 'load'],
    ['torch.nn.modules.rnn', 'GRU'],
    ['torch', 'UntypedStorage'],
    ['numpy.core.multiarray', '_reconstruct'],
    ['torch._utils', '_rebuild_qtensor'],
  ];
  for (const [m, n] of globals) {
    it(`GLOBAL ${m}.${n}`, () => {
      refused(pk(0x80, 2, `c${m}\n${n}\n`, 0x29, 0x52, 0x2e), 'PICKLE_REFUSED', `refusing pickle global ${m}.${n}`);
    });
  }

  it('STACK_GLOBAL os.system (protocol 4)', () => {
    refused(pk(0x80, 4, 0x8c, 2, 'os', 0x8c, 6, 'system', 0x93, 0x2e), 'PICKLE_REFUSED', 'os.system');
  });

  const opcodes: Array<[string, number[]]> = [
    ['INST', [0x69]],
    ['OBJ', [0x6f]],
    ['NEWOBJ', [0x81]],
    ['NEWOBJ_EX', [0x92]],
    ['EXT1', [0x82, 1]],
    ['LONG4', [0x8b, 0xff, 0xff, 0xff, 0x7f]],
    ['BINBYTES', [0x42, 0, 0, 0, 0]],
    ['STRING', [0x53]],
    ['PERSID', [0x50]],
    ['LONG', [0x4c]],
    ['INT', [0x49]],
    ['EMPTY_SET', [0x8f]],
    ['BYTEARRAY8', [0x96]],
    ['NEXT_BUFFER', [0x97]],
  ];
  for (const [name, bytes] of opcodes) {
    it(`opcode ${name}`, () => void refused(pk(0x80, 2, bytes, 0x2e), 'PICKLE_REFUSED', `refusing pickle opcode ${name}`));
  }

  it('a byte that is no opcode -> BAD_PICKLE', () => void refused(pk(0x80, 2, 0xff), 'BAD_PICKLE', '0xff'));
  it('REDUCE of a value that is not a whitelisted global', () => void refused(pk(0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e), 'PICKLE_REFUSED', 'REDUCE'));
  it('BUILD on a list', () => void refused(pk(0x80, 2, 0x5d, 0x7d, 0x62, 0x2e), 'PICKLE_REFUSED', 'BUILD'));
  it('OrderedDict with arguments', () => void refused(pk(0x80, 2, 'ccollections\nOrderedDict\n', 0x5d, 0x85, 0x52, 0x2e), 'BAD_PICKLE', 'takes 0'));
  it('a persistent id that is not a storage tuple', () => void refused(pk(0x80, 2, binunicode('x'), 0x51, 0x2e), 'PICKLE_REFUSED', 'persistent id'));
  it('a storage of a type that is not float/int/bool', () => {
    refused(pk(0x80, 2, 0x28, binunicode('storage'), 'ccollections\nOrderedDict\n', binunicode('0'), binunicode('cpu'), 0x4b, 1, 0x74, 0x51, 0x2e), 'PICKLE_REFUSED', 'storage type');
  });
});

describe('unpickle: malformed and hostile shapes end in one clear error', () => {
  it('empty', () => void refused(new Uint8Array(0), 'BAD_PICKLE', 'empty'));
  it('no STOP', () => void refused(pk(0x80, 2, 0x4e), 'BAD_PICKLE', 'before its STOP'));
  it('STOP leaving values behind', () => void refused(pk(0x80, 2, 0x4e, 0x4e, 0x2e), 'BAD_PICKLE', 'leaves 1'));
  it('STOP on an empty stack', () => void refused(pk(0x80, 2, 0x2e), 'BAD_PICKLE', 'empty stack'));
  it('protocol 6', () => void refused(pk(0x80, 6, 0x4e, 0x2e), 'BAD_PICKLE', 'protocol 6'));
  it('BINUNICODE claiming 4 GB', () => void refused(pk(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff, 'ab'), 'BAD_PICKLE', 'needs 4294967295 bytes'));
  it('BINUNICODE8 claiming 2**60 bytes', () => void refused(pk(0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x10, 'x'), 'BAD_PICKLE', 'runs past the end'));
  it('FRAME past the end', () => void refused(pk(0x80, 4, 0x95, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x4e, 0x2e), 'BAD_PICKLE', 'FRAME'));
  it('invalid UTF-8', () => void refused(pk(0x80, 2, 0x8c, 1, 0xff, 0x2e), 'BAD_PICKLE', 'UTF-8'));
  it('LONG1 of 9 bytes', () => void refused(pk(0x80, 2, 0x8a, 9, [1, 2, 3, 4, 5, 6, 7, 8, 9], 0x2e), 'BAD_PICKLE', 'LONG1'));
  it('BINGET of an index never stored', () => void refused(pk(0x80, 2, 0x68, 3, 0x2e), 'BAD_PICKLE', 'memo index 3'));
  it('APPEND on a dict', () => void refused(pk(0x80, 2, 0x7d, 0x4e, 0x61, 0x2e), 'BAD_PICKLE', 'expected a list'));
  it('SETITEMS with an odd count', () => void refused(pk(0x80, 2, 0x7d, 0x28, 0x4e, 0x75, 0x2e), 'BAD_PICKLE', 'odd'));
  it('TUPLE without a MARK', () => void refused(pk(0x80, 2, 0x74, 0x2e), 'BAD_PICKLE', 'without a MARK'));
  it('a GLOBAL line with no newline', () => void refused(pk(0x80, 2, 'cos'), 'BAD_PICKLE', 'GLOBAL'));

  it('a value stack of 200,000 pushes stops at the cap, not at the end of the stream', () => {
    const e = refused(pk(0x80, 2, new Array(200_000).fill(0x4e), 0x2e), 'BAD_PICKLE', 'stack grows past 100000 values');
    // Where it stopped: the push that went past the cap (2 header bytes + 100,000 NONEs), half way in.
    assert.match(e.message, /\(at byte 100003\)$/);
  });

  it('MARKs nested past the cap', () => void refused(pk(0x80, 2, new Array(5000).fill(0x28), 0x2e), 'BAD_PICKLE', 'MARKs nested'));

  it('a tensor with a negative size or mismatched stride rank', () => {
    const rebuild = (size: number[], stride: number[]) =>
      pk(
        0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2\n', 0x28,
        0x28, binunicode('storage'), 'ctorch\nFloatStorage\n', binunicode('0'), binunicode('cpu'), 0x4b, 4, 0x74, 0x51,
        0x4b, 0, 0x28, ...size.flatMap((d) => [0x4a, ...u32(d >>> 0)]), 0x74, 0x28, ...stride.flatMap((d) => [0x4a, ...u32(d >>> 0)]), 0x74,
        0x89, 0x7d, 0x74, 0x52, 0x2e,
      );
    refused(rebuild([-1], [1]), 'BAD_PICKLE', 'size');
    refused(rebuild([2, 2], [1]), 'BAD_PICKLE', 'stride has 1');
    const t = unpickle(rebuild([2, 2], [2, 1]));
    assert.deepEqual(t, { kind: 'tensor', storage: { kind: 'storage', dtype: 'float32', key: '0', location: 'cpu', numel: 4 }, offset: 0, size: [2, 2], stride: [2, 1] });
  });
});

describe('flattenTensors: names, and the walk is bounded', () => {
  const T: TensorRef = { kind: 'tensor', storage: { kind: 'storage', dtype: 'float32', key: '0', location: 'cpu', numel: 1 }, offset: 0, size: [1], stride: [1] };
  const dict = (entries: Array<[PickleValue, PickleValue]>): PickleValue => ({ kind: 'dict', ordered: false, map: new Map(entries) });

  it('nested dicts and lists join with dots; int keys become digits; other leaves are skipped', () => {
    const root = dict([
      ['model', dict([['rnn.weight_ih_l0', T], ['version', 3]])],
      ['epoch', 3],
      ['optimizer', dict([['state', dict([[0, dict([['momentum_buffer', T]])]])], ['groups', { kind: 'list', items: [T, 'x'] }]])],
      [{ kind: 'tuple', items: [] }, T],
    ]);
    assert.deepEqual([...flattenTensors(root).keys()], ['model.rnn.weight_ih_l0', 'optimizer.state.0.momentum_buffer', 'optimizer.groups.0']);
  });

  it('two tensors flattening to one name are refused', () => {
    const root = dict([['a.b', T], ['a', dict([['b', T]])]]);
    assert.throws(() => flattenTensors(root), (e: GruCheckError) => e.code === 'BAD_PICKLE' && /both named 'a.b'/.test(e.message));
  });

  it('a list that contains itself (a cycle through the memo) ends, with an error', () => {
    const l: { kind: 'list'; items: PickleValue[] } = { kind: 'list', items: [] };
    l.items.push(l);
    assert.throws(() => flattenTensors(l), (e: GruCheckError) => e.code === 'BAD_PICKLE');
  });

  it('a DAG that would fan out to 2**60 paths ends within the visit budget', () => {
    // Each list counts how often the walk reads its items, i.e. visits it.
    let visits = 0;
    let v: PickleValue = T;
    for (let i = 0; i < 60; i++) {
      const items: PickleValue[] = [v, v];
      v = { kind: 'list', get items(): PickleValue[] { visits++; return items; } };
    }
    assert.throws(() => flattenTensors(v, { maxVisits: 100_000 }), (e: GruCheckError) => e.code === 'BAD_PICKLE' && /too many times/.test(e.message));
    // Two children per list: the budget of 100,000 children is spent after about 50,000 lists.
    assert.ok(visits > 0 && visits <= 50_001, `${visits} lists visited`);
  });

  it('the cycle, built by a real pickle: l = []; l.append(l)', () => {
    const v = unpickle(pk(0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e));
    assert.throws(() => flattenTensors(v), (e: GruCheckError) => e.code === 'BAD_PICKLE');
  });
});
