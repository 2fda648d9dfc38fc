// With --weights model.onnx the GRU node's attributes are the case's settings (issue 20, item 2),
// validated as the ONNX spec defines them; config keys of the other layout are errors when they
// would change the math (item 3). The attribute cases reuse test/fixtures/onnx/ spec cases, whose
// Y and Y_h come from ONNX's reference made to honour clip/activations/sequence_lens, cross-checked
// with a numpy GRU written from Operators.md and with ONNX Runtime 1.30.0 (ort_check.json). Here
// the attributes move from the case's config onto the model's node; where ONNX Runtime is
// installed, the same model also runs in it (--onnx) against the same Y and Y_h.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { cli, members, npyString, ROOT, tmp, writeNpz } from '../helpers.js';
import { splitSpecCase, writeModel } from './model-builder.js';

const SPEC = join(ROOT, 'test', 'fixtures', 'onnx');
const spec = (n: string): string => join(SPEC, `${n}.npz`);

let ortInstalled = true;
try {
  createRequire(import.meta.url).resolve('onnxruntime-node');
} catch {
  ortInstalled = false;
}

const maxErr = (stdout: string): number => Math.max(...JSON.parse(stdout).cases[0].checks.map((k: { maxAbsError: number }) => k.maxAbsError));
const oneLine = (stderr: string): void => assert.equal(stderr.trimEnd().split('\n').length, 1, `expected one line, got:\n${stderr}`);

