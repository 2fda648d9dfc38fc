/** The update rule and the gates' activation: z's roles swapped, a hard sigmoid for r and z. */
import type { GruCase } from '../../model/types.js';
import { variantList } from './common.js';
import type { Variant } from './variant.js';

/** The update gate inverted, and the hard sigmoids of Keras 2 and 3 where the case uses the logistic one. */
export function updateActivation(c: GruCase): Variant[] {
  const { out, add } = variantList();
  add({
    name: 'update-gate-inverted',
    family: 'update',
    fix: "swap the update gate's roles: h' = (1 - z) * n + z * h",
    plan: (c) => ({ math: { update: 'inverted' } }),
  });
  add({
    name: 'hard-sigmoid',
    family: 'activation',
    fix: 'use the logistic sigmoid for r and z, not Keras 2\'s hard_sigmoid clip(0.2x + 0.5) (Keras: recurrent_activation="sigmoid")',
    plan: (c) => ({ math: { f: { name: 'HardSigmoid', alpha: 0.2, beta: 0.5 } } }),
  }, c.math.f.name === 'Sigmoid');
  add({
    name: 'hard-sigmoid-keras3',
    family: 'activation',
    fix: 'use the logistic sigmoid for r and z: in Keras 3, recurrent_activation="hard_sigmoid" is relu6(x + 3) / 6, not sigmoid; build the layer with recurrent_activation="sigmoid" (the default)',
    plan: (c) => ({ math: { f: { name: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 } } }),
  }, c.math.f.name === 'Sigmoid');
  return out;
}
