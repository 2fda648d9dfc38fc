/**
 * Public face of io/: the only part of gru-check that reads files. Everything else receives
 * ArrayBundle / NdArray values (C order, native byte order) and never sees bytes or paths.
 */
export type { ArrayBundle, DType, FileFormat, KerasGruLayer, KerasModelInfo, NdArray, NumericData, OnnxAttribute, OnnxGraph, OnnxNode, OnnxValueInfo } from './types.js';
export { parseNpy, type ParseNpyOptions } from './npy.js';
export { openZip, readNpz, readZipMember, type OpenZipOptions, type ReadNpzOptions, type ZipArchive, type ZipEntry } from './npz.js';
export { flattenTensors, unpickle, type FlattenOptions, type PickleValue, type StorageRef, type TensorRef, type UnpickleOptions } from './pickle.js';
export { readTorchZip, torchFolder, type ReadTorchOptions } from './torch.js';
export { parseSafetensorsHeader, readSafetensors, type ReadSafetensorsOptions, type SafetensorsEntry } from './safetensors.js';
export { readOnnx, type OnnxModel, type ReadOnnxOptions } from './onnx.js';
export { openHdf5, type Hdf5Contents, type Hdf5DatasetInfo } from './hdf5.js';
export { isKerasArchive, looksLikeHdf5 } from './magic.js';
export { readKerasArchive, readKerasWeightsH5, type KerasWeights } from './keras-file.js';
export { loadArrays, type LoadOptions } from './load.js';
