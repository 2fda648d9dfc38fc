/**
 * Owns reading an ONNX model's external data (torch 2.x's exporter writes every weight to
 * `model.onnx.data` by default): the bytes a TensorProto's `location`, `offset` and `length` name,
 * from a file beside the model, and nothing else.
 *
 *   - `location` must be a relative path inside the model's folder: no absolute path, no drive or
 *     backslash, no `..` segment, no NUL; after symlinks are resolved the file must still lie in
 *     the model's (resolved) folder and be a regular file.
 *   - offset and length are whole numbers; [offset, offset + length) must lie in the file, and
 *     length (when given) must equal what the tensor's shape and type need.
 *   - only those bytes are read (pread), and they count against the reader's byte budget like
 *     raw_data does.
 *
 * The resolver is injected into readOnnx (io/onnx.ts stays a reader of bytes, testable without a
 * disk); this file is the one that opens files.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { constants } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { GruCheckError } from '../errors.js';
import { showName } from './text.js';

export interface ExternalDataRequest {
  location: string;
  /** As the file says (strings of digits), undefined when absent. */
  offset: string | undefined;
  length: string | undefined;
  /** Bytes the tensor's shape and type need. */
  need: number;
  /** For messages: `initializer 'val_71'`. */
  what: string;
}

/** Returns exactly `need` bytes, or throws a GruCheckError. */
export type ExternalDataReader = (req: ExternalDataRequest) => Uint8Array;

export const EXTERNAL_HINT = 'keep the external data file beside the model, or save with the weights inside: torch.onnx.export(..., external_data=False), or onnx.save_model(model, path, save_as_external_data=False)';

function whole(v: string | undefined, key: string, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new GruCheckError('BAD_ONNX', `${what}: external data ${key} '${showName(v)}' is not a whole number of bytes`);
  }
  return Number(v);
}

/** The reader for a model at `modelPath`: files beside it only. */
export function externalDataBeside(modelPath: string): ExternalDataReader {
  const folder = dirname(modelPath);
  let realFolder: string | undefined;
  return (req) => {
    const { location, what } = req;
    const loc = showName(location);
    const refuse = (why: string): never => {
      throw new GruCheckError('UNSUPPORTED_ONNX', `${what}: external data location '${loc}' ${why}`, { hint: 'external data files must lie in the model\'s folder, named by a relative path' });
    };
    if (location === '' || location.includes('\0')) refuse('is empty or holds a NUL');
    if (isAbsolute(location) || /^[a-zA-Z]:/.test(location) || location.includes('\\')) refuse('is an absolute path (or names a drive or uses backslashes)');
    if (location.split('/').some((p) => p === '..')) refuse("climbs out of the model's folder ('..')");
    const offset = whole(req.offset, 'offset', what) ?? 0;
    const length = whole(req.length, 'length', what);
    if (length !== undefined && length !== req.need) {
      throw new GruCheckError('BAD_ONNX', `${what}: external data length ${length} bytes, but its shape and type need ${req.need}`);
    }
    const path = join(folder, location);
    let real: string;
    try {
      realFolder ??= realpathSync(folder);
      real = realpathSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new GruCheckError(code === 'ENOENT' ? 'NOT_FOUND' : 'UNREADABLE', `${what}: external data file '${loc}' ${code === 'ENOENT' ? 'is not beside the model' : `cannot be opened (${code ?? 'error'})`}`, { hint: EXTERNAL_HINT });
    }
    const rel = relative(realFolder, real);
    if (rel === '' || isAbsolute(rel) || rel.split(sep)[0] === '..') refuse("leads out of the model's folder (through a symlink)");
    let fd: number;
    try {
      fd = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      throw new GruCheckError('UNREADABLE', `${what}: external data file '${loc}' cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) refuse('is not a regular file');
      if (offset + req.need > st.size) {
        throw new GruCheckError('BAD_ONNX', `${what}: external data [${offset}, ${offset + req.need}) lies past the end of '${loc}' (${st.size} bytes)`);
      }
      const out = new Uint8Array(req.need);
      let got = 0;
      while (got < req.need) {
        const n = readSync(fd, out, got, req.need - got, offset + got);
        if (n === 0) throw new GruCheckError('TRUNCATED', `${what}: external data file '${loc}' ended after ${offset + got} bytes`);
        got += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}
