// The layout flags through the built CLI (README "Command line", "ONNX and Keras layouts", and
// `gru-check run --help`): --layout decides over config and array names; each ONNX node attribute
// flag (--linear-before-reset, --direction, --onnx-layout, --clip, --activations,
// --activation-alpha / --activation-beta) supplies an attribute the case's config lacks: the same
// case fails without the flag and passes with it; --batch-first on an ONNX case means onnx_layout
// 1; a flag that does not apply to the case's layout is exit 2 with one line naming it.
// The cases are ONNX spec fixtures (test/fixtures/onnx/, expected tensors from ONNX's reference)
// with one attribute taken out of their config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseNpy } from '../../src/io/npy.js';
import { ROOT, cli, members, npyString, tmp, writeNpz } from '../helpers.js';

const ONNX = (name: string): string => join(ROOT, 'test', 'fixtures', 'onnx', name);

/** A copy of an ONNX fixture with `keys` removed from its config. */
function without(dir: string, fixture: string, keys: string[]): string {
  const m = members(ONNX(fixture));
  const config = JSON.parse((parseNpy(m.config!, 'config').data as string[])[0]!) as Record<string, unknown>;
  for (const k of keys) {
    assert.ok(k in config, `${fixture}: config has ${k}`);
    delete config[k];
  }
  return writeNpz(join(dir, `${fixture.replace(/\.npz$/, '')}-no-${keys.join('-')}.npz`), { ...m, config: npyString(JSON.stringify(config)) });
}

interface JsonCase {
  case: string;
  pass: boolean;
  error?: string;
  config?: { layout: string; batchFirst: boolean };
  linearBeforeReset?: boolean;
  reverseOnly?: boolean;
  math?: Array<{ clip: number | null; f: { name: string; alpha: number; beta: number }; g: { name: string } }>;
  checks: Array<{ tensor: string; pass: boolean; shape: number[] }>;
}

async function runJson(args: string[]): Promise<{ code: number | null; cases: JsonCase[]; stderr: string }> {
  const r = await cli(['run', ...args, '--format', 'json']);
  return { code: r.code, cases: (JSON.parse(r.stdout) as { cases: JsonCase[] }).cases, stderr: r.stderr };
}

/** exit 2, one line per case on stderr, each naming the flag and why. */
async function assertRefused(args: string[], lines: RegExp[]): Promise<void> {
  const r = await cli(['run', ...args]);
  assert.equal(r.code, 2, r.stderr);
  const got = r.stderr.trimEnd().split('\n');
  assert.equal(got.length, lines.length, r.stderr);
  lines.forEach((re, i) => assert.match(got[i]!, re));
}

test('--layout decides over config and array names', async () => {
  const onnx = await runJson(['samples/onnx_lbr1.npz', '--layout', 'onnx']);
  assert.equal(onnx.code, 0, onnx.stderr);
  assert.equal(onnx.cases[0]!.config!.layout, 'onnx');
  // The same file read as another layout: its X, W, R are not Keras weights.
  await assertRefused(['samples/onnx_lbr1.npz', '--layout', 'keras'], [/^gru-check: error: samples\/onnx_lbr1\.npz: no Keras GRU weights found: expected kernel, recurrent_kernel and bias/]);
});

test('each ONNX attribute flag supplies what the config lacks: fail without it, pass with it', async () => {
  const dir = tmp();
  const lbr = without(dir, 'spec_forward_lbr1.npz', ['linear_before_reset']);
  const reverse = without(dir, 'spec_reverse_lbr0.npz', ['direction']);
  const layout1 = without(dir, 'layout1_forward.npz', ['onnx_layout']);
  const clip = without(dir, 'spec_clip_forward.npz', ['clip']);
  const acts = without(dir, 'act_f_HardSigmoid.npz', ['activations']);
  const alphaBeta = without(dir, 'act_f_HardSigmoid_params.npz', ['activation_alpha', 'activation_beta']);

  // Without the flags: ONNX's defaults (linear_before_reset 0, direction from W = forward,
  // layout 0, no clip, Sigmoid/Tanh, HardSigmoid(0.2, 0.5)) do not reproduce any of them.
  const bare = await runJson([lbr, reverse, layout1, clip, acts, alphaBeta]);
  assert.notEqual(bare.code, 0);
  for (const c of bare.cases) assert.equal(c.pass, false, `${c.case} passes without its attribute`);

  const withLbr = await runJson([lbr, '--linear-before-reset', '1']);
  assert.equal(withLbr.code, 0, withLbr.stderr);
  assert.equal(withLbr.cases[0]!.linearBeforeReset, true);

  const withDir = await runJson([reverse, '--direction', 'reverse']);
  assert.equal(withDir.code, 0, withDir.stderr);
  assert.equal(withDir.cases[0]!.reverseOnly, true);

  // onnx_layout 1: X [B, T, I], Y [B, T, D, H]; --batch-first means the same on an ONNX case.
  for (const flag of [['--onnx-layout', '1'], ['--batch-first']]) {
    const r = await runJson([layout1, ...flag]);
    assert.equal(r.code, 0, `${flag.join(' ')}: ${r.stderr}`);
    assert.equal(r.cases[0]!.config!.batchFirst, true);
    assert.deepEqual(r.cases[0]!.checks.find((k) => k.tensor === 'output')!.shape, [3, 5, 1, 4], 'Y [B, T, D, H]');
  }

  const withClip = await runJson([clip, '--clip', '0.3']);
  assert.equal(withClip.code, 0, withClip.stderr);
  assert.equal(withClip.cases[0]!.math![0]!.clip, 0.3);

  const withActs = await runJson([acts, '--activations', 'HardSigmoid,Tanh']);
  assert.equal(withActs.code, 0, withActs.stderr);
  assert.deepEqual([withActs.cases[0]!.math![0]!.f.name, withActs.cases[0]!.math![0]!.g.name], ['HardSigmoid', 'Tanh']);

  const withAlphaBeta = await runJson([alphaBeta, '--activation-alpha', '0.3', '--activation-beta', '0.6']);
  assert.equal(withAlphaBeta.code, 0, withAlphaBeta.stderr);
  const f = withAlphaBeta.cases[0]!.math![0]!.f;
  assert.deepEqual([f.name, f.alpha, f.beta], ['HardSigmoid', 0.3, 0.6]);
});

test('a flag that does not apply to the layout is exit 2 with one line naming it', async () => {
  // One run, two cases: the PyTorch and the Keras sample both refuse an ONNX node attribute.
  await assertRefused(['samples/classic_batch_first.npz', 'samples/keras_reset_after.npz', '--clip', '0.3'], [
    /^gru-check: error: samples\/classic_batch_first\.npz: --clip does not apply to PyTorch's state_dict layout: it is an attribute of the ONNX GRU node/,
    /^gru-check: error: samples\/keras_reset_after\.npz: --clip does not apply to the Keras layout: it is an attribute of the ONNX GRU node/,
  ]);
  await assertRefused(['samples/classic_batch_first.npz', '--linear-before-reset', '0'], [
    /^gru-check: error: samples\/classic_batch_first\.npz: --linear-before-reset does not apply to PyTorch's state_dict layout: nn\.GRU always applies the reset gate after the recurrent matmul/,
  ]);
  await assertRefused([ONNX('layout1_forward.npz'), '--onnx-layout', '1', '--seq-first'], [
    /^gru-check: error: .*layout1_forward\.npz: --onnx-layout 1 contradicts --seq-first \(on an ONNX case it means onnx_layout 0\)$/,
  ]);
});
