/**
 * State order: h_n (and h0) rows stacked in another order than PyTorch's layer-major l*D + d —
 * directions swapped, direction-major, top layer first.
 */
import type { FloatArray, GruCase } from '../../model/types.js';
import { D, hasNonZero, termsOf, variantList } from './common.js';
import type { Variant } from './variant.js';

/** h_n (or h0) rows permuted: the state of (layer l, direction d) at row `to(l, d)`. */
function permuteStates(s: FloatArray, c: GruCase, to: (l: number, d: number) => number): Float64Array {
  const L = c.params.numLayers;
  const per = s.length / (L * D(c));
  const out = new Float64Array(s.length);
  for (let l = 0; l < L; l++) for (let d = 0; d < D(c); d++) out.set(s.subarray((l * D(c) + d) * per, (l * D(c) + d + 1) * per), to(l, d) * per);
  return out;
}

/** The state-order mistakes a case with several layers or directions can show. */
export function stateOrder(c: GruCase): Variant[] {
  const t = termsOf(c);
  const L = c.params.numLayers;
  const { out, add } = variantList();
  add({
    name: 'h_n-directions-swapped',
    family: 'state-order',
    touches: { hnOnly: true },
    fix: 'save each layer\'s final states forward first: Keras\'s Bidirectional(return_state=True) returns [output, forward_h, backward_h]; the port stores (backward_h, forward_h)',
    plan: (c) => ({ finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => l * 2 + (1 - d)) }) }),
  }, D(c) === 2);
  if (L > 1 && D(c) === 2) {
    add({
      name: 'h_n-direction-major',
      family: 'state-order',
      touches: { hnOnly: true },
      fix: 'stack h_n layer-major, as PyTorch does: the state of (layer l, direction d) goes to row l*2 + d, not d*num_layers + l',
      plan: (c) => ({ finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => d * L + l) }) }),
    });
    add({
      name: 'state-direction-major',
      family: 'state-order',
      fix: `index ${t.h0} and h_n layer-major, as PyTorch does: row l*2 + d holds (layer l, direction d); the port reads and writes them direction-major (d*num_layers + l)`,
      plan: (c) => {
        // The port reads row d*L + l of h0 as (l, d): the inverse of writing (l, d) there.
        const rows = L * 2;
        const per = c.h0.length / rows;
        const h0 = new Float64Array(c.h0.length);
        for (let l = 0; l < L; l++) for (let d = 0; d < 2; d++) h0.set(c.h0.subarray((d * L + l) * per, (d * L + l + 1) * per), (l * 2 + d) * per);
        return { h0, finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => d * L + l) }) };
      },
    }, c.h0Given && hasNonZero(c.h0));
  }
  add({
    name: 'h_n-layers-reversed',
    family: 'state-order',
    touches: { hnOnly: true },
    fix: 'stack h_n bottom layer first, as PyTorch does: row l*D + d holds layer l; the port writes the top layer first',
    plan: (c) => ({ finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => (L - 1 - l) * D(c) + d) }) }),
  }, L > 1);
  return out;
}
