/**
 * Owns turning a path the user gave into an ArrayBundle: an .npz file, a torch.save file, a
 * .safetensors file, an .onnx model, a Keras .weights.h5 or .keras file, a single .npy file, or a
 * directory of .npy files, recognised by content. This is the only module in gru-check that touches the file system; the format
 * readers (npy, npz, torch, safetensors, onnx) work on bytes and stay testable without a disk.
 *
 * Async (fs/promises) so a CLI or script can load several cases without blocking; the decoding
 * itself is synchronous CPU work on bytes already read.
 *
 * Every failure is a GruCheckError whose `file` is the file the problem is in (the .npz for a bad
 * member, the .npy inside a directory for a bad file), with a one-line message.
 */
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { closeSync, openSync, readSync, type Stats } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { GruCheckError, isGruCheckError, type ErrorCode } from '../errors.js';
import { parseNpy } from './npy.js';
import { openZip, readNpz, type ByteSource } from './npz.js';
import { maybeOnnx, readOnnx } from './onnx.js';
import { externalDataBeside } from './onnx-external.js';
import { looksLikeSafetensors, readSafetensors } from './safetensors.js';
import { readTorchZip, torchFolder } from './torch.js';
import { sanitizeError, showName } from './text.js';
import type { ArrayBundle, NdArray } from './types.js';
import { isKerasArchive, looksLikeHdf5 } from './magic.js';

