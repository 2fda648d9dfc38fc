/**
 * One layer in both directions (ATen's bidirectional layer): the forward layer over t = 0..T-1,
 * the reverse layer over t = T-1..0 (or len-1..0 with lengths), each writing its output at the
 * time step it computed — i.e. the backward outputs are already "re-reversed" — concatenated on
 * the feature axis forward-first.
 *
 * Axis order: x (T, B, I); output (T, B, D*H) with features [forward | backward]; hN (D, B, H).
 */
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import type { GruMath } from './cell.js';
import { gruLayer, type LayerResult } from './layer.js';

export function gruLayerBothWays(
  x: FloatArray,
  seqLen: number,
  batchSize: number,
  dirs: GruDirectionParams[],
  hiddenSize: number,
  /** (D, B, H) */
  h0: Float64Array,
  lengths: Int32Array | undefined,
  precision: Precision,
  math: GruMath,
  /** The single direction runs backwards (ONNX direction="reverse"). */
  reverseOnly = false,
): LayerResult {
  const D = dirs.length;
  const H = hiddenSize;
  const BH = batchSize * H;
  const rows = seqLen * batchSize;
  const results = dirs.map((p, d) =>
    gruLayer(x, seqLen, batchSize, p, H, h0.subarray(d * BH, (d + 1) * BH), d === 1 || reverseOnly, lengths, precision, math),
  );
  if (D === 1) return results[0]!;
  const output = new Float64Array(rows * D * H);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < D; d++) {
      output.set(results[d]!.output.subarray(r * H, (r + 1) * H), (r * D + d) * H);
    }
  }
  const hN = new Float64Array(D * BH);
  for (let d = 0; d < D; d++) hN.set(results[d]!.hN, d * BH);
  return { output, hN };
}
