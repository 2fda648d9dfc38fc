// ONNX Runtime in its box (issue 20 item 5), through the built CLI in a fresh process, since what
// is tested is what reaches the real stderr and the disk: nothing of ONNX Runtime's own logging,
// one escaped line for its errors, nothing written under $HOME, Ctrl-C during a run that would
// never end -> exit 130 with no report or baseline; float16 outputs read as float16, bfloat16 and
// integer outputs exit 2 naming the output. Skipped where onnxruntime-node is not installed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { bin, BIN, cli, ROOT, tmp } from '../helpers.js';
import { splitSpecCase } from './model-builder.js';

let ortInstalled = true;
try {
  createRequire(import.meta.url).resolve('onnxruntime-node');
} catch {
  ortInstalled = false;
}
const skip = !ortInstalled && 'onnxruntime-node is not installed (.ci/run installs it)';
const SPEC = join(ROOT, 'test', 'fixtures', 'onnx');
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

describe('ONNX Runtime in its box', { skip }, () => {
  it('--max-bytes bounds the model --onnx reads: refused (one line, exit 2) before ONNX Runtime opens it', async () => {
    // The case's arrays take 9.5 KB; the model, a 21 KB file, is over 12K, and fine under 30K.
    const model = join('test', 'fixtures', 'onnx-models', 't2_bidir2_bf_noopt.onnx');
    const caseFile = join('test', 'fixtures', 'onnx-models', 't2_bidir2_bf.npz');
    const r = await cli(['run', caseFile, '--onnx', model, '--max-bytes', '12K']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'gru-check: error: test/fixtures/onnx-models/t2_bidir2_bf_noopt.onnx: arrays total 21154 bytes, more than the limit of 12288 bytes\n');
    assert.equal((await cli(['run', caseFile, '--onnx', model, '--max-bytes', '30K'])).code, 0);
  });

  it('its own log records never reach stderr (2000 unused initializers); nothing is written under $HOME', async () => {
    const s = await splitSpecCase(join(SPEC, 'spec_clip_forward.npz'), { model: { unusedInitializers: 2000 } });
    const home = tmp('gru-check-home-');
    const r = bin(['run', s.caseFile, '--weights', s.model, '--onnx', s.model], { HOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(readdirSync(home), [], 'ONNX Runtime wrote under $HOME');
  });

  it('a model ONNX Runtime rejects, and one whose node name is hostile: exactly one escaped line', async () => {
    const s = await splitSpecCase(join(SPEC, 'spec_forward_lbr0.npz'), { model: { irVersion: 99 } });
    const r = bin(['run', s.caseFile, '--weights', s.model, '--onnx', s.model]);
    assert.equal(r.code, 2);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^gru-check: error: .*model\.onnx: ONNX Runtime cannot load the model: .*IR version: 99/);
    assert.doesNotMatch(r.stderr, /onnxruntime_src/);
    const h = await splitSpecCase(join(SPEC, 'spec_forward_lbr0.npz'), { nodeName: 'g\r\n::error::pwned', attrs: { foo: { int: 1 } } });
    const r2 = bin(['run', h.caseFile, '--onnx', h.model, '--layout', 'onnx', '--weights', join(SPEC, 'spec_forward_lbr0.npz')]);
    assert.equal(r2.code, 2, r2.stdout);
    assert.equal(lines(r2.stderr).length, 1, r2.stderr);
    assert.doesNotMatch(r2.stderr, /\r/);
    assert.match(r2.stderr, /^gru-check: error: .*ONNX Runtime cannot load the model: .*g\\r\\n::error::pwned/);
  });

  it('an invalid graph (a node reading a value nobody makes): one line', () => {
    const dir = tmp('gru-check-ort-');
    const model = join(dir, 'bad.onnx');
    writeFileSync(model, onnxProto.onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 14 }],
      graph: { name: 'g', node: [{ opType: 'Relu', input: ['nowhere'], output: ['Y'] }], input: [{ name: 'X', type: { tensorType: { elemType: 1 } } }], output: [{ name: 'Y', type: { tensorType: { elemType: 1 } } }] },
    }).finish());
    const r = bin(['run', join(SPEC, 'spec_forward_lbr0.npz'), '--onnx', model]);
    assert.equal(r.code, 2);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /ONNX Runtime cannot load the model/);
  });

  it('float16 outputs are read as float16 (and judged at float16 tolerances); bfloat16 and int64 outputs exit 2 naming the output', async () => {
    const f16 = await splitSpecCase(join(SPEC, 'spec_forward_lbr1.npz'), { model: { castOutputsTo: 10 } });
    const r = bin(['run', f16.caseFile, '--weights', f16.model, '--onnx', f16.model, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout).cases[0];
    const cand = c.checks.filter((k: { subject: string }) => k.subject === 'candidate');
    assert.equal(cand.length, 4);
    // float16 keeps 11 significant bits: errors of about 2^-11 relative, never the 1e4 of bits read as numbers.
    for (const k of cand) assert.ok(k.maxAbsError > 0 && k.maxAbsError < 1e-3, `${k.tensor}: ${k.maxAbsError}`);
    assert.match(JSON.stringify(c), /float16/);
    for (const [to, name] of [[16, 'bfloat16'], [7, 'int64']] as const) {
      const m = await splitSpecCase(join(SPEC, 'spec_forward_lbr1.npz'), { model: { castOutputsTo: to } });
      const bad = bin(['run', m.caseFile, '--weights', m.model, '--onnx', m.model]);
      assert.equal(bad.code, 2, bad.stdout);
      assert.equal(lines(bad.stderr).length, 1, bad.stderr);
      assert.match(bad.stderr, new RegExp(`the model's output 'Y' is ${name}`));
    }
  });

  it('Ctrl-C while ONNX Runtime runs a model that never ends: exit 130, one line, no report or baseline', async () => {
    const dir = tmp('gru-check-ort-sigint-');
    // X -> Loop(cond stays true, no trip count) -> Y: ONNX Runtime never returns from this run.
    const vi = (name: string, elemType: number, dims?: number[]): Record<string, unknown> => ({ name, type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } } });
    const body = {
      name: 'body',
      node: [{ opType: 'Identity', input: ['c_in'], output: ['c_out'] }, { opType: 'Identity', input: ['v_in'], output: ['v_out'] }],
      input: [vi('i', 7, []), vi('c_in', 9, []), vi('v_in', 1)],
      output: [vi('c_out', 9, []), vi('v_out', 1)],
    };
    const model = join(dir, 'forever.onnx');
    writeFileSync(model, onnxProto.onnx.ModelProto.encode({
      irVersion: 8, opsetImport: [{ domain: '', version: 14 }],
      graph: {
        name: 'g',
        node: [{ opType: 'Loop', input: ['', 'yes', 'X'], output: ['Y'], attribute: [{ name: 'body', type: 5, g: body }] }],
        initializer: [{ name: 'yes', dataType: 9, dims: [], int32Data: [1] }],
        input: [vi('X', 1)],
        output: [vi('Y', 1)],
      },
    }).finish());
    const report = join(dir, 'report.json');
    const baseline = join(dir, 'baseline.json');
    const missing = join(dir, 'missing.npz');
    const r = await new Promise<{ code: number | null; stderr: string; sent: boolean }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'run', missing, join(SPEC, 'spec_forward_lbr0.npz'), '--onnx', model, '--report', report, '--save-baseline', baseline], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
      let stderr = '';
      let sent = false;
      // A run that ignores the signal never ends: the guard turns that into a failure, not a hang.
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr += d;
        if (!sent && /missing\.npz: .*\n/.test(stderr)) {
          sent = true;
          // Past the marker the CLI loads a 3 KiB case and starts ONNX Runtime, which then never
          // returns: wherever the signal lands, only a prompt handler can end this run.
          child.kill('SIGINT');
        }
      });
      child.on('close', (code) => {
        clearTimeout(guard);
        resolve({ code, stderr, sent });
      });
    });
    assert.ok(r.sent, r.stderr);
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(lines(r.stderr).slice(1), ['gru-check: interrupted (SIGINT)']);
    assert.ok(!existsSync(report) && !existsSync(baseline), 'a report or baseline was written');
  });
});