describe('--weights model.onnx on an ONNX-layout case: the node is the settings', () => {
  const cases: Array<[string, RegExp]> = [
    ['spec_clip_forward', /direction=forward, linear_before_reset=0, .*clip=0\.3/],
    ['spec_reverse_lbr1', /direction=reverse, linear_before_reset=1/],
    ['act_bidirectional_mixed', /direction=bidirectional, linear_before_reset=1/],
    ['act_bidirectional_defaults_clip_seqlens', /direction=bidirectional, linear_before_reset=0, .*clip=0\.8/],
    ['layout1_bidirectional_seqlens', /linear_before_reset=1, bias=True, layout=1/],
  ];
  for (const [name, header] of cases) {
    it(`${name}: passes with the attributes on the node only, fails with them dropped`, async () => {
      const s = await splitSpecCase(spec(name));
      const ok = await cli(['run', s.caseFile, '--weights', s.model, '--format', 'json']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(maxErr(ok.stdout) < 1e-6, `max abs error ${maxErr(ok.stdout)}`);
      assert.equal(JSON.parse(ok.stdout).cases[0].weightsFrom, 'ONNX node gru');
      const text = await cli(['run', s.caseFile, '--weights', s.model]);
      assert.match(text.stdout, header);
      // The same weights on a node without the math attributes (hidden_size, direction and layout
      // kept): a plain GRU, which must not pass.
      const keep = Object.fromEntries(Object.entries(s.attrs).filter(([k]) => ['hidden_size', 'direction', 'layout'].includes(k)));
      const plain = await splitSpecCase(spec(name), { attrs: { ...Object.fromEntries(Object.keys(s.attrs).map((k) => [k, undefined])), ...keep } as never });
      const bad = await cli(['run', plain.caseFile, '--weights', plain.model, '--format', 'json']);
      assert.equal(bad.code, 1, bad.stderr);
      assert.ok(maxErr(bad.stdout) > 1e-3);
    });
  }

  it('ONNX Runtime runs the same models (--onnx) and matches the expected Y and Y_h; layout=1 it refuses in one line', { skip: !ortInstalled && 'onnxruntime-node is not installed (.ci/run installs it)' }, async () => {
    for (const [name] of cases) {
      const s = await splitSpecCase(spec(name));
      const r = await cli(['run', s.caseFile, '--weights', s.model, '--onnx', s.model, '--format', 'json']);
      if (name.startsWith('layout1')) {
        assert.equal(r.code, 2, r.stdout);
        oneLine(r.stderr);
        assert.match(r.stderr, /ONNX Runtime .*layout == 1|Batchwise/i);
        continue;
      }
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const c = JSON.parse(r.stdout).cases[0];
      const cand = c.checks.filter((k: { subject: string }) => k.subject === 'candidate');
      assert.equal(cand.length, 4, name);
      for (const k of cand) assert.ok(k.maxAbsError < 1e-6, `${name} ${k.tensor}: ${k.maxAbsError}`);
    }
  });

  it('a flag or config key that contradicts the node: exit 2 naming both values', async () => {
    const cfg = await splitSpecCase(spec('spec_clip_forward'), { config: { clip: 0.5 } });
    const r1 = await cli(['run', cfg.caseFile, '--weights', cfg.model]);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /config: clip 0\.5 contradicts GRU node gru of the model \(clip 0\.3\)/);
    const s = await splitSpecCase(spec('spec_reverse_lbr1'));
    const r2 = await cli(['run', s.caseFile, '--weights', s.model, '--linear-before-reset', '0']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--linear-before-reset 0 contradicts GRU node gru of the model \(linear_before_reset 1\)/);
    const r3 = await cli(['run', s.caseFile, '--weights', s.model, '--direction', 'forward']);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /--direction "forward" contradicts GRU node gru of the model \(direction "reverse"\)/);
    const acts = await splitSpecCase(spec('act_bidirectional_mixed'), { config: { activations: ['Sigmoid', 'Tanh', 'Sigmoid', 'Tanh'] } });
    const r4 = await cli(['run', acts.caseFile, '--weights', acts.model]);
    assert.equal(r4.code, 2);
    assert.match(r4.stderr, /config: activations \[Sigmoid, Tanh, Sigmoid, Tanh\] contradicts .*\(activations \[HardSigmoid\(0\.25, 0\.45\), LeakyRelu\(0\.05, 0\), Sigmoid, ScaledTanh\(0\.9, 1\.2\)\]\)/);
    const lay = await splitSpecCase(spec('layout1_bidirectional_seqlens'));
    const r5 = await cli(['run', lay.caseFile, '--weights', lay.model, '--seq-first']);
    assert.equal(r5.code, 2);
    assert.match(r5.stderr, /contradicts GRU node gru of the model \(onnx_layout 1\)/);
    // Agreeing settings are fine.
    const same = await splitSpecCase(spec('spec_clip_forward'), { config: { clip: 0.3, direction: 'forward', linear_before_reset: 0 } });
    assert.equal((await cli(['run', same.caseFile, '--weights', same.model])).code, 0);
  });

  it('every attribute is validated as the spec defines it: exit 2, one line, naming the attribute', async () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ direction: 'sideways' }, /attribute direction must be "forward", "reverse" or "bidirectional", got "sideways"/],
      [{ layout: { int: 7 } }, /attribute layout must be 0 .* or 1 .*, got 7/],
      [{ clip: { float: Number.NaN } }, /attribute clip must be a finite number > 0 .*, got NaN/],
      [{ clip: { float: -1 } }, /attribute clip must be a finite number > 0 .*, got -1/],
      [{ clip: { int: 1 } }, /attribute clip must be FLOAT, got INT/],
      [{ linear_before_reset: { int: 5 } }, /attribute linear_before_reset must be 0 or 1, got 5/],
      [{ activations: ['Swish', 'Tanh'] }, /attribute activations names "Swish", not an ONNX RNN activation/],
      [{ activation_alpha: [Number.POSITIVE_INFINITY] }, /attribute activation_alpha must hold finite numbers/],
      [{ hidden_size: { int: 0 } }, /attribute hidden_size must be a positive integer, got 0/],
      [{ output_sequence: { int: 1 } }, /attribute 'output_sequence' is not an attribute of ONNX's GRU/],
    ];
    for (const [attrs, msg] of bad) {
      const s = await splitSpecCase(spec('spec_forward_lbr0'), { attrs: attrs as never });
      const r = await cli(['run', s.caseFile, '--weights', s.model]);
      assert.equal(r.code, 2, `${JSON.stringify(attrs)}: ${r.stdout}`);
      oneLine(r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /GRU node gru: /);
    }
    // The same validation on the PyTorch-layout path (an exported stack as the weights).
    const s = await splitSpecCase(spec('spec_forward_lbr0'), { attrs: { linear_before_reset: { int: 5 } } });
    const r = await cli(['run', join(ROOT, 'test', 'fixtures', 'onnx-models', 'uni1_sf.npz'), '--weights', s.model]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /attribute linear_before_reset must be 0 or 1, got 5/);
  });

  it('a hostile node name reaches stderr as one escaped line', async () => {
    const s = await splitSpecCase(spec('spec_forward_lbr0'), { nodeName: 'g\r\n::error::pwned\u001b[31m', attrs: { clip: { float: -1 } } });
    const r = await cli(['run', s.caseFile, '--weights', s.model]);
    assert.equal(r.code, 2);
    oneLine(r.stderr);
    assert.doesNotMatch(r.stderr, /\r|\u001b/);
    assert.match(r.stderr, /GRU node g\\r\\n::error::pwned\\x1b\[31m: attribute clip/);
  });

  it('an ONNX-layout case against a model with several GRU nodes needs --node', async () => {
    const s = await splitSpecCase(spec('spec_forward_lbr0'));
    const r = await cli(['run', s.caseFile, '--weights', join(ROOT, 'test', 'fixtures', 'onnx-models', 'two_grus.onnx')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /several GRU nodes in the ONNX model \(\/enc\/GRU, \/dec\/GRU\) .*--node/);
  });
});