export interface LoadOptions {
  /**
   * Refuse (TOO_LARGE) input whose arrays total more than this many bytes: the uncompressed
   * member sizes of an .npz, the file sizes of .npy files. Checked before reading/inflating.
   */
  maxBytes?: number;
  /** Progress while reading an .npz, member by member: bytes read and the file's size. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Load every array at `path`:
 *   - an .npz (a zip of .npy members): one array per member, named without `.npy`;
 *   - a torch.save file (a zip holding `<folder>/data.pkl`): one array per tensor, named by its
 *     state_dict key; nested dicts (a checkpoint) joined with dots (`model.rnn.weight_ih_l0`);
 *   - a .safetensors file: one array per tensor;
 *   - an .onnx model: one array per initializer, plus the graph in `bundle.onnx`;
 *   - a Keras 3 `.weights.h5` (HDF5) or `.keras` (a zip holding config.json and model.weights.h5):
 *     each GRU layer's kernel, recurrent_kernel and bias, named `gru/kernel` etc. (keras-file.ts),
 *     plus the layers and their config in `bundle.keras`;
 *   - a single .npy file: one array named by the file stem;
 *   - a directory: one array per `*.npy` file directly in it (stem = name); other files and
 *     subdirectories are ignored.
 * Symlinks are followed. The format of a file is recognised by its content (zip magic and what
 * the zip holds, the safetensors header, the .npy magic, an ONNX ModelProto), so a misnamed file
 * still loads; the extension only picks the error for a file that is none of them.
 */
export async function loadArrays(path: string, options: LoadOptions = {}): Promise<ArrayBundle> {
  try {
    const st = await statPath(path);
    if (st.isDirectory()) return { source: path, arrays: await loadDirectory(path, options), format: 'npy-dir' };
    return { source: path, ...(await loadFile(path, st, options)) };
  } catch (e) {
    const err = isGruCheckError(e) ? e : toGruError(e, 'UNREADABLE');
    err.file ??= path;
    throw sanitizeError(err);
  }
}

type Loaded = Omit<ArrayBundle, 'source'>;

/** What pickle.dump(MAGIC_NUMBER, protocol=2) writes first in a legacy (pre-1.6) torch.save file. */
const LEGACY_TORCH_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

const FORMATS_HINT = 'gru-check reads .npz, .npy, torch.save (.pt/.pth), .safetensors, .onnx and Keras .weights.h5 / .keras files, recognised by content';

async function loadFile(path: string, st: Stats, options: LoadOptions): Promise<Loaded> {
  if (!st.isFile()) fail('UNREADABLE', path, 'expected a regular file or a directory, got a special file');
  if (st.size === 0) fail('EMPTY_FILE', path, 'file is empty (0 bytes)');
  const ext = extname(path).toLowerCase();
  let head: Uint8Array = new Uint8Array(0);
  // A zip is read member by member from the open file (see npz.ts): never the whole file at once.
  const zip = withFile(path, (fd) => {
    const src = fileSource(fd, st.size, path);
    head = src.read(0, Math.min(16, st.size));
    const isZip = head[0] === 0x50 && head[1] === 0x4b; // "PK"
    const isNpy = head[0] === 0x93 && head[1] === 0x4e; // "\x93N"
    return isZip || (!isNpy && ext === '.npz') ? readZip(src, path, options) : undefined;
  });
  if (zip === KERAS_ARCHIVE) {
    // The HDF5 reader is loaded only for Keras files (most runs never meet one).
    const { readKerasArchive } = await import('./keras-file.js');
    return withFile(path, (fd) => {
      const { arrays, keras } = readKerasArchive(openZip(fileSource(fd, st.size, path), opt(options)));
      return { arrays, format: 'keras', keras };
    });
  }
  if (zip) return zip;

  if (looksLikeHdf5(head) || ext === '.h5' || ext === '.hdf5') {
    checkCap(st.size, options, path);
    const bytes = await readBytes(path);
    const { readKerasWeightsH5 } = await import('./keras-file.js');
    const { arrays, keras } = readKerasWeightsH5(bytes);
    return { arrays, format: 'keras-h5', keras };
  }

  if (looksLikeSafetensors(head, st.size) || ext === '.safetensors') {
    checkCap(st.size, options, path);
    return { arrays: readSafetensors(await readBytes(path), opt(options)), format: 'safetensors' };
  }
  if (head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) {
    if (LEGACY_TORCH_MAGIC.every((b, i) => head[i] === b)) {
      fail('LEGACY_TORCH', path, 'legacy torch.save format: re-save with torch.save(model.state_dict(), path) in PyTorch >= 1.6');
    }
    throw new GruCheckError('PICKLE_REFUSED', 'a bare pickle file: refused, never unpickled (only torch.save zip files are read as pickles)', {
      file: path,
      hint: 'save with torch.save(model.state_dict(), path), safetensors, or np.savez(path, **arrays)',
    });
  }
  const isNpy = head[0] === 0x93 && head[1] === 0x4e;
  if (!isNpy && (ext === '.onnx' || maybeOnnx(head))) {
    checkCap(st.size, options, path);
    const bytes = await readBytes(path);
    try {
      // External data (torch 2.x's default): files beside the model only (onnx-external.ts).
      const model = readOnnx(bytes, { ...opt(options), externalData: externalDataBeside(path) });
      return { arrays: model.arrays, format: 'onnx', onnx: model.graph };
    } catch (e) {
      // Without the extension, a failed decode only means "not ONNX either": say what we read.
      if (ext === '.onnx' || !isGruCheckError(e) || e.code !== 'BAD_ONNX') throw e;
    }
  }
  checkCap(st.size, options, path);
  const bytes = await readBytes(path);
  if (bytes.length === 0) fail('EMPTY_FILE', path, 'file is empty (0 bytes)');
  const name = stem(path);
  try {
    return { arrays: new Map([[name, parseNpy(bytes, name)]]), format: 'npy' };
  } catch (e) {
    if (isGruCheckError(e) && e.code === 'NOT_NPY') throw new GruCheckError('NOT_NPY', e.message, { file: path, hint: FORMATS_HINT });
    throw e;
  }
}

function opt(options: LoadOptions): { maxBytes?: number } {
  return options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
}

/** Returned by readZip for a .keras archive, read after its reader is loaded. */
const KERAS_ARCHIVE = Symbol('keras archive');

/** A zip: torch.save when it holds one `<folder>/data.pkl`, a .keras archive, else an .npz. */
function readZip(src: ByteSource, path: string, options: LoadOptions): Loaded | typeof KERAS_ARCHIVE {
  const zip = openZip(src, opt(options));
  if (isKerasArchive(zip)) return KERAS_ARCHIVE;
  if (torchFolder(zip) !== undefined) {
    const arrays = readTorchZip(zip, { ...opt(options), rootName: stem(path), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    if (arrays.size === 0) fail('MISSING_ARRAY', path, 'torch.save file holds no tensors');
    return { arrays, format: 'torch' };
  }
  return { arrays: readMembers(src, path, options), format: 'npz' };
}

function readMembers(src: ByteSource, path: string, options: LoadOptions): Map<string, NdArray> {
  const members = readNpz(src, { ...opt(options), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  if (members.size === 0) fail('MISSING_ARRAY', path, 'zip archive holds no .npy members');
  const arrays = new Map<string, NdArray>();
  for (const [name, npy] of members) {
    try {
      arrays.set(name, parseNpy(npy, name, { label: `member '${showName(name)}.npy'` }));
    } catch (e) {
      // np.savez(path, d) with a dict: numpy pickles the whole dict into one object array arr_0.
      if (isGruCheckError(e) && e.code === 'OBJECT_DTYPE' && name === 'arr_0' && members.size === 1) {
        throw new GruCheckError('OBJECT_DTYPE', "np.savez(path, d) stored the dict as one pickled object (member 'arr_0.npy', object dtype; never unpickled here): use np.savez(path, **d)", { file: path });
      }
      throw e;
    }
  }
  return arrays;
}

async function loadDirectory(dir: string, options: LoadOptions): Promise<Map<string, NdArray>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw fsError(e, dir);
  }
  // Sorted so the bundle (and any report built from it) does not depend on directory order.
  const npyNames = names.filter((n) => n.endsWith('.npy') && n.length > 4).sort();
  const files: Array<{ path: string; size: number }> = [];
  for (const n of npyNames) {
    const p = join(dir, n);
    const st = await statPath(p);
    if (st.isDirectory()) continue; // a subdirectory that happens to be called *.npy
    if (!st.isFile()) fail('UNREADABLE', p, 'expected a regular file, got a special file');
    files.push({ path: p, size: st.size });
  }
  if (files.length === 0) {
    fail('MISSING_ARRAY', dir, 'directory holds no .npy files (expected one file per array, e.g. weight_ih_l0.npy)');
  }
  checkCap(
    files.reduce((a, f) => a + f.size, 0),
    options,
    dir,
  );
  const arrays = new Map<string, NdArray>();
  for (const f of files) {
    try {
      if (f.size === 0) fail('EMPTY_FILE', f.path, 'file is empty (0 bytes)');
      const name = stem(f.path);
      arrays.set(name, parseNpy(await readBytes(f.path), name));
    } catch (e) {
      const err = isGruCheckError(e) ? e : toGruError(e, 'UNREADABLE');
      err.file ??= f.path;
      throw err;
    }
  }
  return arrays;
}

function stem(p: string): string {
  const b = basename(p);
  return b.endsWith('.npy') || b.endsWith('.npz') ? b.slice(0, -4) : b.slice(0, b.length - extname(b).length) || b;
}

function checkCap(total: number, options: LoadOptions, file: string): void {
  if (options.maxBytes !== undefined && total > options.maxBytes) {
    fail('TOO_LARGE', file, `arrays total ${total} bytes, more than the limit of ${options.maxBytes} bytes`);
  }
}

function withFile<T>(path: string, f: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fsError(e, path);
  }
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

/** Random access to an open file; every read is a fresh buffer of its own. */
function fileSource(fd: number, size: number, path: string): ByteSource {
  return {
    size,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      let got = 0;
      try {
        while (got < n) {
          const r = readSync(fd, out, got, n - got, offset + got);
          if (r === 0) break;
          got += r;
        }
      } catch (e) {
        throw fsError(e, path);
      }
      return got === n ? out : out.subarray(0, got);
    },
  };
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    // A plain Uint8Array over the same memory: views made from it are then ordinary typed arrays.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fsError(e, path);
  }
}

/** stat (following symlinks) with file-system errors turned into clear GruCheckErrors. */
async function statPath(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // stat failed but lstat may not: then the path itself is a symlink whose target is gone.
      const link = await lstat(path).catch(() => undefined);
      if (link?.isSymbolicLink()) {
        const target = await readlink(path).catch(() => '?');
        fail('NOT_FOUND', path, `broken symbolic link: its target '${showName(target)}' does not exist`);
      }
    }
    throw fsError(e, path);
  }
}

