/**
 * Gate order: the port reads the stacked (3H, ...) weight and bias blocks in another order than the
 * layout stacks them (PyTorch r|z|n; ONNX and Keras z|r|h).
 */
import type { GruCase } from '../../model/types.js';
import { termsOf } from './common.js';
import type { Variant } from './variant.js';

/** The five wrong gate orders, named in the layout's own block order. */
export function gateOrders(c: GruCase): Variant[] {
  const t = termsOf(c);
  if (c.config.layout === 'pytorch') {
    return ['rnz', 'zrn', 'znr', 'nrz', 'nzr'].map((perm) => ({
      name: `gate-order:${perm}`,
      family: 'gate-order',
      fix: `reorder gate blocks r|z|n -> ${perm.split('').join('|')}: the port reads block 0 as ${perm[0]}, 1 as ${perm[1]}, 2 as ${perm[2]}, but PyTorch stacks r|z|n`,
      plan: (c) => ({ math: { gateOrder: perm } }),
    }));
  }
  // The file stacks z|r|n (ONNX, Keras); blocks reach the engine as r|z|n. A port reading the
  // file's blocks 0, 1, 2 as q[0], q[1], q[2] reads the engine's r block (file block 1) as q[1].
  return ['rzn', 'znr', 'rnz', 'nzr', 'nrz'].map((q) => {
    const named = q.replace('n', t.n);
    return {
      name: `${c.config.layout}-gate-order-${q}`,
      family: 'gate-order',
      fix: `read ${t.wih}, ${t.whh} and the biases as ${c.config.layout === 'onnx' ? 'ONNX' : 'Keras'} stacks them, ${t.order}: the port reads block 0 as ${q[0] === 'n' ? t.n : q[0]}, 1 as ${q[1] === 'n' ? t.n : q[1]}, 2 as ${q[2] === 'n' ? t.n : q[2]} (${named.split('').join('|')}${q === 'rzn' ? ", PyTorch's order" : ''})`,
      plan: (c) => ({ math: { gateOrder: `${q[1]}${q[0]}${q[2]}` } }),
    };
  });
}
