/**
 * A case cut down to some of its sequences (batch elements). A GRU computes every sequence on its
 * own, so a porting mistake that changes the math shows on any sequence it touches: diagnose first
 * tries each variant on one or two sequences (a fraction of a full run), then runs the ones that
 * look right on the whole batch (where the batch axis is: model/layout.ts).
 */
import type { FloatArray, GruCase, Tensor } from '../model/types.js';
import { batchAxis, timeAxis } from '../model/layout.js';

/** The slices of `data` (shape) at positions `keep` along `axis`, in that order. */
export function takeAlong<T extends FloatArray>(data: T, shape: readonly number[], axis: number, keep: readonly number[]): T {
  const outer = shape.slice(0, axis).reduce((x, y) => x * y, 1);
  const inner = shape.slice(axis + 1).reduce((x, y) => x * y, 1);
  const n = shape[axis]!;
  const out = new (data.constructor as { new (len: number): T })(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    keep.forEach((b, j) => out.set(data.subarray((o * n + b) * inner, (o * n + b + 1) * inner), (o * keep.length + j) * inner));
  }
  return out;
}

export function subsetTensor(t: Tensor, axis: number, keep: readonly number[]): Tensor {
  const shape = t.shape.slice();
  shape[axis] = keep.length;
  return { ...t, shape, data: takeAlong(t.data, t.shape, axis, keep) };
}

/** The case restricted to sequences `keep` (indices into the batch), expected tensors included. */
export function subsetCase(c: GruCase, keep: readonly number[]): GruCase {
  const { seqLen: T, batchSize: B } = c;
  const LD = c.params.numLayers * (c.params.bidirectional ? 2 : 1);
  const sub: GruCase = {
    ...c,
    batchSize: keep.length,
    input: takeAlong(c.input, [T, B, c.params.inputSize], 1, keep),
    h0: takeAlong(c.h0, [LD, B, c.params.hiddenSize], 1, keep),
    expected: {},
  };
  if (c.lengths) sub.lengths = Int32Array.from(keep, (b) => c.lengths![b]!);
  for (const tensor of ['output', 'h_n'] as const) {
    const t = c.expected[tensor];
    const axis = batchAxis(c, tensor);
    if (t) sub.expected[tensor] = axis === undefined ? t : subsetTensor(t, axis, keep);
  }
  return sub;
}

/**
 * The case cut to its first `steps` time steps. Only for a forward-only GRU: there every layer's
 * output at t < steps depends on steps 0..t alone, so the cut case's output is the full one's
 * first steps (its h_n is not the full one's: screens on a cut case compare the output only).
 */
export function truncateCase(c: GruCase, steps: number): GruCase {
  const B = c.batchSize;
  const I = c.params.inputSize;
  const sub: GruCase = { ...c, seqLen: steps, input: c.input.subarray(0, steps * B * I) as typeof c.input, expected: {} };
  if (c.lengths) sub.lengths = Int32Array.from(c.lengths, (len) => Math.min(len, steps));
  if (c.expected.output) sub.expected.output = truncateTensor(c.expected.output, timeAxis(c) ?? 0, steps);
  return sub;
}

export function truncateTensor<T extends { shape: number[]; data: FloatArray }>(t: T, axis: number, steps: number): T {
  return { ...t, shape: t.shape.map((n, i) => (i === axis ? steps : n)), data: takeAlong(t.data, t.shape, axis, Array.from({ length: steps }, (_, i) => i)) };
}
