/**
 * Owns reading an HDF5 file's groups and float datasets from bytes, for Keras weight files
 * (keras-file.ts gives the paths their meaning). The format's structure (superblock, object
 * headers, links, dataspaces, datatypes) is parsed by jsfive, a pure-JavaScript reader; the data
 * itself is read here: only contiguous storage (what h5py, and so Keras, writes), after its extent
 * is checked against the file and its declared size against the shape, so a hostile header can
 * neither make us allocate what the file does not hold nor read outside it.
 *
 * Why these checks are ours and not jsfive's: jsfive reads dimensions as 32-bit (a 2^40 dim reads as
 * 0), allocates a plain Array of the declared size before reading, fills an unwritten dataset with
 * `undefined`, throws strings as well as Errors, and prints to the console on some odd attributes.
 * So every call into it runs with the console muted and its throws turned into one GruCheckError,
 * and the walk over groups is bounded (objects, depth, and each object visited once: hard links
 * can make cycles).
 *
 * Throws only GruCheckError: BAD_HDF5, TRUNCATED, UNSUPPORTED_DTYPE, TOO_LARGE.
 */
import * as jsfive from 'jsfive';
import { GruCheckError, isGruCheckError } from '../errors.js';
import { decodeElements, elementCount, ITEMSIZE, MAX_TYPED_LENGTH, type NumericDType } from './dtypes.js';
import { looksLikeHdf5 } from './magic.js';
import { sanitizeError, showName } from './text.js';
import type { NdArray } from './types.js';

/** Objects (groups and datasets) one file may hold before we stop walking: Keras files hold tens. */
export const MAX_OBJECTS = 20_000;
/** Group nesting: Keras nests a Bidirectional's GRU five deep (layers/b/forward_layer/cell/vars). */
export const MAX_DEPTH = 32;

export interface Hdf5DatasetInfo {
  /** Path from the root, without a leading slash: `layers/gru/cell/vars/0`. */
  path: string;
  shape: number[];
  /** The numeric dtype when it is a float gru-check reads; otherwise what HDF5 called it. */
  dtype: NumericDType | undefined;
  dtypeName: string;
}

export interface Hdf5Contents {
  /** Every group's path ('' is the root), in the order found. */
  groups: string[];
  datasets: Map<string, Hdf5DatasetInfo>;
  /** A string attribute of a group (`layers/gru/vars` -> its `name`), undefined when absent or not a string. */
  groupAttr(path: string, key: string): string | undefined;
  /** The dataset's values (checked against the file first): C order, native byte order. */
  read(path: string, name?: string): NdArray;
}

/** Layout classes of HDF5's data layout message. */
const LAYOUT_CLASS = ['compact', 'contiguous', 'chunked', 'virtual'];
const DATA_LAYOUT_MSG = 8;
const FILTER_PIPELINE_MSG = 11;
const UNDEFINED_ADDRESS = 0xffffffffffffffffn;

/**
 * Open an HDF5 file held in `bytes` and list its groups and datasets (no data is read yet).
 * `label` names the file in messages (e.g. `member 'model.weights.h5'`).
 */
