/**
 * Weight layout: the recurrent and input weights (or single gate blocks of them) used transposed,
 * or their row-major buffers reshaped where a transpose was needed.
 */
import type { FloatArray, GruCase } from '../../model/types.js';
import { transpose } from '../../model/gates.js';
import { mapParams, termsOf, variantList } from './common.js';
import type { Variant } from './variant.js';

/** The (H, H) gate blocks `blocks` (0 r, 1 z, 2 n) of a (3H, H) matrix, each transposed in place. */
function transposeBlocks(w: FloatArray, H: number, blocks: readonly number[] = [0, 1, 2]): FloatArray {
  const out = w.slice();
  for (const g of blocks) out.set(transpose(w.subarray(g * H * H, (g + 1) * H * H), H, H), g * H * H);
  return out;
}

/** A row-major (3H, K) buffer reinterpreted as (K, 3H), then transposed: W.reshape(K, 3H).T. */
function reshapedNotTransposed(w: FloatArray, rows: number, cols: number): FloatArray {
  // (K, 3H) view: element [k][i] = w[k * rows + i]; its transpose [i][k] is what the port uses.
  return transpose(w, cols, rows);
}

/** weight_hh (R, recurrent_kernel) read in the wrong layout. */
export function recurrentWeightLayout(c: GruCase): Variant[] {
  const t = termsOf(c);
  const H = c.params.hiddenSize;
  const { out, add } = variantList();
  add({
    name: 'w_hh-transposed',
    family: 'w_hh-layout',
    fix: `transpose ${t.whh}'s gate blocks back: use it as (3H, H) with h on the right (W_hh @ h), not h @ W_hh`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: transposeBlocks(d.weightHh, H) })) }),
  });
  for (const [g, letter] of ['r', 'z', 'n'].entries()) {
    add({
      name: `w_hh-block-transposed:${letter}`,
      family: 'w_hh-layout',
      fix: `read the ${letter === 'n' ? t.n : letter} block of ${t.whh} as stored: the port transposes that (H, H) block only`,
      plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: transposeBlocks(d.weightHh, H, [g]) })) }),
    });
  }
  add({
    name: 'w_hh-reshaped',
    family: 'w_hh-layout',
    fix: `transpose ${t.whh}, don't reshape it: the port reinterprets the row-major (3H, H) buffer as (H, 3H) (a reshape where a transpose was needed)`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: reshapedNotTransposed(d.weightHh, 3 * H, H) })) }),
  });
  return out;
}

/** weight_ih (W, kernel) read in the wrong layout; transposed blocks only show where the input size is H. */
export function inputWeightLayout(c: GruCase): Variant[] {
  const t = termsOf(c);
  const H = c.params.hiddenSize;
  const squareIh = c.params.layers.flatMap((dirs, k) => (dirs[0]!.inputSize === H ? [k] : []));
  const { out, add } = variantList();
  if (squareIh.length > 0) {
    const fromLayer = squareIh[0]!;
    add({
      name: 'w_ih-transposed',
      family: 'w_ih-layout',
      touches: { fromLayer },
      fix: `transpose ${t.wih}'s gate blocks back: use it as (3H, I) with x on the right (W_ih @ x), not x @ W_ih`,
      plan: (c) => ({ params: mapParams(c.params, (d) => (d.inputSize === H ? { ...d, weightIh: transposeBlocks(d.weightIh, H) } : d)) }),
    });
    for (const [g, letter] of ['r', 'z', 'n'].entries()) {
      add({
        name: `w_ih-block-transposed:${letter}`,
        family: 'w_ih-layout',
        touches: { fromLayer },
        fix: `read the ${letter === 'n' ? t.n : letter} block of ${t.wih} as stored: the port transposes that (H, ${H}) block only (layers with input size ${H})`,
        plan: (c) => ({ params: mapParams(c.params, (d) => (d.inputSize === H ? { ...d, weightIh: transposeBlocks(d.weightIh, H, [g]) } : d)) }),
      });
    }
  }
  add({
    name: 'w_ih-reshaped',
    family: 'w_ih-layout',
    fix: `transpose ${t.wih}, don't reshape it: the port reinterprets the row-major (3H, I) buffer as (I, 3H) (a reshape where a transpose was needed)`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightIh: reshapedNotTransposed(d.weightIh, 3 * H, d.inputSize) })) }),
  });
  return out;
}
