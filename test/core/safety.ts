// Issue 21, the library half (README "Safety" and "Library"): the bounded JSON reader, the pickle's
// UTF-8 message, the inspect table's one pass, and every entry point of the built library called
// from plain JavaScript with a misspelt option and a string where tensors were expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoundedJson, readBoundedText } from '../../src/io/json.js';
import { saveBaselineFile } from '../../src/suite/baseline-file.js';
import { utf8Failure } from '../../src/io/pickle.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { boxTable } from '../../src/report/inspect.js';
import { clip } from '../../src/io/text.js';
import { GruCheckError } from '../../src/errors.js';
import { ROOT, tmp } from '../helpers.js';

const parse = (text: string): unknown => parseBoundedJson(text, 'suite', 's.json');
const refused = (text: string, message: RegExp): void => {
  assert.throws(() => parse(text), (e) => e instanceof GruCheckError && e.code === 'BAD_CONFIG' && message.test(e.message), text.slice(0, 60));
};

test('bounded JSON reads what JSON.parse reads, and refuses depth, prototype keys, infinities and duplicates by line and column', () => {
  for (const f of ['samples/suite.json', 'schema/suite.schema.json', 'package.json']) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    assert.deepEqual(parse(text), JSON.parse(text), f);
  }
  assert.deepEqual(parse('\ufeff {"a": [1, -2.5e-3, "x\\u00e9\\n", true, null, {}]} '), { a: [1, -2.5e-3, 'x\u00e9\n', true, null, {}] });
  refused('['.repeat(65) + ']'.repeat(65), /nested deeper than 64 levels at line 1, column 65/);
  assert.doesNotThrow(() => parse('['.repeat(64) + ']'.repeat(64)));
  refused('{"a": 1,\n "__proto__": {"polluted": true}}', /the key "__proto__" is not allowed at line 2, column 2/);
  refused('{"prototype": 1}', /"prototype" is not allowed/);
  refused('[1e999]', /a number too large for a float64/);
  refused('[-1e400]', /too large/);
  refused('{"a": 1, "a": 2}', /a key repeated in one object at line 1, column 10/);
  refused('{"a": 1,}', /expected a key in double quotes/);
  refused('[1, 2', /unexpected end of text \(expected , or \]\) at line 1, column 6/);
  refused('{"a": NaN}', /unexpected character at line 1, column 7/);
  refused('"a\tb"', /control character in a string/);
  refused('[01]', /expected , or \]/);
  refused('{} x', /unexpected text after the JSON value/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('a settings file past the size cap is refused from its size; a lock held too long names the lock file', async () => {
  const d = tmp();
  const f = join(d, 'suite.json');
  writeFileSync(f, '{"gruCheckSuite": 1}');
  assert.throws(() => readBoundedText(f, 'suite', 10), (e) => e instanceof GruCheckError && e.code === 'TOO_LARGE' && /the suite is 20 bytes, more than the limit of 10/.test(e.message));
  assert.equal(readBoundedText(f, 'suite', 20), '{"gruCheckSuite": 1}');
  const base = join(d, 'base.json');
  writeFileSync(`${base}.lock`, '12345\n');
  await assert.rejects(saveBaselineFile(base, { pass: true, summary: { cases: 0, passed: 0, failed: 0, errors: 0 }, cases: [] } as never, 50), (e) => e instanceof GruCheckError && /another gru-check has held the lock .*base\.json\.lock/.test(e.message) && /remove .*base\.json\.lock/.test(e.hint ?? ''));
  assert.ok(!existsSync(base), 'nothing written without the lock');
});

test('a safetensors header that is not JSON is located by line and column, not quoted', () => {
  const t = '{"a": TOP-SECRET-TOKEN}';
  const b = new Uint8Array(8 + t.length);
  new DataView(b.buffer).setBigUint64(0, BigInt(t.length), true);
  b.set(new TextEncoder().encode(t), 8);
  assert.throws(() => readSafetensors(b), (e) => e instanceof GruCheckError && /safetensors header is not valid JSON at line 1, column 7/.test(e.message) && !/SECRET/.test(e.message));
});

test('a pickle string too long for JavaScript is named as such, invalid bytes as not UTF-8', () => {
  let invalid: unknown;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0x61, 0xff]));
  } catch (e) {
    invalid = e;
  }
  assert.equal(utf8Failure(invalid, 2, 'BINUNICODE string'), 'BINUNICODE string is not valid UTF-8');
  // What V8 throws for a 600 MB string (measured on Node 20), without allocating one here.
  const tooLong = new Error('Cannot create a string longer than 0x1fffffe8 characters');
  assert.match(utf8Failure(tooLong, 600_000_000, 'BINUNICODE8 string'), /^BINUNICODE8 string is a string of 600,000,000 bytes, longer than a JavaScript string can hold \(536,870,888 characters\)/);
});

