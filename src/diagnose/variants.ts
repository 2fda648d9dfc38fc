/**
 * The known porting mistakes. A variant says how a port with that mistake would have run the case,
 * as changes to what the stack driver is given — the weights, the gate math (src/gru/math.ts), h0,
 * the inputs, the state's precision — or as a runner decorator that alters what each layer is
 * given or what it wrote before the next layer reads it (src/gru/stack.ts, eachLayer), or as a
 * change of the final tensors. It never re-implements the GRU: every variant runs on the engine
 * `run` uses (a float16 state on the reference runner, the only one that rounds to float16).
 *
 * Names are stable (they are in the JSON) and, like the one-line fixes, use the case's own
 * layout's terms: an ONNX case hears about W, R, Rb_h, initial_h, linear_before_reset and its
 * z|r|h gate blocks, a PyTorch one about weight_hh, b_hn, h0 and r|z|n.
 *
 * Each variant also says what it can touch — only h_n, only the backward direction, only some
 * layers, only sequences shorter than T — so diagnose tries it only where the failure is
 * (where.ts), and which family it belongs to, so two mistakes of one family are never paired.
 *
 * This file lists them: one file per family group under variants/, concatenated in the order
 * diagnose tries them (the order is behaviour: the first match ends the search, and pairs are named
 * in it).
 */
import type { GruCase } from '../model/types.js';
import { withMath, type GateMath } from '../model/math.js';
import type { Variant } from './variants/variant.js';
import { gateOrders } from './variants/gate-order.js';
import { resetPlacement } from './variants/reset.js';
import { biases } from './variants/biases.js';
import { initialState } from './variants/h0.js';
import { inputWeightLayout, recurrentWeightLayout } from './variants/weight-layout.js';
import { updateActivation } from './variants/update-activation.js';
import { directions } from './variants/directions.js';
import { lengths } from './variants/lengths.js';
import { stateOrder } from './variants/state-order.js';
import { axes } from './variants/axes.js';
import { precision } from './variants/precision.js';

export type { Variant, VariantPlan } from './variants/variant.js';
export { pairOf } from './variants/pair.js';

/** Every variant that can exist (or show) in this case, named in its layout's terms, most common mistakes first. */
export function variantsFor(c: GruCase): Variant[] {
  return [
    ...gateOrders(c),
    ...resetPlacement(c),
    ...biases(c),
    ...initialState(c),
    ...recurrentWeightLayout(c),
    ...inputWeightLayout(c),
    ...updateActivation(c),
    ...directions(c),
    ...lengths(c),
    ...stateOrder(c),
    ...axes(c),
    ...precision(c),
  ];
}

/** The case's math with a variant's changes, per direction when the case has per-direction math. */
export function variantMath(c: GruCase, change: Partial<GateMath> | undefined): GateMath | readonly GateMath[] {
  const base = c.directionMath ?? c.math;
  if (!change) return base;
  return Array.isArray(base) ? (base as readonly GateMath[]).map((m) => withMath(m, change)) : withMath(base as GateMath, change);
}
