/**
 * Errors as data. Every input or usage problem becomes a GruCheckError with a stable code; the CLI
 * formats it once as `gru-check: error: <file>: <message> (<hint>)` and exits 2. A tolerance
 * failure is never an error: it is a result (see compare/).
 */

import { oneLine, showName } from './io/text.js';

export type ErrorCode =
  | 'USAGE' // bad flag value or combination
  | 'NOT_FOUND' // path does not exist
  | 'UNREADABLE' // permissions, is a directory where a file was wanted, symlink loop, ...
  | 'EMPTY_FILE'
  | 'NOT_NPY' // bad magic / not an .npy
  | 'NOT_ZIP' // .npz that is not a zip archive
  | 'TRUNCATED' // zip or npy shorter than it claims
  | 'CRC_MISMATCH'
  | 'DUPLICATE_MEMBER'
  | 'BAD_MEMBER' // a zip member that is not an .npy, or uses an unsupported compression
  | 'BAD_HEADER' // .npy header that does not parse
  | 'UNSUPPORTED_DTYPE'
  | 'OBJECT_DTYPE' // pickled / object arrays: refused, never unpickled
  | 'TOO_LARGE' // claims more elements or bytes than allowed
  | 'MISSING_ARRAY' // input, weight, ... not present
  | 'NO_EXPECTED' // neither output nor h_n present
  | 'AMBIGUOUS_PREFIX' // several GRUs in one file and no --prefix
  | 'AMBIGUOUS_LAYOUT' // batch_first cannot be inferred
  | 'SHAPE_MISMATCH'
  | 'BAD_LENGTHS'
  | 'BAD_CONFIG'
  | 'PICKLE_REFUSED' // a torch.save pickle names a global or opcode a state_dict never uses: refused, never run
  | 'BAD_PICKLE' // a torch.save pickle that is malformed: truncated, bad memo index, too deep, ...
  | 'LEGACY_TORCH' // torch.save's pre-1.6 (non-zip) format
  | 'BAD_SAFETENSORS' // a .safetensors header or data layout that does not hold together
  | 'BAD_ONNX' // bytes that do not decode as an ONNX ModelProto
  | 'UNSUPPORTED_ONNX' // an ONNX model that decodes but uses what we do not read (external data, ...)
  | 'BAD_HDF5'; // an HDF5 file (Keras .weights.h5, or inside a .keras) whose structure or data does not hold together

export class GruCheckError extends Error {
  readonly code: ErrorCode;
  /** The file (or directory) the problem is in, when there is one. */
  file: string | undefined;
  /** A short suggestion of what to do, shown in parentheses. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { file?: string; hint?: string } = {}) {
    super(message);
    this.name = 'GruCheckError';
    this.code = code;
    this.file = options.file;
    this.hint = options.hint;
  }
}

export function isGruCheckError(e: unknown): e is GruCheckError {
  return e instanceof GruCheckError;
}

/**
 * One line, no stack: `<file>: <message> (<hint>)`. The CLI prefixes `gru-check: error: `. The path
 * comes from the user or a directory listing, so its control characters are escaped too: an ESC in
 * a file name must not recolour or rewrite a CI log. The path is clipped at 300 characters and the
 * whole line at MESSAGE_LIMIT, each with the length left out.
 */
export function formatError(e: GruCheckError): string {
  const where = e.file ? `${showName(e.file, 300)}: ` : '';
  const hint = e.hint ? ` (${e.hint})` : '';
  return oneLine(`${where}${e.message}${hint}`);
}
