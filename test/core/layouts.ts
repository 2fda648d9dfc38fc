// ONNX direction="forward" / "reverse": one direction cut out of a real PyTorch bidirectional run
// (samples/onnx_lbr1.npz, with sequence_lens) must check out on its own, in ONNX's axis order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadArrays } from '../../src/io/load.js';
import { buildCase } from '../../src/model/case.js';

import { checkCase } from '../../src/check.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { npy, npyString, sample, tmp, writeNpz, checkRef } from '../helpers.js';

after(() => closeFastEngine());

test('ONNX single direction, forward and reverse, cut from a bidirectional PyTorch run', async () => {
  const src = (await loadArrays(sample('onnx_lbr1.npz'))).arrays;
  const f = (name: string) => src.get(name)!.data as Float32Array;
  const [T, D, B, H] = src.get('Y')!.shape as [number, number, number, number];
  const I = src.get('X')!.shape[2]!;
  const dir = tmp();
  for (const [d, direction] of [[0, 'forward'], [1, 'reverse']] as const) {
    const Y = new Float32Array(T * B * H);
    for (let t = 0; t < T; t++) Y.set(f('Y').subarray(((t * D + d) * B) * H, ((t * D + d) * B + B) * H), t * B * H);
    const file = writeNpz(join(dir, `${direction}.npz`), {
      X: npy(f('X'), [T, B, I]),
      W: npy(f('W').slice(d * 3 * H * I, (d + 1) * 3 * H * I), [1, 3 * H, I]),
      R: npy(f('R').slice(d * 3 * H * H, (d + 1) * 3 * H * H), [1, 3 * H, H]),
      B: npy(f('B').slice(d * 6 * H, (d + 1) * 6 * H), [1, 6 * H]),
      initial_h: npy(f('initial_h').slice(d * B * H, (d + 1) * B * H), [1, B, H]),
      sequence_lens: npy(src.get('sequence_lens')!.data as Int32Array, [B]),
      Y: npy(Y, [T, 1, B, H]),
      Y_h: npy(f('Y_h').slice(d * B * H, (d + 1) * B * H), [1, B, H]),
      config: npyString(JSON.stringify({ layout: 'onnx', linear_before_reset: 1, direction })),
    });
    const c = buildCase(await loadArrays(file));
    assert.equal(c.params.reverseOnly ?? false, direction === 'reverse');
    const r = await checkRef(c);
    assert.equal(r.pass, true, `${direction}: ${JSON.stringify(r.checks.map((k) => [k.tensor, k.maxAbsError]))}`);
    assert.deepEqual(r.checks.map((k) => k.shape), [[T, 1, B, H], [1, B, H]]);
    for (const threads of [1, 2]) {
      const fast = await checkCase(c, { engine: 'fast', threads });
      assert.equal(fast.pass, true, `the fast engine agrees (${threads} thread(s))`);
      assert.equal(fast.timings.threads, threads);
    }
    // the other direction's reading of the same weights must not pass
    const wrong = await checkRef(buildCase(await loadArrays(file), { direction: direction === 'reverse' ? 'forward' : 'reverse' }));
    assert.equal(wrong.pass, false);
  }
});
