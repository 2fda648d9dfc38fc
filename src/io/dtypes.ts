/**
 * Owns turning raw little-endian element bytes into the typed arrays io/ hands out, for the readers
 * whose files store plain element buffers (torch.save storages, safetensors, ONNX raw_data), and
 * reading a strided view (a torch tensor's size/stride/offset) out in C order.
 *
 * Same rules as npy.ts: aligned native-order data becomes a view of the caller's bytes (no copy),
 * anything else one copy; float16 and bfloat16 are widened exactly to float32.
 */
import { constants as bufferConstants } from 'node:buffer';
import { float16Table } from './npy.js';
import type { DType, NumericData } from './types.js';

export type NumericDType = Exclude<DType, 'unicode'>;

export const ITEMSIZE: Readonly<Record<NumericDType, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

/** Bytes one element takes once decoded (float16/bfloat16 become 4-byte float32). */
export function decodedItemsize(dtype: NumericDType): number {
  return dtype === 'float16' || dtype === 'bfloat16' ? 4 : ITEMSIZE[dtype];
}

/** Largest element count a typed array can have in this Node. */
export const MAX_TYPED_LENGTH = bufferConstants.MAX_LENGTH;

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Ctor = { new (length: number): NumericData; new (buf: ArrayBufferLike, off: number, len: number): NumericData };

const CTOR: Readonly<Record<NumericDType, Ctor>> = {
  float16: Float32Array,
  bfloat16: Float32Array,
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as unknown as Record<NumericDType, Ctor>;

/** A fresh zeroed array of the decoded type. */
export function allocate(dtype: NumericDType, count: number): NumericData {
  return new CTOR[dtype](count);
}

/**
 * `count` elements of `dtype` from `src` (exactly count * itemsize bytes, checked by the caller),
 * little-endian unless `bigEndian`. A view of `src` when aligned and in native order.
 */
export function decodeElements(src: Uint8Array, dtype: NumericDType, count: number, bigEndian = false): NumericData {
  const size = ITEMSIZE[dtype];
  const little = !bigEndian;
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const out = new Float32Array(count);
    if (dtype === 'float16') {
      const table = float16Table();
      for (let i = 0, o = 0; i < count; i++, o += 2) out[i] = table[little ? src[o]! | (src[o + 1]! << 8) : (src[o]! << 8) | src[o + 1]!]!;
    } else {
      // bfloat16 is the top half of a float32: shifting its bits up is the exact widening.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0, o = 0; i < count; i++, o += 2) bits[i] = (little ? src[o]! | (src[o + 1]! << 8) : (src[o]! << 8) | src[o + 1]!) << 16;
    }
    return out;
  }
  const Out = CTOR[dtype];
  if (count === 0) return new Out(0);
  const sameOrder = size === 1 || little === NATIVE_LITTLE;
  if (sameOrder && src.byteOffset % size === 0) return new Out(src.buffer, src.byteOffset, count);
  const copy = new Uint8Array(count * size);
  if (sameOrder) copy.set(src.subarray(0, count * size));
  else {
    for (let i = 0; i < copy.length; i += size) {
      for (let j = 0; j < size; j++) copy[i + j] = src[i + size - 1 - j]!;
    }
  }
  return new Out(copy.buffer, 0, count);
}

/** Element count of a shape, or undefined when it is not a safe integer. */
export function elementCount(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/** True when size/stride describe C-order contiguous elements (axes of length 1 may have any stride). */
export function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let k = size.length - 1; k >= 0; k--) {
    if (size[k] === 1) continue;
    if (stride[k] !== expected) return false;
    expected *= size[k]!;
  }
  return true;
}

/**
 * The elements of a strided view (offset, size, stride over `src`) copied out in C order. The
 * caller has checked every index lies inside `src`. Walks the output with an odometer, keeping the
 * source index incrementally: no per-element multiply or divide.
 */
export function gatherStrided(src: NumericData, offset: number, size: readonly number[], stride: readonly number[], count: number): NumericData {
  const out = new (src.constructor as Ctor)(count) as { [i: number]: unknown };
  const s = src as unknown as { [i: number]: unknown };
  if (count === 0) return out as NumericData;
  const nd = size.length;
  const idx = new Array<number>(nd).fill(0);
  let p = offset;
  for (let c = 0; c < count; c++) {
    out[c] = s[p];
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      p += stride[k]!;
      if (idx[k]! < size[k]!) break;
      p -= stride[k]! * size[k]!;
      idx[k] = 0;
    }
  }
  return out as NumericData;
}
