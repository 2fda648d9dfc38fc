/**
 * What the variant families share: each layout's names for the GRU's parts (for names and fix
 * texts, in the case's own terms) and small helpers over the case's parameters.
 */
import type { FloatArray, GruCase, GruDirectionParams, GruParams, Layout } from '../../model/types.js';
import type { LayerJob } from '../../gru/stack.js';
import type { Variant } from './variant.js';

/** What a layout calls the GRU's parts, for names and fix texts. */
export interface Terms {
  wih: string;
  whh: string;
  bhh: string;
  bhn: string;
  h0: string;
  /** The layout's gate block order and its letters (n or h for the candidate gate). */
  order: string;
  n: string;
}
const TERMS: Record<Layout, Terms> = {
  pytorch: { wih: 'weight_ih', whh: 'weight_hh', bhh: 'bias_hh', bhn: 'b_hn', h0: 'h0', order: 'r|z|n', n: 'n' },
  onnx: { wih: 'W', whh: 'R', bhh: 'Rb (the second half of B)', bhn: 'Rb_h', h0: 'initial_h', order: 'z|r|h', n: 'h' },
  keras: { wih: 'kernel', whh: 'recurrent_kernel', bhh: 'the recurrent bias (bias[1])', bhn: 'the recurrent bias of h', h0: 'initial_state', order: 'z|r|h', n: 'h' },
};

/** The case's layout's terms; a GRUCell's initial state is its hx. */
export const termsOf = (c: GruCase): Terms => (c.config.cell ? { ...TERMS.pytorch, h0: 'hx' } : TERMS[c.config.layout]);

/** [v] when `cond`, else none: a variant that exists (or shows) only in some cases. */
export const only = (cond: boolean, v: Variant): Variant[] => (cond ? [v] : []);

/** The reverse-running directions of a layer: the backward one, or ONNX's lone reverse one. */
export const reverseDirections = (job: LayerJob) => job.directions.filter((d) => d.reverse);

export const D = (c: GruCase): number => (c.params.bidirectional ? 2 : 1);
export const hasReverse = (c: GruCase): boolean => c.params.bidirectional || c.params.reverseOnly === true;
export const hasNonZero = (a: FloatArray): boolean => a.some((v) => v !== 0);

/** A copy of `a` (same type, so float32 weights keep the float32 kernel) with [from, to) kept and the rest zeroed. */
export function zerosLike(a: FloatArray, from = 0, to = 0): FloatArray {
  const out = new (a.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(a.length);
  out.set(a.subarray(from, to), from);
  return out;
}

export function mapParams(p: GruParams, f: (d: GruDirectionParams, layer: number) => GruDirectionParams): GruParams {
  return { ...p, layers: p.layers.map((dirs, k) => dirs.map((d) => f(d, k))) };
}

/** A family's list and its `add(v, when)`: v is listed only in cases where it can exist (or show). */
export function variantList(): { out: Variant[]; add: (v: Variant, when?: boolean) => void } {
  const out: Variant[] = [];
  return { out, add: (v, when = true) => void (when && out.push(v)) };
}
