// Issue 21, the library half (README "Safety" and "Library"): the bounded JSON reader, the pickle's
// UTF-8 message, the inspect table's one pass, and every function the built library exports called
// from plain JavaScript with a misspelt option and a string where tensors were expected (LIBRARY:
// one row per export, and the test fails on an export with no row).
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

/**
 * Every function dist/index.js exports, called from plain JavaScript: by name, calls as JavaScript
 * source (over the fixtures the script sets up: CASE, bundle, c, t, s, good) and what each must
 * give. 'misspelt' misspells an option name, 'string' passes a string where a tensor, case, runner,
 * bundle or summary belongs, 'wrong type' a non-string where a string belongs or a value of the
 * wrong kind; each must be a GruCheckError('USAGE') naming the option or argument. 'valid' is the
 * same export called rightly, which must not throw: the checks refuse only what is wrong. A name
 * mapped to a string is not checked, for the reason given.
 */
type Calls = Record<string, [js: string, expect: RegExp | 'ok']>;
const USAGE = (s: string): RegExp => new RegExp(`^USAGE: ${s}`);
const OPT = '{ rtol: 0, atol: 0, equalNan: false }';
const LIBRARY: Record<string, Calls | string> = {
  GruCheckError: 'a class: its constructor takes the code, message and { file, hint } the library itself passes',
  AbortError: 'a class: its constructor takes any reason, as DOMException\'s AbortError does',
  isGruCheckError: 'takes any value by design: it is the check',
  closeFastEngine: 'takes no arguments',
  checkCase: {
    misspelt: ["g.checkCase(CASE, { candiate: 'test/fixtures/ports/correct.npz' })", USAGE(`checkCase: option 'candiate' is not an option of checkCase \\(did you mean 'candidate'\\?\\)`)],
    string: ["g.checkCase(CASE, { candidate: { source: 'x', output: 'port.npz' } })", USAGE('checkCase: option candidate: expected a path .* or the tensors readCandidate returns')],
    'wrong type': ["g.checkCase(CASE, { paddedSteps: 'loose' })", USAGE('checkCase: option paddedSteps: expected "strict", "ignore", got the string "loose"')],
  },
  diagnoseCase: {
    misspelt: ["g.diagnoseCase(c, { engnie: 'reference' })", USAGE(`diagnoseCase: option 'engnie' is not an option of diagnoseCase \\(did you mean 'engine'\\?\\)`)],
    string: ['g.diagnoseCase(CASE)', USAGE('diagnoseCase: expected a case from loadCase or buildCase, got the string ".*" \\(load it first')],
  },
  loadCase: {
    misspelt: ["g.loadCase(CASE, { prefx: 'enc' })", USAGE(`loadCase: option 'prefx' is not an option of loadCase \\(did you mean 'prefix'\\?\\)`)],
    string: ["g.loadCase(CASE, { weights: 'w.npz' })", USAGE('loadCase: option weights: expected a bundle from loadArrays, got the string "w\\.npz"')],
  },
  loadArrays: {
    misspelt: ['g.loadArrays(CASE, { maxBytse: 10 })', USAGE(`loadArrays: option 'maxBytse' is not an option of loadArrays \\(did you mean 'maxBytes'\\?\\)`)],
    'wrong type': ["g.loadArrays(CASE, { maxBytes: '4G' })", USAGE('loadArrays: option maxBytes: expected a finite number > 0, got the string "4G"')],
  },
  buildCase: {
    misspelt: ['g.buildCase(bundle, { batchFrist: true })', USAGE(`buildCase: option 'batchFrist' is not an option`)],
    string: ['g.buildCase(CASE)', USAGE('buildCase: expected a bundle from loadArrays, got the string')],
  },
  inspectBundle: {
    misspelt: ["g.inspectBundle(bundle, { layuot: 'onnx' })", USAGE(`inspectBundle: option 'layuot' is not an option .*did you mean 'layout'`)],
    string: ['g.inspectBundle(CASE)', USAGE('inspectBundle: expected a bundle from loadArrays, got the string')],
  },
  runGru: {
    misspelt: ["g.runGru(c, { precison: 'f32' })", USAGE(`runGru: option 'precison' is not an option .*did you mean 'precision'`)],
    string: ["g.runGru({ ...c, input: 'input.npy' }, { precision: 'f32' })", USAGE('runGru: input\\.input: expected a Float32Array or Float64Array, got the string "input\\.npy"')],
    'wrong type': ['g.runGru(c)', USAGE('runGru: options: expected an object with precision, got undefined')],
    valid: ["g.runGru(c, { precision: 'f64', math: c.math })", 'ok'],
  },
  runGruFast: {
    misspelt: ["g.runGruFast(c, { precision: 'f32', thread: 2 })", USAGE(`runGruFast: option 'thread' is not an option .*did you mean 'threads'`)],
    string: ["g.runGruFast({ ...c, h0: 'h0.npy' }, { precision: 'f32' })", USAGE('runGruFast: input\\.h0: expected a Float32Array or Float64Array, got the string')],
  },
  compareTensors: {
    misspelt: [`g.compareTensors(t, t, TARGET, { rtol: 0, atol: 0, equalNan: false, equal_nan: true })`, USAGE(`compareTensors: option 'equal_nan' is not an option .*did you mean 'equalNan'`)],
    string: [`g.compareTensors('a.npy', t, TARGET, ${OPT})`, USAGE('compareTensors: actual: expected a tensor \\{ shape: number\\[\\], data: a typed array \\}, got the string "a\\.npy"')],
    'wrong type': ['g.compareTensors(t, t, TARGET, { rtol: 0, atol: 0 })', USAGE('compareTensors: option equalNan is required: true or false')],
  },
  runStack: {
    misspelt: ["g.runStack(c, { precision: 'f64' }, g.REFERENCE_RUNNER, { sigal: new AbortController().signal })", USAGE(`runStack: control: option 'sigal' is not an option of runStack's control \\(did you mean 'signal'\\?\\)`)],
    string: ["g.runStack(c, { precision: 'f64' }, 'reference')", USAGE('runStack: runner: expected a Runner .*, got the string "reference"')],
    valid: ["g.runStack(c, { precision: 'f64' }, g.REFERENCE_RUNNER)", 'ok'],
  },
  computeGru: {
    misspelt: ["g.computeGru(c, { precision: 'f64', engin: 'reference' })", USAGE(`computeGru: option 'engin' is not an option of computeGru \\(did you mean 'engine'\\?\\)`)],
    string: ["g.computeGru(CASE, { precision: 'f64' })", USAGE('computeGru: expected a case from loadCase or buildCase, got the string')],
    valid: ["g.computeGru(c, { precision: 'f64', engine: 'reference' })", 'ok'],
  },
  toUserLayout: {
    string: ["g.toUserLayout(c, 'out.npy')", USAGE('toUserLayout: r: expected a run result \\{ output, hN \\} from runGru or runGruFast, got the string "out\\.npy"')],
    valid: ["g.toUserLayout(c, g.runGru(c, { precision: 'f64' }))", 'ok'],
  },
  readCandidate: {
    string: ["g.readCandidate('test/fixtures/ports/correct.npz')", USAGE('readCandidate: expected a bundle from loadArrays, got the string')],
    valid: ['g.readCandidate(good)', 'ok'],
  },
  parseSuite: {
    'wrong type': ["g.parseSuite(new TextEncoder().encode('{}'), 'suite.json', (p) => p)", USAGE('parseSuite: text: expected a string, got a Uint8Array')],
    string: ["g.parseSuite('{}', 'suite.json', 'samples')", USAGE('parseSuite: resolve: expected a function, got the string "samples"')],
  },
  parseShard: {
    'wrong type': ['g.parseShard(2)', USAGE('parseShard: text: expected a string, got number 2')],
    valid: ["g.parseShard('1/2')", 'ok'],
  },
  shardOf: {
    string: ["g.shardOf('abc', 1, 2)", USAGE('shardOf: items: expected an array, got the string "abc"')],
    'wrong type': ['g.shardOf([1, 2, 3], 3, 2)', USAGE('shardOf: k: expected a whole number from 1 to 2, got number 3')],
    valid: ['g.shardOf([1, 2, 3], 1, 2)', 'ok'],
  },
  resolveTolerance: {
    misspelt: ["g.resolveTolerance('float32', { rtoll: 1e-3 })", USAGE(`resolveTolerance: overrides: option 'rtoll' is not an option of resolveTolerance's overrides \\(did you mean 'rtol'\\?\\)`)],
    string: ["g.resolveTolerance('float32', '1e-3')", USAGE('resolveTolerance: overrides: expected an object, got the string "1e-3"')],
    'wrong type': ["g.resolveTolerance('float32', {}, { tensor: 'output', subjet: 'candidate' })", USAGE(`resolveTolerance: at: option 'subjet' is not an option of resolveTolerance's at \\(did you mean 'subject'\\?\\)`)],
    valid: ["g.resolveTolerance('float32', { atol: 1e-3 }, { tensor: 'h_n', subject: 'candidate' })", 'ok'],
  },
  parseToleranceSpec: { 'wrong type': ["g.parseToleranceSpec(1e-3, '--rtol')", USAGE('parseToleranceSpec: text: expected a string, got number 0\\.001')] },
  parseErrorStatSpec: { 'wrong type': ["g.parseErrorStatSpec(['mean'], '--check-error-stat')", USAGE('parseErrorStatSpec: text: expected a string, got an array of 1')] },
  parseCosineSpec: { 'wrong type': ["g.parseCosineSpec('0.99', 7)", USAGE('parseCosineSpec: flag: expected a string, got number 7')] },
  selectRanks: {
    string: ["g.selectRanks('312', 3, [0])", USAGE('selectRanks: buf: expected an array or typed array of numbers, got the string "312"')],
    'wrong type': ['g.selectRanks([3, 1, 2], 3, [3])', USAGE('selectRanks: ranks: expected an array of whole numbers from 0 to m - 1 \\(2\\)')],
    valid: ['g.selectRanks([3, 1, 2], 3, [0, 2])', 'ok'],
  },
  medianAndQuantile: {
    'wrong type': ["g.medianAndQuantile(new Float64Array(4), 4, '0.5')", USAGE('medianAndQuantile: q: expected a number from 0 to 1, got the string "0\\.5"')],
    string: ["g.medianAndQuantile('1234', 4, 0.5)", USAGE('medianAndQuantile: buf: expected an array or typed array of numbers, got the string')],
  },
  fastRunner: {
    misspelt: ["g.fastRunner(c, { precision: 'f64', kernal: 'js' })", USAGE(`fastRunner: option 'kernal' is not an option of fastRunner \\(did you mean 'kernel'\\?\\)`)],
    string: ["g.fastRunner(CASE, { precision: 'f64' })", USAGE('fastRunner: input: expected \\{ params, input, seqLen, batchSize, h0 \\}, got the string')],
    valid: ["g.fastRunner(c, { precision: 'f64', threads: 1 })", 'ok'],
  },
  chooseThreads: {
    'wrong type': ["g.chooseThreads(c, '4')", USAGE('chooseThreads: requested: expected a whole number from 1 to 256, got the string "4"')],
    string: ['g.chooseThreads(CASE)', USAGE('chooseThreads: input: expected')],
    valid: ['g.chooseThreads(c, 1)', 'ok'],
  },
  variantsFor: { string: ['g.variantsFor(CASE)', USAGE('variantsFor: expected a case from loadCase or buildCase, got the string')], valid: ['g.variantsFor(c)', 'ok'] },
  makeBaseline: { string: ["g.makeBaseline('results.json')", USAGE('makeBaseline: s: expected a run summary from summarize \\(\\{ pass, summary, cases \\}\\), got the string')], valid: ['g.makeBaseline(s)', 'ok'] },
  applyBaseline: {
    string: ["g.applyBaseline(s, 'baseline.json', 2)", USAGE('applyBaseline: b: expected a baseline from makeBaseline or parseBaseline .*, got the string "baseline\\.json"')],
    'wrong type': ["g.applyBaseline(s, g.makeBaseline(s), '2x')", USAGE('applyBaseline: factor: expected a finite number > 0, got the string "2x"')],
    valid: ['g.applyBaseline(s, g.makeBaseline(s), 2)', 'ok'],
  },
  parseBaseline: { 'wrong type': ["g.parseBaseline(new TextEncoder().encode('{}'), 'b.json')", USAGE('parseBaseline: text: expected a string, got a Uint8Array')] },
  summarize: {
    string: ["g.summarize(['case.npz'])", USAGE('summarize: cases\\[0\\]: expected a case result from checkCase')],
    'wrong type': ['g.summarize([{ ...s.cases[0], checks: undefined }])', USAGE('summarize: cases\\[0\\]\\.checks: expected an array of checks, got undefined')],
    valid: ['g.summarize(s.cases)', 'ok'],
  },
  exitCode: { string: ["g.exitCode('results.json')", USAGE('exitCode: s: expected a run summary')], valid: ['g.exitCode(s)', 'ok'] },
  renderJunit: { string: ["g.renderJunit('results.json')", USAGE('renderJunit: s: expected a run summary')], valid: ['g.renderJunit(s)', 'ok'] },
  renderMarkdown: { string: ["g.renderMarkdown({ ...s, cases: 'x' })", USAGE('renderMarkdown: s: expected a run summary')], valid: ['g.renderMarkdown(s)', 'ok'] },
  renderJson: { string: ["g.renderJson({ ...s, cases: [{ ...s.cases[0], checks: ['output'] }] })", USAGE('renderJson: s\\.cases\\[0\\]\\.checks\\[0\\]: expected a check')], valid: ['g.renderJson(s)', 'ok'] },
  renderHtml: {
    misspelt: ['g.renderHtml(s, { maxCell: 10 })', USAGE(`renderHtml: option 'maxCell' is not an option of renderHtml \\(did you mean 'maxCells'\\?\\)`)],
    string: ["g.renderHtml('results.json')", USAGE('renderHtml: s: expected a run summary')],
    valid: ['g.renderHtml(s, { maxCells: 50 })', 'ok'],
  },
  renderTable: {
    misspelt: ['g.renderTable(s, { colorLevel: 0, widht: 80 })', USAGE(`renderTable: option 'widht' is not an option of renderTable \\(did you mean 'width'\\?\\)`)],
    string: ["g.renderTable('results.json', { colorLevel: 0 })", USAGE('renderTable: s: expected a run summary')],
    'wrong type': ['g.renderTable(s, {})', USAGE('renderTable: option colorLevel is required: 0, 1, 2, 3')],
    valid: ['g.renderTable(s, { colorLevel: 0, width: 80 })', 'ok'],
  },
  withMath: {
    misspelt: ["g.withMath(g.PYTORCH_MATH, { gateOrdr: 'zrn' })", USAGE(`withMath: change: option 'gateOrdr' is not an option of withMath's change \\(did you mean 'gateOrder'\\?\\)`)],
    string: ["g.withMath('pytorch', {})", USAGE('withMath: base: expected an object with linearBeforeReset, .*, got the string "pytorch"')],
    'wrong type': ["g.withMath(g.PYTORCH_MATH, { f: 'HardSigmoid' })", USAGE('withMath: change: option f: expected an Activation')],
    valid: ["g.withMath(g.PYTORCH_MATH, { gateOrder: 'zrn' })", 'ok'],
  },
  isClose: {
    misspelt: ['g.isClose(1, 1, { rtol: 0, atol: 0, equalNan: false, eqaulNan: true })', USAGE(`isClose: option 'eqaulNan' is not an option of isClose \\(did you mean 'equalNan'\\?\\)`)],
    'wrong type': [`g.isClose(1, '1', ${OPT})`, USAGE('isClose: e: expected a number, got the string "1"')],
    valid: [`g.isClose(NaN, NaN, ${OPT})`, 'ok'],
  },
  caseError: { string: ["g.caseError('case.npz', 'boom')", USAGE('caseError: e: expected a GruCheckError, got the string "boom"')], valid: ["g.caseError('case.npz', new g.GruCheckError('USAGE', 'boom'))", 'ok'] },
  formatError: { string: ["g.formatError('boom')", USAGE('formatError: e: expected a GruCheckError, got the string "boom"')] },
  gruFlops: { string: ['g.gruFlops(CASE)', USAGE('gruFlops: input: expected')], valid: ['g.gruFlops(c)', 'ok'] },
  afterEachLayer: {
    string: ["g.afterEachLayer('reference', () => {})", USAGE('afterEachLayer: inner: expected a Runner')],
    'wrong type': ['g.afterEachLayer(g.REFERENCE_RUNNER)', USAGE('afterEachLayer: after: expected a function, got undefined')],
    valid: ['g.afterEachLayer(g.REFERENCE_RUNNER, () => {})', 'ok'],
  },
};