describe('config keys of the other layout (item 3): an error when they change the math, a warning when not', () => {
  const pt = join(ROOT, 'test', 'fixtures', 'onnx-models', 'uni1_sf.npz');
  const withConfig = (extra: Record<string, unknown>): string => {
    const m = members(pt);
    const cfg = { description: 'x', ...extra };
    m.config = npyString(JSON.stringify(cfg));
    return writeNpz(join(tmp('gru-check-keys-'), 'case.npz'), m);
  };

  it('linear_before_reset, clip, activations, gate_order on a PyTorch-layout case: exit 2 with the flag\'s reason', async () => {
    const flag = await cli(['run', pt, '--linear-before-reset', '1']);
    assert.equal(flag.code, 2);
    const why = /does not apply to PyTorch's state_dict layout: (.*)$/m.exec(flag.stderr)![1]!;
    const cfg = await cli(['run', withConfig({ linear_before_reset: 1 })]);
    assert.equal(cfg.code, 2, cfg.stdout);
    assert.ok(cfg.stderr.includes(`config: linear_before_reset does not apply to PyTorch's state_dict layout: ${why.replace(/ \(.*$/, '')}`), cfg.stderr);
    for (const [key, value] of [['clip', 0.5], ['activations', ['Sigmoid', 'Tanh']], ['gate_order', 'rzn'], ['direction', 'reverse']] as const) {
      const r = await cli(['run', withConfig({ [key]: value })]);
      assert.equal(r.code, 2, `${key}: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`config: ${key} does not apply to PyTorch's state_dict layout: it is an attribute of the ONNX GRU node`));
    }
    const keras = await cli(['run', withConfig({ reset_after: false })]);
    assert.equal(keras.code, 2);
    assert.match(keras.stderr, /config: reset_after does not apply to PyTorch's state_dict layout: it is a Keras GRU layer setting/);
  });

  it('a key that changes nothing stays a warning (exit 0)', async () => {
    const r = await cli(['run', withConfig({ note_to_self: 'hi' }), '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.stringify(JSON.parse(r.stdout).cases[0].warnings), /note_to_self/);
  });

  it('an ONNX case with a Keras key: exit 2', async () => {
    const m = members(spec('spec_forward_lbr0'));
    const cfg = JSON.parse(((await loadArrays(spec('spec_forward_lbr0'))).arrays.get('config')!.data as string[])[0]!);
    m.config = npyString(JSON.stringify({ ...cfg, recurrent_activation: 'hard_sigmoid' }));
    const r = await cli(['run', writeNpz(join(tmp('gru-check-keys-'), 'onnx.npz'), m)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /config: recurrent_activation does not apply to the ONNX layout: it is a Keras GRU layer setting/);
  });
});