export function openHdf5(bytes: Uint8Array, label = 'HDF5 file'): Hdf5Contents {
  if (!looksLikeHdf5(bytes)) fail('BAD_HDF5', `${label}: expected the HDF5 signature \\x89HDF\\r\\n\\x1a\\n`);
  // jsfive takes an ArrayBuffer of the whole file; a copy when `bytes` is a view of a larger one.
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : bytes.slice().buffer;
  checkEndOfFile(bytes, label);
  const file = guard(label, 'the superblock and root group', () => new jsfive.File(buffer));
  const groups: string[] = [];
  const datasets = new Map<string, Hdf5DatasetInfo>();
  const objects = new Map<string, jsfive.Group | jsfive.Dataset>();
  const seen = new Set<number>();
  let count = 0;
  const queue: Array<{ path: string; group: jsfive.Group; depth: number }> = [{ path: '', group: file, depth: 0 }];
  while (queue.length > 0) {
    const { path, group, depth } = queue.shift()!;
    const at = guard(label, `group '${showName(path || '/')}'`, () => group._dataobjects.offset);
    if (seen.has(at)) continue; // a hard link back up the tree (or a second link to one group)
    seen.add(at);
    groups.push(path);
    objects.set(path, group);
    const keys = guard(label, `group '${showName(path || '/')}'`, () => group.keys);
    for (const key of keys) {
      if (++count > MAX_OBJECTS) fail('TOO_LARGE', `${label}: holds more than ${MAX_OBJECTS} objects (a Keras weights file holds tens)`);
      const child = path ? `${path}/${key}` : key;
      const obj = guard(label, `object '${showName(child)}'`, () => group.get(key));
      if (obj === null) continue; // a soft link whose target is missing
      if (obj instanceof jsfive.Dataset) {
        datasets.set(child, guard(label, `dataset '${showName(child)}'`, () => describe(bytes, child, obj)));
        objects.set(child, obj);
      } else {
        if (depth + 1 > MAX_DEPTH) fail('BAD_HDF5', `${label}: groups nested more than ${MAX_DEPTH} deep at '${showName(child)}'`);
        queue.push({ path: child, group: obj, depth: depth + 1 });
      }
    }
  }
  return {
    groups,
    datasets,
    groupAttr(path, key) {
      const g = objects.get(path);
      if (!(g instanceof jsfive.Group)) return undefined;
      const attrs = guard(label, `attributes of '${showName(path || '/')}'`, () => g.attrs);
      const v = attrs[key];
      return typeof v === 'string' ? v : undefined;
    },
    read(path, name = path) {
      const info = datasets.get(path);
      const ds = objects.get(path);
      if (!info || !(ds instanceof jsfive.Dataset)) fail('BAD_HDF5', `${label}: no dataset '${showName(path)}'`);
      return readData(bytes, label, info, ds, name);
    },
  };
}

/**
 * The superblock's end-of-file address against the bytes present: HDF5 itself refuses a file
 * shorter than it ("truncated file"), and so does this reader, before following any address.
 */
