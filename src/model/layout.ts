/**
 * Where the axes are in the dump's own layout. Inside the program a run is seq-first (T, B, D*H)
 * with h_n (L*D, B, H); the user's tensors keep their layout's order, so the reference is laid out
 * to match before it is compared and reported indices stay in the tensor's own axis order:
 *   pytorch  output (T, B, D*H) / (B, T, D*H) batch_first / (T, D*H) unbatched; h_n (L*D, B, H) / (L*D, H)
 *   onnx     Y (T, D, B, H); Y_h (D, B, H); with onnx_layout 1 (batchFirst): Y (B, T, D, H), Y_h (B, D, H)
 *   keras    output (B, T, D*H); h_n (B, D*H): a Bidirectional's [forward_h, backward_h] side by side
 *   GRUCell  h (calls, batch, H) without the axes that are absent (model/cell.ts)
 */
import { swapFirstAxes } from './arrays.js';
import { cellShape } from './cell.js';
import type { FloatArray, GruCase } from './types.js';

export interface UserTensor {
  shape: number[];
  data: FloatArray;
}

/** The reference's output and h_n (seq-first, as the stack driver returns them) in the dump's own axis order. */
export function toUserLayout(c: GruCase, r: { output: FloatArray; hN: Float64Array }): { output: UserTensor; h_n: UserTensor } {
  const { seqLen: T, batchSize: B } = c;
  // A GRUCell case's one step over N calls: output (1, N, H) is h in the calls' own order.
  if (c.config.cell) return { output: { shape: cellShape(c.config.cell, c.config.hiddenSize), data: r.output }, h_n: { shape: [1, B, c.config.hiddenSize], data: r.hN } };
  const { numLayers: L, hiddenSize: H, bidirectional, batched, batchFirst, layout } = c.config;
  const D = bidirectional ? 2 : 1;
  const F = D * H;
  if (layout === 'onnx') {
    // Y [T, D, B, H] (layout 0) or [B, T, D, H] (layout 1) from (T, B, D*H).
    const y = new Float64Array(r.output.length);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const at = batchFirst ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H;
          y.set(r.output.subarray((t * B + b) * F + d * H, (t * B + b) * F + (d + 1) * H), at);
        }
      }
    }
    if (!batchFirst) return { output: { shape: [T, D, B, H], data: y }, h_n: { shape: [D, B, H], data: r.hN } };
    return { output: { shape: [B, T, D, H], data: y }, h_n: { shape: [B, D, H], data: swapFirstAxes(r.hN, D, B, H) as Float64Array } };
  }
  if (!batched) {
    return { output: { shape: [T, F], data: r.output }, h_n: { shape: [L * D, H], data: r.hN } };
  }
  const out = batchFirst ? swapFirstAxes(r.output, T, B, F) : r.output;
  const output = { shape: batchFirst ? [B, T, F] : [T, B, F], data: out };
  if (layout === 'keras') return { output, h_n: { shape: [B, D * H], data: D === 2 ? (swapFirstAxes(r.hN, D, B, H) as Float64Array) : r.hN } };
  return { output, h_n: { shape: [L * D, B, H], data: r.hN } };
}

/** Which axis of `output` is time, in the dump's own layout (a GRUCell trace: its calls); undefined: none. */
export function timeAxis(c: GruCase): number | undefined {
  if (c.config.cell) return c.config.cell.trace ? 0 : undefined;
  return c.config.batched && c.config.batchFirst ? 1 : 0;
}

/** The batch axis of `output` and `h_n` in the dump's own layout; undefined: unbatched. */
export function batchAxis(c: GruCase, tensor: 'output' | 'h_n'): number | undefined {
  const { layout, batched, batchFirst, cell } = c.config;
  // h (calls, batch, H): the batch follows a trace's calls.
  if (cell) return cell.batched ? (cell.trace ? 1 : 0) : undefined;
  if (!batched) return undefined;
  if (layout === 'keras') return 0;
  if (layout === 'onnx') return batchFirst ? 0 : tensor === 'output' ? 2 : 1;
  return tensor === 'output' ? (batchFirst ? 0 : 1) : 1;
}

/** What the rows of an h_n heatmap are, in the dump's own layout (a GRUCell's h: its calls or batch). */
export function hnRowLabel(c: GruCase): string {
  if (c.config.cell) return c.config.cell.trace ? 'call' : c.config.cell.batched ? 'batch' : 'hidden unit';
  if (c.config.layout === 'keras' || (c.config.layout === 'onnx' && c.config.batchFirst)) return 'batch';
  return c.config.layout === 'onnx' ? 'direction' : 'layer*direction';
}

/** Rows of the last layer of an h_n in PyTorch's (L·D, B, H) layout. */
export function lastLayerRows(c: GruCase, t: { shape: number[]; data: ArrayLike<number> }): { shape: number[]; data: Float64Array } {
  const D = c.params.bidirectional ? 2 : 1;
  const per = t.data.length / t.shape[0]!;
  const from = (c.params.numLayers - 1) * D;
  return { shape: [D, ...t.shape.slice(1)], data: Float64Array.from({ length: D * per }, (_, i) => t.data[from * per + i]!) };
}
