/**
 * Gate-block bookkeeping shared by the layout readers (and by `diagnose`, which re-enacts a port
 * that read the blocks in the wrong order). PyTorch stacks the three gates r|z|n along the rows;
 * ONNX stacks z|r|h and Keras puts z|r|h along the columns (h is ONNX's and Keras's name for n).
 */
import type { FloatArray } from './types.js';

/** The gate order used inside gru-check (PyTorch's). */
export const TORCH_ORDER = 'rzn';

/**
 * Rows-stacked (3H, cols) matrix with gate blocks in `from` order -> the same in `to` order.
 * Letters: r, z, n (an 'h' in `from` is read as n).
 */
export function reorderRows(data: FloatArray, H: number, cols: number, from: string, to = TORCH_ORDER): FloatArray {
  const src = from.replace('h', 'n');
  const out = new (data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(data.length);
  const block = H * cols;
  for (let g = 0; g < 3; g++) {
    const at = src.indexOf(to[g]!);
    out.set(data.subarray(at * block, (at + 1) * block), g * block);
  }
  return out;
}

/** (rows, cols) row-major -> (cols, rows) row-major. */
export function transpose(data: FloatArray, rows: number, cols: number): FloatArray {
  const out = new (data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}
