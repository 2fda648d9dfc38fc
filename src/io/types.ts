/**
 * What io/ hands to the rest of the program: named n-d arrays, always in C (row-major) order and
 * native byte order, whatever order and endianness the file used.
 */

/** numpy dtype names, as numpy spells them. */
export type DType =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'unicode';

export type NumericData =
  | Float32Array // float32, and float16 widened exactly to float32
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array // uint8 and bool
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface NdArray {
  /** Array name: the .npz member or .npy file stem, without `.npy`. */
  name: string;
  /** The dtype as stored in the file (float16 stays 'float16' though data is a Float32Array). */
  dtype: DType;
  shape: number[];
  /** C-order data; for 'unicode' a string[] (a 0-d unicode array is a one-element list). */
  data: NumericData | string[];
}

/** Every array found in one case file or directory. */
export interface ArrayBundle {
  /** The path as the user gave it. */
  source: string;
  arrays: Map<string, NdArray>;
}
