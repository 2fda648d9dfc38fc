/**
 * A port's outputs from a loaded candidate file, by name: `output` (or `Y`, or a GRUCell trace's
 * `h`), `h_n` (or `Y_h`), and Keras's `forward_h` / `backward_h`. Their layout is worked out
 * against the case later (align.ts).
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle } from '../io/types.js';
import { floatTensor } from '../model/arrays.js';
import type { Tensor } from '../model/types.js';
import type { CandidateTensors } from './align.js';

export function readCandidate(bundle: ArrayBundle): CandidateTensors {
  const file = bundle.source;
  const get = (...names: string[]): Tensor | undefined => {
    for (const n of names) {
      const arr = bundle.arrays.get(n);
      if (arr) return floatTensor(arr, file);
    }
    return undefined;
  };
  const cand: CandidateTensors = { source: file };
  const output = get('output', 'Y', 'h');
  const hN = get('h_n', 'Y_h');
  const states = [get('forward_h'), get('backward_h')].filter((t): t is Tensor => t !== undefined);
  if (output) cand.output = output;
  if (hN) cand.h_n = hN;
  if (states.length > 0) cand.states = states;
  if (!output && !hN && states.length === 0) {
    const names = [...bundle.arrays.keys()];
    const positional = names.length > 0 && names.every((n) => /^arr_\d+$/.test(n));
    throw new GruCheckError('NO_EXPECTED', `candidate holds no array named output, h_n, Y, Y_h, forward_h, backward_h or h (it has ${names.slice(0, 8).join(', ') || 'none'})`, {
      file,
      hint: positional ? 'np.savez(path, a, b) names them arr_0, arr_1: save with np.savez(path, output=..., h_n=...)' : 'save the port\'s results as "output" and/or "h_n" (samples/gru_dump.py: dump_port_outputs)',
    });
  }
  return cand;
}
