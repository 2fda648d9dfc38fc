/**
 * Directions: the backward outputs left in processing order, the output halves swapped, the
 * backward h_n taken after its first step instead of its last.
 */
import type { GruCase } from '../../model/types.js';
import { afterEachLayer, type LayerJob } from '../../gru/stack.js';
import { hasReverse, reverseDirections, variantList } from './common.js';
import type { Variant } from './variant.js';

/** Backward outputs left in processing order: row s holds the state of reverse step s (input time len-1-s). */
function leaveInProcessingOrder(job: LayerJob): void {
  for (const d of reverseDirections(job)) {
    const { seqLen: T, batchSize: B, hiddenSize: H, output, lengths } = d;
    const F = d.numDirections * H;
    const col = d.direction * H;
    const row = new Float64Array(T * H);
    for (let b = 0; b < B; b++) {
      const len = lengths ? lengths[b]! : T;
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) row[t * H + j] = output[(t * B + b) * F + col + j]!;
      for (let s = 0; s < T; s++) {
        for (let j = 0; j < H; j++) output[(s * B + b) * F + col + j] = s < len ? row[(len - 1 - s) * H + j]! : 0;
      }
    }
  }
}

/** Output halves stored [backward | forward], also as the next layer reads them. */
function swapDirections(job: LayerJob): void {
  const d0 = job.directions[0]!;
  const { seqLen: T, batchSize: B, hiddenSize: H, output } = d0;
  const tmp = new Float64Array(H);
  for (let r = 0; r < T * B; r++) {
    const a = r * 2 * H;
    for (let j = 0; j < H; j++) tmp[j] = output[a + j]!;
    for (let j = 0; j < H; j++) output[a + j] = output[a + H + j]!;
    for (let j = 0; j < H; j++) output[a + H + j] = tmp[j]!;
  }
}

/** The reverse direction's h_n taken after its first step (t = len-1) instead of its last. */
function reverseHnFromFirstStep(job: LayerJob): void {
  for (const d of reverseDirections(job)) {
    const { seqLen: T, batchSize: B, hiddenSize: H, output, lengths, hN } = d;
    const F = d.numDirections * H;
    for (let b = 0; b < B; b++) {
      const first = (lengths ? lengths[b]! : T) - 1;
      for (let j = 0; j < H; j++) hN[b * H + j] = output[(first * B + b) * F + d.direction * H + j]!;
    }
  }
}

/** The direction mistakes a case with a reverse direction can show. */
export function directions(c: GruCase): Variant[] {
  const L = c.params.numLayers;
  const { out, add } = variantList();
  add({
    name: 'reverse-not-rereversed',
    family: 'backward-order',
    // Only the layer's output moves: its own h_n is right, the next layer's is not.
    touches: { fromLayer: L > 1 ? 1 : 0 },
    fix: "flip the backward direction's outputs back to input time order before concatenating",
    plan: (c) => ({ decorate: (r) => afterEachLayer(r, leaveInProcessingOrder) }),
  }, hasReverse(c));
  add({
    name: 'directions-swapped',
    family: 'direction-order',
    touches: { fromLayer: L > 1 ? 1 : 0 },
    fix: 'concatenate directions forward first: output[..., :H] is the forward pass, output[..., H:] the backward one',
    plan: (c) => ({ decorate: (r) => afterEachLayer(r, swapDirections) }),
  }, c.params.bidirectional);
  add({
    name: 'reverse-h_n-from-last-step',
    family: 'backward-state',
    touches: { backwardOnly: true, hnOnly: true },
    fix: "take the backward direction's h_n after it reaches t = 0 (its last step), not after its first step at t = T-1",
    plan: (c) => ({ decorate: (r) => afterEachLayer(r, reverseHnFromFirstStep) }),
  }, hasReverse(c));
  return out;
}
