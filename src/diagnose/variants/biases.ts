/**
 * Biases: b_hn outside the reset product, the recurrent biases dropped or only the r/z ones kept
 * (fused biases), Keras's two bias rows swapped.
 */
import type { GruCase } from '../../model/types.js';
import { mapParams, termsOf, variantList, zerosLike } from './common.js';
import type { Variant } from './variant.js';

/** The bias mistakes the case can show (it has biases; some need the reset after the product). */
export function biases(c: GruCase): Variant[] {
  const t = termsOf(c);
  const H = c.params.hiddenSize;
  const lbr = c.math.linearBeforeReset;
  const { out, add } = variantList();
  add({
    name: 'b_hn-outside-reset',
    family: 'bias',
    fix: `put ${t.bhn} inside the reset product: n = tanh(W_in x + b_in + r * (W_hn h + ${t.bhn}))`,
    plan: (c) => ({ math: { bHnOutsideReset: true } }),
  }, c.params.bias && lbr);
  add({
    name: 'b_hh-dropped',
    family: 'bias',
    fix: `add ${t.bhh}: the port leaves the recurrent biases out of all three gates`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, biasHh: zerosLike(d.biasHh!) })) }),
  }, c.params.bias);
  add({
    name: 'biases-summed-rz',
    family: 'bias',
    fix: `keep ${t.bhn}: fusing ${t.wih}'s and ${t.whh}'s biases is right for r and z only; the candidate gate needs ${t.bhn} ${lbr ? 'inside the reset product' : 'in its recurrent sum'}, and the port drops it`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, biasHh: zerosLike(d.biasHh!, 0, 2 * H) })) }),
  }, c.params.bias);
  add({
    name: 'biases-swapped',
    family: 'bias',
    fix: `swap the two bias rows back: Keras's reset_after=True bias is [input bias, recurrent bias] = [bias_ih, bias_hh] (each in z|r|h order); the port holds them the other way round, which moves ${t.bhn} out of the reset product`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, biasIh: d.biasHh!, biasHh: d.biasIh! })) }),
  }, c.params.bias && lbr && c.params.layers.some((dirs) => dirs.some((d) => d.biasIh!.some((v, i) => i >= 2 * H && v !== d.biasHh![i]))));
  return out;
}
