/**
 * Owns reading a torch.save file (PyTorch >= 1.6's zip format) into named arrays: a zip holding
 * `<folder>/data.pkl` (the pickled object), `<folder>/data/<key>` (one raw little-endian storage
 * per key) and `<folder>/version`; `<folder>` is `archive` in recent PyTorch and the file's stem in
 * older ones, so any single folder is accepted. The pickle is read as data by pickle.ts (nothing in
 * it is ever run); its tensors become NdArrays named by their state_dict keys (`rnn.weight_ih_l0`),
 * nested dicts joined with dots (a checkpoint's `model.rnn.weight_ih_l0`).
 *
 * Tensors are views into storages with an offset, sizes and strides; several tensors may share a
 * storage. Each storage member is read once (torch.save writes them STORED at 64-byte-aligned
 * offsets, so from a file each lands in its own aligned buffer); a contiguous tensor becomes a view
 * of it, any other (a transposed weight, a slice, an expanded tensor) is copied out in C order.
 * Every tensor's extent is checked against its storage, and the total size of what will be
 * allocated against maxBytes, before any storage is read.
 */
import { GruCheckError, isGruCheckError } from '../errors.js';
import { decodeElements, decodedItemsize, elementCount, gatherStrided, isContiguous, ITEMSIZE, MAX_TYPED_LENGTH } from './dtypes.js';
import { readZipMember, type ZipArchive, type ZipEntry } from './npz.js';
import { flattenTensors, unpickle, type TensorRef } from './pickle.js';
import { sanitizeError, showName } from './text.js';
import type { NdArray, NumericData } from './types.js';

export interface ReadTorchOptions {
  /** Refuse (TOO_LARGE) when the arrays to build would take more than this many bytes. */
  maxBytes?: number;
  /** Called after each storage is read with bytes read so far and the archive's size. */
  onProgress?: (done: number, total: number) => void;
  /** Name for a bare tensor saved alone (torch.save(tensor, path)); default 'tensor'. */
  rootName?: string;
}

/** `archive/data.pkl` -> `archive/`: the folder of the archive's pickle, or undefined if none. */
export function torchFolder(zip: ZipArchive): string | undefined {
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  return pkls.length === 1 ? pkls[0]!.name.slice(0, -'data.pkl'.length) : undefined;
}

/**
 * Every tensor in a torch.save archive (already opened with openZip, which checked its directory).
 * Throws only GruCheckError: PICKLE_REFUSED, BAD_PICKLE, BAD_MEMBER, TOO_LARGE, CRC_MISMATCH, ...
 */
export function readTorchZip(zip: ZipArchive, options: ReadTorchOptions = {}): Map<string, NdArray> {
  try {
    return read(zip, options);
  } catch (e) {
    throw sanitizeError(isGruCheckError(e) ? e : new GruCheckError('BAD_PICKLE', `torch.save archive: ${oneLine(e)}`));
  }
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, ' ');
}

function read(zip: ZipArchive, options: ReadTorchOptions): Map<string, NdArray> {
  const folder = torchFolder(zip);
  if (folder === undefined) {
    throw new GruCheckError('BAD_MEMBER', 'torch.save archive: expected exactly one <folder>/data.pkl member');
  }
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  // torch.jit.save archives also hold a data.pkl, but it pickles TorchScript classes.
  if (byName.has(`${folder}constants.pkl`) || zip.entries.some((e) => e.name.startsWith(`${folder}code/`))) {
    throw new GruCheckError('BAD_MEMBER', 'a TorchScript archive (torch.jit.save), not a torch.save state_dict', {
      hint: 'save the weights with torch.save(model.state_dict(), path)',
    });
  }
  const bigEndian = byteOrder(zip, byName.get(`${folder}byteorder`));
  const pklName = `${folder}data.pkl`;
  const label = `member '${showName(pklName)}'`;
  const pkl = readZipMember(zip, byName.get(pklName)!);
  const root = unpickle(pkl, { label });
  const tensors = flattenTensors(root, { label, rootName: options.rootName ?? 'tensor', maxVisits: Math.max(10_000, 2 * pkl.length) });

  // Check every tensor against its storage, and the total, before reading any storage.
  const { storages, plans, total } = planTensors(tensors, byName, folder, bigEndian);
  const stored = [...storages.values()].reduce((a, s) => a + s.entry.size, 0);
  if (options.maxBytes !== undefined && total + stored > options.maxBytes) {
    throw new GruCheckError('TOO_LARGE', `torch.save archive: its tensors need ${total + stored} bytes, more than the limit of ${options.maxBytes} bytes`);
  }

  return readTensors(zip, plans, storages, bigEndian, pkl.length, options);
}

type StorageUse = { entry: ZipEntry; dtype: TensorRef['storage']['dtype']; numel: number };
type TensorPlan = { name: string; t: TensorRef; count: number; view: boolean };

