/**
 * What io/ hands to the rest of the program: named n-d arrays, always in C (row-major) order and
 * native byte order, whatever order and endianness the file used.
 */

/** numpy dtype names, as numpy spells them. */
export type DType =
  | 'float16'
  | 'bfloat16' // torch / safetensors / ONNX only: widened exactly to float32, like float16
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
  | Float32Array // float32, and float16 / bfloat16 widened exactly to float32
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
  /**
   * The dtype as stored in the file: float16 and bfloat16 stay 'float16' / 'bfloat16' though data
   * is a Float32Array (widened exactly), so tolerances can follow what the file really held.
   */
  dtype: DType;
  shape: number[];
  /** C-order data; for 'unicode' a string[] (a 0-d unicode array is a one-element list). */
  data: NumericData | string[];
}

/** Every array found in one case file or directory. */
export interface ArrayBundle {
  /** The path as the user gave it. */
  source: string;
  /** For an .onnx model: its initializers (by initializer name); otherwise the file's arrays. */
  arrays: Map<string, NdArray>;
  /** Which reader produced the arrays. */
  format?: FileFormat;
  /** For an .onnx model: the graph (nodes, attributes, inputs, outputs), to find the GRU nodes. */
  onnx?: OnnxGraph;
  /** For a Keras weight file (.weights.h5, .keras): its GRU layers and what config.json says of them. */
  keras?: KerasModelInfo;
}

/** What a file turned out to be (by its content, not its name). */
export type FileFormat = 'npy' | 'npz' | 'npy-dir' | 'torch' | 'safetensors' | 'onnx' | 'keras-h5' | 'keras';

/** The GRU layers of a Keras weight file (io/keras-file.ts). Names and configs are as the file has them. */
export interface KerasModelInfo {
  /** 'weights.h5': model.save_weights (no config); 'keras': model.save (config.json inside). */
  container: 'weights.h5' | 'keras';
  /** Whether the file carried a model config (config.json). */
  hasConfig: boolean;
  /** metadata.json's keras_version, when present. */
  kerasVersion?: string;
  layers: KerasGruLayer[];
}

export interface KerasGruLayer {
  /**
   * What the layer's arrays are named under, without the trailing '/': `gru` (arrays `gru/kernel`,
   * ...), or for a Bidirectional `bidirectional` (arrays `bidirectional/forward_layer/kernel`, ...).
   */
  prefix: string;
  /** The HDF5 group: `layers/gru`. */
  path: string;
  /** The layer's own Keras name (its `name` argument), when the file records it. */
  name?: string;
  bidirectional: boolean;
  /** The GRU's config from config.json (a Bidirectional's forward layer), when found. */
  config?: Record<string, unknown>;
  /** A Bidirectional's backward layer config, when config.json has one. */
  backwardConfig?: Record<string, unknown>;
  /** A Bidirectional's merge_mode, as config.json has it. */
  mergeMode?: unknown;
}

/**
 * The parts of an ONNX ModelProto's main graph that a GRU check needs. Names are kept exactly as
 * the file has them (they may hold any characters: escape them before printing).
 */
export interface OnnxGraph {
  /** Version of the default ('' / 'ai.onnx') opset the model imports; undefined if none is declared. */
  opsetVersion: number | undefined;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Initializer names in file order (their values are in ArrayBundle.arrays). */
  initializerNames: string[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  /** Input value names; '' marks an omitted optional input, as in ONNX. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

export type OnnxAttribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: NdArray }
  | { type: 'other'; typeCode: number };

export interface OnnxValueInfo {
  name: string;
  /** ONNX TensorProto.DataType name ('FLOAT', 'INT64', ...); undefined when not a tensor type or unset. */
  elemType: string | undefined;
  /** Dims: a number (dim_value), a string (dim_param) or null (neither); undefined when no shape. */
  shape: (number | string | null)[] | undefined;
}
