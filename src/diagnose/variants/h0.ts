/** The initial state: ignored (zeros) where the case gives a non-zero one. */
import type { GruCase } from '../../model/types.js';
import { hasNonZero, termsOf, variantList } from './common.js';
import type { Variant } from './variant.js';

/** h0 ignored, when the case has a non-zero h0. */
export function initialState(c: GruCase): Variant[] {
  const t = termsOf(c);
  const { out, add } = variantList();
  add({
    name: 'h0-ignored',
    family: 'h0',
    fix: `pass the initial hidden state ${t.h0} to the GRU instead of starting from zeros`,
    plan: (c) => ({ h0: new Float64Array(c.h0.length) }),
  }, c.h0Given && hasNonZero(c.h0));
  return out;
}
