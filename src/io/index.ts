/**
 * Public face of io/: the only part of gru-check that reads files. Everything else receives
 * ArrayBundle / NdArray values (C order, native byte order) and never sees bytes or paths.
 */
export type { ArrayBundle, DType, FileFormat, NdArray, NumericData, OnnxAttribute, OnnxGraph, OnnxNode, OnnxValueInfo } from './types.js';
export { parseNpy, type ParseNpyOptions } from './npy.js';
export { readNpz, type ReadNpzOptions } from './npz.js';
export { loadArrays, type LoadOptions } from './load.js';
