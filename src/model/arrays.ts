/**
 * Small boundary helpers shared by the model builders: turn loaded NdArrays into the typed arrays
 * the math uses, with ATen-style "expected X, got Y" errors naming the array.
 */
import { GruCheckError } from '../errors.js';
import type { NdArray } from '../io/types.js';
import type { FloatArray, FloatDType, Tensor } from './types.js';

/** A shape as numpy and error messages write it: [3, 4]. (Reports use report/format.ts shapeInParens.) */
export const shapeInBrackets = (shape: readonly number[]): string =>
  shape.length === 1 ? `[${shape[0]}]` : `[${shape.join(', ')}]`;

/** The same dimensions in the same order. */
export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function isFloat(a: NdArray): boolean {
  return a.dtype === 'float16' || a.dtype === 'float32' || a.dtype === 'float64';
}

export function floatTensor(a: NdArray, file: string): Tensor {
  if (!isFloat(a)) {
    throw new GruCheckError('UNSUPPORTED_DTYPE', `${a.name}: expected a float16, float32 or float64 array, got ${a.dtype}`, { file });
  }
  return { shape: a.shape, dtype: a.dtype as FloatDType, data: a.data as FloatArray };
}

export function expectShape(t: { shape: number[] }, name: string, expected: number[], what: string, file: string): void {
  const ok = t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]);
  if (!ok) {
    throw new GruCheckError('SHAPE_MISMATCH', `${name}: expected shape ${shapeInBrackets(expected)} (${what}), got ${shapeInBrackets(t.shape)}`, { file });
  }
}

/**
 * Refuses an input with no time steps or no batch elements. PyTorch refuses them too, and an empty
 * axis lets the other one claim any length for free: (0, 2**40, I) holds no bytes yet would drive
 * the time loop and the per-step metrics 2**40 times.
 */
export function expectNonEmpty(name: string, shape: readonly number[], T: number, B: number, what: string, file: string): void {
  if (T === 0 || B === 0) {
    const which = T === 0 && B === 0 ? 'no time steps and no batch elements' : T === 0 ? 'no time steps' : 'no batch elements';
    throw new GruCheckError('SHAPE_MISMATCH', `${name}: expected at least one time step and one batch element (${what}), got ${shapeInBrackets(shape)}: ${which}`, { file });
  }
}

/** Integer array -> Int32Array, refusing floats and values that do not fit. */
export function intVector(a: NdArray, file: string): Int32Array {
  const d = a.data;
  if (typeof (d as string[])[0] === 'string' || isFloat(a) || a.dtype === 'bool' || a.dtype === 'unicode') {
    throw new GruCheckError('BAD_LENGTHS', `${a.name}: expected an integer array (any int or uint type), got ${a.dtype}`, { file });
  }
  const out = new Int32Array((d as ArrayLike<number | bigint>).length);
  for (let i = 0; i < out.length; i++) {
    const v = Number((d as ArrayLike<number | bigint>)[i]!);
    out[i] = v > 2 ** 31 - 1 ? 2 ** 31 - 1 : v < -(2 ** 31) ? -(2 ** 31) : v;
  }
  return out;
}

/** Converts to the computation's storage type (exact for float16/float32 -> float32 or -> float64). */
export function toStorage(data: FloatArray, dtype: FloatDType): FloatArray {
  if (dtype === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** Checks lengths: integers, shape (B,), each in 1..T. */
/** `min` is 1 (PyTorch refuses empty sequences) or 0 (ONNX's sequence_lens, as ONNX Runtime runs them). */
export function readLengths(a: NdArray, B: number, T: number, file: string, min: 0 | 1 = 1): Int32Array {
  const lengths = intVector(a, file);
  expectShape(a, a.name, [B], 'batch', file);
  for (let b = 0; b < B; b++) {
    const v = lengths[b]!;
    const raw = (a.data as ArrayLike<number | bigint>)[b];
    if (!(v >= min && v <= T) || Number(raw) !== v) {
      throw new GruCheckError('BAD_LENGTHS', `${a.name}[${b}]: expected a value in ${min}..${T} (seq length), got ${String(raw)}`, { file });
    }
  }
  return lengths;
}

export function zerosLike(dtype: FloatDType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** (d0, d1, F) -> (d1, d0, F), C order: batch-first <-> seq-first. */
export function swapFirstAxes(data: FloatArray, d0: number, d1: number, F: number): FloatArray {
  const out = new (data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(data.length);
  for (let i = 0; i < d0; i++) {
    for (let j = 0; j < d1; j++) out.set(data.subarray((i * d1 + j) * F, (i * d1 + j + 1) * F), (j * d0 + i) * F);
  }
  return out;
}