test('every function the built library exports, from plain JavaScript, refuses a misspelt option, a string where a structure belongs and a wrong type by name', () => {
  const dist = join(ROOT, 'dist', 'index.js');
  assert.ok(existsSync(dist), `${dist} is missing: run npm run build (npm test does)`);
  const calls = Object.entries(LIBRARY).flatMap(([name, row]) => (typeof row === 'string' ? [] : Object.entries(row).map(([label, [js]]) => `  [${JSON.stringify(`${name} ${label}`)}, () => ${js}],`)));
  const script = join(tmp('gru-check-js-'), 'library.mjs');
  writeFileSync(script, `import * as g from ${JSON.stringify(dist)};
const CASE = 'test/fixtures/ports/port_base.npz';
const TARGET = { tensor: 'output', subject: 'reference', against: 'expected' };
const out = { exports: Object.keys(g).filter((k) => typeof g[k] === 'function') };
async function attempt(name, f) {
  try { await f(); out[name] = 'ok'; } catch (e) { out[name] = e instanceof g.GruCheckError ? e.code + ': ' + e.message + (e.hint ? ' (' + e.hint + ')' : '') : 'not a GruCheckError: ' + e; }
}
const bundle = await g.loadArrays(CASE);
const c = g.buildCase(bundle);
const t = { shape: [2], data: new Float32Array(2) };
const good = await g.loadArrays('test/fixtures/ports/correct.npz');
const s = g.summarize([await g.checkCase(bundle, { engine: 'reference', fingerprint: true })]);
for (const [name, f] of [
${calls.join('\n')}
]) await attempt(name, f);
// candidate takes a path: a broken port fails, a correct one passes, and the candidate was checked.
const bad = await g.checkCase(CASE, { candidate: 'test/fixtures/ports/gate-order_zrn.npz' });
const right = await g.checkCase(CASE, { candidate: 'test/fixtures/ports/correct.npz' });
out.candidatePath = [bad.pass, right.pass, right.checks.filter((k) => k.subject === 'candidate').length];
await g.closeFastEngine();
process.stdout.write(JSON.stringify(out));
`);
  const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown> & { exports: string[] };
  // A new export cannot skip the checks: every function dist/index.js exports has its row.
  assert.deepEqual(out.exports.filter((k) => !Object.hasOwn(LIBRARY, k)), [], 'exports with no row in LIBRARY: give each a run-time check in src/index.ts and a row here');
  assert.deepEqual(Object.keys(LIBRARY).filter((k) => !out.exports.includes(k)), [], 'rows in LIBRARY for functions dist/index.js does not export');
  for (const [name, row] of Object.entries(LIBRARY)) {
    if (typeof row === 'string') continue;
    assert.ok(Object.keys(row).some((l) => l !== 'valid'), `${name}: no call with a wrong argument`);
    for (const [label, [, expect]] of Object.entries(row)) {
      const got = String(out[`${name} ${label}`]);
      if (expect === 'ok') assert.equal(got, 'ok', `${name} ${label}`);
      else assert.match(got, expect, `${name} ${label}`);
    }
  }
  assert.deepEqual(out.candidatePath, [false, true, 4]);
});