function checkEndOfFile(bytes: Uint8Array, label: string): void {
  if (bytes.length < 48) fail('TRUNCATED', `${label}: ${bytes.length} bytes, shorter than an HDF5 superblock`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[8]!;
  const sizeOfOffsets = version <= 1 ? bytes[13]! : bytes[9]!;
  if (sizeOfOffsets !== 8) fail('BAD_HDF5', `${label}: superblock version ${version} with ${sizeOfOffsets}-byte addresses: only 8-byte addresses (what h5py writes) are read`);
  const at = version === 0 ? 40 : version === 1 ? 44 : version <= 3 ? 28 : -1;
  if (at < 0) fail('BAD_HDF5', `${label}: superblock version ${version} is not one HDF5 defines (0-3)`);
  const eof = view.getBigUint64(at, true);
  if (eof > BigInt(bytes.length)) fail('TRUNCATED', `${label}: ${bytes.length} bytes, its superblock says the file ends at byte ${eof}`);
}

/** HDF5's dataspace message: the dims as stored (64-bit), which jsfive reads as 32-bit. */
const DATASPACE_MSG = 1;
function dims64(bytes: Uint8Array, ds: jsfive.Dataset, n: number): bigint[] {
  const msgs = ds._dataobjects.find_msg_type(DATASPACE_MSG);
  if (msgs.length !== 1) throw new GruCheckError('BAD_HDF5', `expected one dataspace message, found ${msgs.length}`);
  const off = msgs[0]!.get('offset_to_message')!;
  const version = bytes[off];
  const first = off + (version === 1 ? 8 : 4);
  if (first + 8 * n > bytes.length) throw new GruCheckError('TRUNCATED', 'dataspace past the end of the file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: n }, (_, i) => view.getBigUint64(first + 8 * i, true));
}

function describe(bytes: Uint8Array, path: string, ds: jsfive.Dataset): Hdf5DatasetInfo {
  const shape = [...ds.shape];
  const real = dims64(bytes, ds, shape.length);
  real.forEach((d, i) => {
    if (d !== BigInt(shape[i]!)) {
      throw new GruCheckError(d > BigInt(Number.MAX_SAFE_INTEGER) || d >= 1n << 32n ? 'TOO_LARGE' : 'BAD_HDF5', `shape [${real.join(', ')}]: a dimension past what an array can hold`);
    }
  });
  const raw = ds.dtype;
  const dtypeName = typeof raw === 'string' ? raw : Array.isArray(raw) ? String(raw[0]) : 'unknown';
  const m = typeof raw === 'string' ? /^[<>=|]?f([248])$/.exec(raw) : null;
  const dtype: NumericDType | undefined = m ? ({ '2': 'float16', '4': 'float32', '8': 'float64' } as const)[m[1] as '2' | '4' | '8'] : undefined;
  return { path, shape, dtype, dtypeName };
}

function readData(bytes: Uint8Array, label: string, info: Hdf5DatasetInfo, ds: jsfive.Dataset, name: string): NdArray {
  const what = `${label}: dataset '${showName(info.path)}'`;
  if (!info.dtype) fail('UNSUPPORTED_DTYPE', `${what}: dtype ${showName(info.dtypeName, 20)}: expected float16, float32 or float64 weights`);
  const count = elementCount(info.shape);
  if (count === undefined || count > MAX_TYPED_LENGTH) fail('TOO_LARGE', `${what}: shape [${info.shape.join(', ')}] has more elements than an array can hold`);
  const itemsize = ITEMSIZE[info.dtype];
  const need = count * itemsize;
  const { layoutClass, version, propOffset, filtered } = guard(label, `dataset '${showName(info.path)}'`, () => {
    const dob = ds._dataobjects;
    const msgs = dob.find_msg_type(DATA_LAYOUT_MSG);
    if (msgs.length !== 1) throw new GruCheckError('BAD_HDF5', `${what}: expected one data layout message, found ${msgs.length}`);
    const [v, , cls, prop] = dob._get_data_message_properties(msgs[0]!.get('offset_to_message')!);
    return { layoutClass: cls, version: v, propOffset: prop, filtered: dob.find_msg_type(FILTER_PIPELINE_MSG).length > 0 };
  });
  if (layoutClass !== 1 || filtered) {
    const kind = filtered ? 'filtered (compressed)' : (LAYOUT_CLASS[layoutClass] ?? `layout class ${layoutClass}`);
    fail('BAD_HDF5', `${what}: ${kind} storage: only contiguous datasets are read (Keras writes every weight contiguous)`);
  }
  if (!Number.isSafeInteger(propOffset) || propOffset < 0 || propOffset + 16 > bytes.length) fail('TRUNCATED', `${what}: its data layout lies past the end of the file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const address = view.getBigUint64(propOffset, true);
  if (address === UNDEFINED_ADDRESS) fail('BAD_HDF5', `${what}: holds no data (never written)`);
  if (version >= 3) {
    // Layout message v3/v4 states the data's size: it must be what the shape and dtype need (which
    // also catches dimensions jsfive read wrongly, past 32 bits).
    const size = view.getBigUint64(propOffset + 8, true);
    if (size !== BigInt(need)) fail('BAD_HDF5', `${what}: storage holds ${size} bytes, shape [${info.shape.join(', ')}] ${info.dtype} needs ${need}`);
  }
  if (address + BigInt(need) > BigInt(bytes.length)) {
    fail('TRUNCATED', `${what}: data at bytes ${address}..${address + BigInt(need)}, past the end of the file (${bytes.length} bytes)`);
  }
  const start = Number(address);
  const bigEndian = info.dtypeName.startsWith('>');
  // decodeElements views `bytes` when it can: a copy keeps the weights from pinning the whole file.
  const data = decodeElements(bytes.slice(start, start + need), info.dtype, count, bigEndian);
  return { name, dtype: info.dtype, shape: info.shape, data };
}

/** Runs a jsfive call with the console muted; anything it throws becomes one BAD_HDF5 line. */
function guard<T>(label: string, what: string, f: () => T): T {
  const { log, warn } = console;
  console.log = () => {};
  console.warn = () => {};
  try {
    return f();
  } catch (e) {
    if (isGruCheckError(e)) {
      if (!e.message.startsWith(label)) e.message = `${label}: ${what}: ${e.message}`;
      throw e;
    }
    const msg = e instanceof Error ? e.message : typeof e === 'string' ? e : 'unreadable';
    // The library's message may quote a link name from the file: one short, escaped line.
    const short = showName(msg.split('\n')[0]!, 120);
    throw sanitizeError(new GruCheckError(/outside the bounds|out of range|offset/i.test(short) ? 'TRUNCATED' : 'BAD_HDF5', `${label}: cannot read ${what}: ${short}`));
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

function fail(code: 'BAD_HDF5' | 'TRUNCATED' | 'UNSUPPORTED_DTYPE' | 'TOO_LARGE', message: string): never {
  throw new GruCheckError(code, message);
}