/**
 * Each tensor checked against its storage member, and how it will be read (a view of its decoded
 * storage, or a copy); total: the bytes decoding and copying will take beyond the stored ones.
 */
function planTensors(tensors: Map<string, TensorRef>, byName: Map<string, ZipEntry>, folder: string, bigEndian: boolean): { storages: Map<string, StorageUse>; plans: TensorPlan[]; total: number } {
  const storages = new Map<string, StorageUse>();
  let total = 0;
  const plans: TensorPlan[] = [];
  for (const [name, t] of tensors) {
    const what = `tensor '${showName(name)}'`;
    const { key, dtype, numel } = t.storage;
    const memberName = `${folder}data/${key}`;
    const entry = byName.get(memberName);
    if (!entry) throw new GruCheckError('BAD_MEMBER', `${what}: its storage member '${showName(memberName)}' is missing from the archive`);
    const seen = storages.get(key);
    if (seen && (seen.dtype !== dtype || seen.numel !== numel)) {
      throw new GruCheckError('BAD_PICKLE', `${what}: storage '${showName(key)}' is referenced as ${seen.numel} ${seen.dtype} and as ${numel} ${dtype}`);
    }
    if (entry.size !== numel * ITEMSIZE[dtype]) {
      throw new GruCheckError('BAD_MEMBER', `${what}: storage member '${showName(memberName)}' is ${entry.size} bytes, expected ${numel * ITEMSIZE[dtype]} (${numel} ${dtype})`);
    }
    const count = checkView(what, t, numel);
    const widened = dtype === 'float16' || dtype === 'bfloat16' || bigEndian;
    const view = isContiguous(t.size, t.stride);
    // Storages are decoded once (widened/swapped ones into new memory); non-contiguous tensors copied.
    if (!seen) {
      storages.set(key, { entry, dtype, numel });
      if (widened) total += numel * decodedItemsize(dtype);
    }
    if (!view) total += count * decodedItemsize(dtype);
    plans.push({ name, t, count, view });
  }
  return { storages, plans, total };
}

/** t's element count, once its view is checked to lie inside its storage of numel elements. */
function checkView(what: string, t: TensorRef, numel: number): number {
  const count = elementCount(t.size);
  if (count === undefined || count > MAX_TYPED_LENGTH) {
    throw new GruCheckError('TOO_LARGE', `${what}: size [${t.size.join(', ')}] has more elements than a typed array can hold`);
  }
  // The highest storage index the view touches must lie inside the storage.
  if (count > 0) {
    let last = t.offset;
    for (let k = 0; k < t.size.length; k++) last += (t.size[k]! - 1) * t.stride[k]!;
    if (!Number.isSafeInteger(last) || last >= numel) {
      throw new GruCheckError('BAD_PICKLE', `${what}: size [${t.size.join(', ')}], stride [${t.stride.join(', ')}] at offset ${t.offset} reach past its storage of ${numel} elements`);
    }
  } else if (t.offset > numel) {
    throw new GruCheckError('BAD_PICKLE', `${what}: offset ${t.offset} is past its storage of ${numel} elements`);
  }
  return count;
}

/** Decodes each storage once, and makes every tensor a view or a strided copy of it. */
function readTensors(zip: ZipArchive, plans: readonly TensorPlan[], storages: Map<string, StorageUse>, bigEndian: boolean, pklLength: number, options: ReadTorchOptions): Map<string, NdArray> {
  const decoded = new Map<string, NumericData>();
  let done = pklLength;
  const out = new Map<string, NdArray>();
  for (const { name, t, count, view } of plans) {
    const { key, dtype, numel } = t.storage;
    let data = decoded.get(key);
    if (!data) {
      const s = storages.get(key)!;
      data = decodeElements(readZipMember(zip, s.entry), dtype, numel, bigEndian);
      decoded.set(key, data);
      done += s.entry.compressedSize;
      options.onProgress?.(done, zip.src.size);
    }
    const values = view ? data.subarray(t.offset, t.offset + count) : gatherStrided(data, t.offset, t.size, t.stride, count);
    out.set(name, { name, dtype, shape: [...t.size], data: values });
  }
  return out;
}

/** `<folder>/byteorder` (PyTorch >= 2.1): 'little' or 'big'; absent means little. */
function byteOrder(zip: ZipArchive, entry: ZipEntry | undefined): boolean {
  if (!entry) return false;
  if (entry.size > 16) throw new GruCheckError('BAD_MEMBER', `member '${showName(entry.name)}' is ${entry.size} bytes, expected 'little' or 'big'`);
  const text = new TextDecoder().decode(readZipMember(zip, entry)).trim();
  if (text !== 'little' && text !== 'big') throw new GruCheckError('BAD_MEMBER', `member '${showName(entry.name)}' says '${showName(text)}', expected 'little' or 'big'`);
  return text === 'big';
}