test('the inspect table measures each cell once: linear in the rows', () => {
  for (const n of [1000, 4000]) {
    let calls = 0;
    const rows = [['array', 'dtype'], ...Array.from({ length: n }, (_, i) => [`a${i}`, 'float32'])];
    const out = boxTable(rows, (s) => {
      calls++;
      return s.length;
    });
    assert.equal(calls, 2 * (n + 1));
    assert.equal(out.split('\n').length, n + 3);
  }
  assert.equal(boxTable([['ab', 'c'], ['d', 'efg']]), '┌────┬─────┐\n│ ab │ c   │\n│ d  │ efg │\n└────┴─────┘');
});

test('clip keeps the start, adds an ellipsis and says how much was left out', () => {
  assert.equal(clip('abcdef', 4), 'abcd… (2 more characters)');
  assert.equal(clip('abc', 4), 'abc');
  assert.equal(clip(`abc${'😀'}`, 4), 'abc… (2 more characters)', 'never half a surrogate pair');
});

test('every entry point of the built library, from plain JavaScript, refuses a misspelt option and a string where tensors are expected', () => {
  const dist = join(ROOT, 'dist', 'index.js');
  assert.ok(existsSync(dist), `${dist} is missing: run npm run build (npm test does)`);
  const script = join(tmp('gru-check-js-'), 'library.mjs');
  writeFileSync(script, `import * as g from ${JSON.stringify(dist)};
const CASE = 'test/fixtures/ports/port_base.npz';
const out = {};
async function attempt(name, f) {
  try { await f(); out[name] = 'no error'; } catch (e) { out[name] = e instanceof g.GruCheckError ? e.code + ': ' + e.message + (e.hint ? ' (' + e.hint + ')' : '') : 'not a GruCheckError: ' + e; }
}
const bundle = await g.loadArrays(CASE);
const c = g.buildCase(bundle);
const t = { shape: [2], data: new Float32Array(2) };
const calls = {
  checkCase: [() => g.checkCase(CASE, { candiate: 'test/fixtures/ports/correct.npz' }), () => g.checkCase(CASE, { candidate: { source: 'x', output: 'port.npz' } })],
  diagnoseCase: [() => g.diagnoseCase(c, { engnie: 'reference' }), () => g.diagnoseCase(CASE)],
  loadCase: [() => g.loadCase(CASE, { prefx: 'enc' }), () => g.loadCase(CASE, { weights: 'w.npz' })],
  loadArrays: [() => g.loadArrays(CASE, { maxBytse: 10 }), () => g.loadArrays(CASE, { maxBytes: '4G' })],
  buildCase: [() => g.buildCase(bundle, { batchFrist: true }), () => g.buildCase(CASE)],
  inspectBundle: [() => g.inspectBundle(bundle, { layuot: 'onnx' }), () => g.inspectBundle(CASE)],
  runGru: [() => g.runGru(c, { precison: 'f32' }), () => g.runGru({ ...c, input: 'input.npy' }, { precision: 'f32' })],
  runGruFast: [() => g.runGruFast(c, { precision: 'f32', thread: 2 }), () => g.runGruFast({ ...c, h0: 'h0.npy' }, { precision: 'f32' })],
  compareTensors: [() => g.compareTensors(t, t, { tensor: 'output', subject: 'reference', against: 'expected' }, { rtol: 0, atol: 0, equalNan: false, equal_nan: true }), () => g.compareTensors('a.npy', t, { tensor: 'output', subject: 'reference', against: 'expected' }, { rtol: 0, atol: 0, equalNan: false })],
};
for (const [name, [misspelt, string]] of Object.entries(calls)) {
  await attempt(name + ' misspelt', misspelt);
  await attempt(name + ' string', string);
}
// paddedSteps, just added to CheckOptions, is validated too.
await attempt('checkCase paddedSteps', () => g.checkCase(CASE, { paddedSteps: 'loose' }));
// candidate takes a path: a broken port fails, a correct one passes, and the candidate was checked.
const bad = await g.checkCase(CASE, { candidate: 'test/fixtures/ports/gate-order_zrn.npz' });
const good = await g.checkCase(CASE, { candidate: 'test/fixtures/ports/correct.npz' });
out.candidatePath = [bad.pass, good.pass, good.checks.filter((k) => k.subject === 'candidate').length];
await g.closeFastEngine();
process.stdout.write(JSON.stringify(out));
`);
  const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const expect: Record<string, RegExp> = {
    'checkCase misspelt': /^USAGE: checkCase: option 'candiate' is not an option of checkCase \(did you mean 'candidate'\?\)/,
    'checkCase string': /^USAGE: checkCase: option candidate: expected a path .* or the tensors readCandidate returns/,
    'diagnoseCase misspelt': /^USAGE: diagnoseCase: option 'engnie' is not an option of diagnoseCase \(did you mean 'engine'\?\)/,
    'diagnoseCase string': /^USAGE: diagnoseCase: expected a case from loadCase or buildCase, got the string ".*" \(load it first/,
    'loadCase misspelt': /^USAGE: loadCase: option 'prefx' is not an option of loadCase \(did you mean 'prefix'\?\)/,
    'loadCase string': /^USAGE: loadCase: option weights: expected a bundle from loadArrays, got the string "w\.npz"/,
    'loadArrays misspelt': /^USAGE: loadArrays: option 'maxBytse' is not an option of loadArrays \(did you mean 'maxBytes'\?\)/,
    'loadArrays string': /^USAGE: loadArrays: option maxBytes: expected a finite number > 0, got the string "4G"/,
    'buildCase misspelt': /^USAGE: buildCase: option 'batchFrist' is not an option/,
    'buildCase string': /^USAGE: buildCase: expected a bundle from loadArrays, got the string/,
    'inspectBundle misspelt': /^USAGE: inspectBundle: option 'layuot' is not an option .*did you mean 'layout'/,
    'inspectBundle string': /^USAGE: inspectBundle: expected a bundle from loadArrays, got the string/,
    'runGru misspelt': /^USAGE: runGru: option 'precison' is not an option .*did you mean 'precision'/,
    'runGru string': /^USAGE: runGru: input\.input: expected a Float32Array or Float64Array, got the string "input\.npy"/,
    'runGruFast misspelt': /^USAGE: runGruFast: option 'thread' is not an option .*did you mean 'threads'/,
    'runGruFast string': /^USAGE: runGruFast: input\.h0: expected a Float32Array or Float64Array, got the string/,
    'compareTensors misspelt': /^USAGE: compareTensors: option 'equal_nan' is not an option .*did you mean 'equalNan'/,
    'compareTensors string': /^USAGE: compareTensors: actual: expected a tensor \{ shape: number\[\], data: a typed array \}, got the string "a\.npy"/,
    'checkCase paddedSteps': /^USAGE: checkCase: option paddedSteps: expected "strict", "ignore", got the string "loose"/,
  };
  for (const [k, re] of Object.entries(expect)) assert.match(String(out[k]), re, k);
  assert.deepEqual(out.candidatePath, [false, true, 4]);
});