function fsError(e: unknown, path: string): GruCheckError {
  if (isGruCheckError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new GruCheckError('NOT_FOUND', 'no such file or directory', { file: path });
    case 'ENOTDIR':
      return new GruCheckError('NOT_FOUND', 'a parent of this path is not a directory', { file: path });
    case 'EACCES':
    case 'EPERM':
      return new GruCheckError('UNREADABLE', 'permission denied', { file: path, hint: 'check the file permissions' });
    case 'ELOOP':
      return new GruCheckError('UNREADABLE', 'too many levels of symbolic links (a symlink loop?)', { file: path });
    case 'EISDIR':
      return new GruCheckError('UNREADABLE', 'expected a file, got a directory', { file: path });
    case 'ERR_FS_FILE_TOO_LARGE':
      return new GruCheckError('TOO_LARGE', 'file is larger than Node can read into memory (2 GiB)', { file: path });
    default:
      return toGruError(e, 'UNREADABLE', path);
  }
}

function toGruError(e: unknown, code: ErrorCode, file?: string): GruCheckError {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, ' ');
  return new GruCheckError(code, `cannot read: ${msg}`, file === undefined ? {} : { file });
}

function fail(code: ErrorCode, file: string, message: string): never {
  throw new GruCheckError(code, message, { file });
}
