/**
 * Owns reading zip archives: an .npz (a zip of .npy members), returning each member's raw .npy bytes
 * (decoding them is npy.ts's job), and, through openZip/readZipMember, any member of any zip, which
 * torch.ts uses for torch.save files (`<folder>/data.pkl` + `<folder>/data/<key>` storages; STORED,
 * data 64-byte aligned, so a storage read from a file lands aligned and becomes a view, no copy).
 *
 * It reads through a ByteSource (random access): bytes already in memory, or an open file. From a
 * file only the end record, the central directory and then each member are read, each member into
 * its own buffer — so the whole file is never held besides the arrays, and a stored member's data
 * (at a 64-byte-aligned offset inside its .npy) lands aligned and becomes a typed-array view, not a
 * copy. Peak memory for a stored .npz is then about its size, not twice it.
 *
 * We parse the central directory ourselves rather than use a zip library because what we need is
 * exactly what they skip (fflate's unzipSync, for one): CRC-32 checks, the inflated length equal to
 * the declared size, refusing a member that inflates past its declared size *while* inflating (zip
 * bomb) and before touching the rest, duplicate names, and stored members handed back as views (no
 * copy). Node's zlib does the DEFLATE decoding, into one buffer of the declared size.
 *
 * The central directory is the source of truth for sizes and CRC (numpy, via Python's zipfile,
 * writes 0xFFFFFFFF sizes plus a ZIP64 extra field in every local header, and may use data
 * descriptors); the local header is read only to find where the data starts and to check that it
 * names the same member.
 */
import * as zlib from 'node:zlib';
import { GruCheckError, isGruCheckError, type ErrorCode } from '../errors.js';
import { sanitizeError, showName } from './text.js';

export interface ReadNpzOptions {
  /** Refuse (TOO_LARGE) archives whose members total more than this many uncompressed bytes. */
  maxBytes?: number;
  /** Called after each member with bytes read so far and the archive's size. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Random access to the archive's bytes. `read` returns exactly `length` bytes from `offset`, or
 * fewer only when the source ends first (callers check); the result may be a view or a fresh buffer.
 */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (o, l) => bytes.subarray(o, o + l) };
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

/** DEFLATE's best case is a 258-byte match in 2 bits: ~1032x. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Split an .npz into its members: member name without `.npy` -> that member's .npy bytes.
 * From bytes in memory, stored members are views of them (keep them unmodified while used); from a
 * file source each member is its own buffer. Deflated members are inflated once into their own
 * buffer. Throws only GruCheckError: EMPTY_FILE, NOT_ZIP, TRUNCATED, CRC_MISMATCH,
 * DUPLICATE_MEMBER, BAD_MEMBER, TOO_LARGE.
 */
export function readNpz(input: Uint8Array | ByteSource, options: ReadNpzOptions = {}): Map<string, Uint8Array> {
  try {
    const zip = open(input instanceof Uint8Array ? memorySource(input) : input, { ...options, npyOnly: true });
    const out = new Map<string, Uint8Array>();
    let done = 0;
    for (const e of zip.entries) {
      out.set(e.name.slice(0, -4), member(zip, e));
      done += e.compressedSize;
      options.onProgress?.(done, zip.src.size);
    }
    return out;
  } catch (e) {
    throw sanitizeError(wrap(e, 'zip archive', 'NOT_ZIP'));
  }
}

function wrap(e: unknown, label: string, code: ErrorCode): GruCheckError {
  if (isGruCheckError(e)) return e;
  const msg = (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, ' ');
  if (e instanceof RangeError && /alloc|invalid (typed )?array length|array buffer/i.test(msg)) {
    return new GruCheckError('TOO_LARGE', `${label}: cannot allocate memory for it: ${msg}`);
  }
  return new GruCheckError(code, `${label}: ${msg}`);
}

function fail(code: ErrorCode, message: string): never {
  throw new GruCheckError(code, message);
}

/** A little-endian reader over one buffer whose first byte is at absolute offset `base`. */
function reader(buf: Uint8Array, base: number) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u64 = (o: number): number => {
    const v = dv.getBigUint64(o - base, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('NOT_ZIP', `zip archive: 64-bit field ${v} is past any real file size`);
    return Number(v);
  };
  return {
    dv,
    u16: (o: number) => dv.getUint16(o - base, true),
    u32: (o: number) => dv.getUint32(o - base, true),
    u64,
    bytes: (o: number, n: number) => buf.subarray(o - base, o - base + n),
  };
}

/** Reads exactly `length` bytes or fails with TRUNCATED naming what was being read. */
function readExact(src: ByteSource, offset: number, length: number, what: string): Uint8Array {
  const b = offset + length <= src.size ? src.read(offset, length) : undefined;
  if (!b || b.length !== length) {
    fail('TRUNCATED', `zip archive: ${what} at offset ${offset} (+${length} bytes) runs past the end of the ${src.size}-byte file`);
  }
  return b;
}

/** A zip archive whose central directory has been read and checked; members are read on demand. */
export interface ZipArchive {
  src: ByteSource;
  /** Every member, in central-directory order. */
  entries: readonly ZipEntry[];
  cdOffset: number;
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface OpenZipOptions {
  /** Refuse (TOO_LARGE) archives whose members total more than this many uncompressed bytes. */
  maxBytes?: number;
  /** Refuse (BAD_MEMBER) any member that is not `*.npy` (the .npz contract). */
  npyOnly?: boolean;
}

/**
 * Read and check an archive's central directory without reading any member: names, duplicates,
 * encryption, compression methods, sizes DEFLATE could produce, and the total against maxBytes.
 * Used to recognise what a zip holds (an .npz, a torch.save) before committing to reading it.
 * Throws only GruCheckError.
 */
export function openZip(input: Uint8Array | ByteSource, options: OpenZipOptions = {}): ZipArchive {
  try {
    return open(input instanceof Uint8Array ? memorySource(input) : input, options);
  } catch (e) {
    throw sanitizeError(wrap(e, 'zip archive', 'NOT_ZIP'));
  }
}

/**
 * One member's uncompressed bytes, CRC-32 checked: a view of the source when stored (from a file
 * source, a fresh buffer of its own), a fresh buffer when deflated. Throws only GruCheckError.
 */
export function readZipMember(zip: ZipArchive, entry: ZipEntry): Uint8Array {
  try {
    return member(zip, entry);
  } catch (e) {
    throw sanitizeError(wrap(e, 'zip archive', 'NOT_ZIP'));
  }
}

function member(zip: ZipArchive, e: ZipEntry): Uint8Array {
  const m = `member '${showName(e.name)}'`;
  try {
    const data = memberData(zip.src, e, zip.cdOffset, m);
    const got = crc32(data);
    if (got !== e.crc) fail('CRC_MISMATCH', `${m}: CRC-32 mismatch: expected ${hex32(e.crc)}, got ${hex32(got)}`);
    return data;
  } catch (err) {
    throw wrap(err, m, 'BAD_MEMBER');
  }
}

function open(src: ByteSource, options: OpenZipOptions): ZipArchive {
  const end = readEndRecord(src);
  const entries = readCentralDirectory(src, end);
  checkEntries(entries, options);
  return { src, entries, cdOffset: end.cdOffset };
}

/** Where the end record is, and the central directory's member count, size and offset. */
interface EndRecord {
  eocd: number;
  count: number;
  cdSize: number;
  cdOffset: number;
}

/** The end record (and the ZIP64 one, if present); the central directory must fit before it. */
function readEndRecord(src: ByteSource): EndRecord {
  if (src.size === 0) fail('EMPTY_FILE', 'file is empty (0 bytes)');
  // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
  const tailStart = Math.max(0, src.size - EOCD_SIZE - 0xffff);
  const tailBuf = src.read(tailStart, src.size - tailStart);
  const tail = reader(tailBuf, tailStart);
  const eocd = findEocd(tailBuf, tailStart, src);
  let count = tail.u16(eocd + 10);
  let cdSize = tail.u32(eocd + 12);
  let cdOffset = tail.u32(eocd + 16);
  if (tail.u16(eocd + 4) !== 0 || tail.u16(eocd + 6) !== 0 || tail.u16(eocd + 8) !== count) {
    fail('NOT_ZIP', 'zip archive spans several disks: expected a single-file archive');
  }
  // ZIP64 end record: present when a count/size/offset overflowed (Python writes it only then).
  const loc = eocd - 20;
  if (loc >= tailStart && tail.u32(loc) === SIG_ZIP64_LOCATOR) {
    const z64 = tail.u64(loc + 8);
    const rec = z64 + 56 <= loc ? reader(src.read(z64, 56), z64) : undefined;
    if (!rec || rec.u32(z64) !== SIG_ZIP64_EOCD) {
      fail('TRUNCATED', `zip archive: ZIP64 end record expected at offset ${z64}, not found (file is ${src.size} bytes)`);
    }
    count = rec.u64(z64 + 32);
    cdSize = rec.u64(z64 + 40);
    cdOffset = rec.u64(z64 + 48);
  }
  const cdEnd = cdOffset + cdSize;
  if (cdEnd > eocd) {
    fail('TRUNCATED', `zip archive: central directory at offset ${cdOffset} (+${cdSize} bytes) runs past the end record at ${eocd}`);
  }
  if (count * CENTRAL_SIZE > cdSize) {
    fail('TRUNCATED', `zip archive: ${count} members cannot fit in a ${cdSize}-byte central directory`);
  }
  return { eocd, count, cdSize, cdOffset };
}

/** Every member's central directory entry, in order. */
function readCentralDirectory(src: ByteSource, end: EndRecord): ZipEntry[] {
  const { count, cdSize, cdOffset } = end;
  const cdEnd = cdOffset + cdSize;
  const cd = reader(readExact(src, cdOffset, cdSize, 'central directory'), cdOffset);
  const { u16, u32 } = cd;

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cdEnd || u32(p) !== SIG_CENTRAL) {
      fail('TRUNCATED', `zip archive: central directory entry ${i + 1} of ${count} is missing at offset ${p}`);
    }
    const flags = u16(p + 8);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdEnd) fail('TRUNCATED', `zip archive: central directory entry ${i + 1} runs past the directory`);
    const name = decodeName(cd.bytes(p + CENTRAL_SIZE, nameLen), flags);
    const e: ZipEntry = {
      name,
      flags,
      method: u16(p + 10),
      crc: u32(p + 16),
      compressedSize: u32(p + 20),
      size: u32(p + 24),
      localOffset: u32(p + 42),
    };
    applyZip64Extra(e, p + CENTRAL_SIZE + nameLen, extraLen, cd);
    entries.push(e);
    p = next;
  }
  return entries;
}

/** Checks everything that is cheap before inflating anything. */
function checkEntries(entries: readonly ZipEntry[], options: OpenZipOptions): void {
  const seen = new Set<string>();
  let total = 0;
  for (const e of entries) {
    const m = `member '${showName(e.name)}'`;
    if (seen.has(e.name)) fail('DUPLICATE_MEMBER', `${m} appears more than once in the archive`);
    seen.add(e.name);
    if (options.npyOnly && (!e.name.endsWith('.npy') || e.name.length === 4)) fail('BAD_MEMBER', `${m}: expected an .npy member, got another file`);
    if (e.flags & 1) fail('BAD_MEMBER', `${m} is encrypted`);
    if (e.method !== 0 && e.method !== 8) {
      fail('BAD_MEMBER', `${m}: expected compression method 0 (stored) or 8 (deflate), got ${e.method}`);
    }
    if (e.method === 0 && e.compressedSize !== e.size) {
      fail('BAD_MEMBER', `${m}: stored member declares ${e.compressedSize} bytes stored but ${e.size} bytes uncompressed`);
    }
    // DEFLATE cannot expand more than ~1032:1, so a larger claim is a lie, and refusing it here
    // means a flipped size field can never make us allocate gigabytes for a tiny member.
    if (e.method === 8 && e.size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      fail('BAD_MEMBER', `${m}: declares ${e.size} bytes uncompressed from ${e.compressedSize} compressed, more than DEFLATE can produce`);
    }
    total += e.size;
  }
  if (options.maxBytes !== undefined && total > options.maxBytes) {
    fail('TOO_LARGE', `zip archive: members total ${total} bytes uncompressed, more than the limit of ${options.maxBytes} bytes`);
  }
}

/** Find the end-of-central-directory record in the tail: the last signature whose comment length fits. */
function findEocd(tail: Uint8Array, base: number, src: ByteSource): number {
  const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + dv.getUint16(i + 20, true) <= tail.length) return base + i;
  }
  const head = src.read(0, Math.min(4, src.size));
  // A zip whose end was cut off still starts with a local header.
  if (head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === SIG_LOCAL) {
    fail('TRUNCATED', `zip archive is truncated: no end-of-central-directory record in its ${src.size} bytes`);
  }
  fail('NOT_ZIP', `expected a zip archive (.npz), got ${head.length >= 4 ? 'bytes ' + hexBytes(head, 4) : `${src.size} bytes`}`);
}

/** ZIP64 extra field (id 1): 64-bit values for whichever 32-bit fields are 0xFFFFFFFF, in order. */
function applyZip64Extra(e: ZipEntry, start: number, len: number, r: ReturnType<typeof reader>): void {
  const { u16, u64 } = r;
  const end = start + len;
  for (let p = start; p + 4 <= end; ) {
    const id = u16(p);
    const size = u16(p + 2);
    if (p + 4 + size > end) fail('BAD_MEMBER', `member '${showName(e.name)}': extra field runs past its entry`);
    if (id === 1) {
      let q = p + 4;
      const take = (): number => {
        if (q + 8 > p + 4 + size) fail('BAD_MEMBER', `member '${showName(e.name)}': ZIP64 extra field is too short`);
        const v = u64(q);
        q += 8;
        return v;
      };
      if (e.size === 0xffffffff) e.size = take();
      if (e.compressedSize === 0xffffffff) e.compressedSize = take();
      if (e.localOffset === 0xffffffff) e.localOffset = take();
    }
    p += 4 + size;
  }
}

/** The member's uncompressed bytes: as the source gives them when stored, a fresh buffer when deflated. */
function memberData(src: ByteSource, e: ZipEntry, cdOffset: number, m: string): Uint8Array {
  const lo = e.localOffset;
  const head = lo + LOCAL_SIZE <= cdOffset ? reader(src.read(lo, LOCAL_SIZE), lo) : undefined;
  if (!head || head.u32(lo) !== SIG_LOCAL) {
    fail('TRUNCATED', `${m}: local header expected at offset ${lo}, not found`);
  }
  const nameLen = head.u16(lo + 26);
  const extraLen = head.u16(lo + 28);
  const start = lo + LOCAL_SIZE + nameLen + extraLen;
  if (start > cdOffset) fail('TRUNCATED', `${m}: local header runs past the central directory`);
  const localName = decodeName(src.read(lo + LOCAL_SIZE, nameLen), head.u16(lo + 6));
  if (localName !== e.name) fail('BAD_MEMBER', `${m}: local header names '${showName(localName)}' instead`);
  const end = start + e.compressedSize;
  if (end > cdOffset) {
    fail('TRUNCATED', `${m}: data is ${cdOffset - start} bytes before the central directory, expected ${e.compressedSize}`);
  }
  const raw = src.read(start, e.compressedSize);
  return e.method === 0 ? raw : inflateExact(raw, e.size, m);
}

/**
 * Inflate into one buffer of exactly the declared size, with Node's zlib (native: many times faster
 * than a JavaScript inflater on a cold process, which is what a CLI run is). The output chunk is the
 * declared size and maxOutputLength too, so the first write fills it and a member producing more
 * than it declared (a zip bomb) is refused at its first byte too many, without inflating the rest;
 * with a single output chunk Node hands back that buffer itself, not a concatenated copy. (Node then
 * reserves one more chunk to look for more output; it is never written, so never resident.) Outputs
 * under 4 KiB come from Node's shared pool and are copied into a buffer of their own.
 */
function inflateExact(raw: Uint8Array, size: number, m: string): Uint8Array {
  let out: Uint8Array;
  try {
    out = zlib.inflateRawSync(raw, { chunkSize: Math.max(64, size), maxOutputLength: Math.max(1, size) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') fail('BAD_MEMBER', `${m}: inflates past its declared size of ${size} bytes (refused: possible zip bomb)`);
    if (e.code === 'Z_BUF_ERROR') fail('TRUNCATED', `${m}: deflate data ends early (${e.message})`);
    fail('BAD_MEMBER', `${m}: deflate data is corrupt (${e.message})`);
  }
  if (out.length !== size) {
    fail('BAD_MEMBER', `${m}: inflates to ${out.length} bytes, expected its declared size of ${size} bytes`);
  }
  return out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
}

/** CRC-32 via node's zlib.crc32 (Node >= 20.15), else a table-driven fallback. */
const nodeCrc32: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (zlib as { crc32: (d: Uint8Array) => number }).crc32 : undefined;

let crcTable: Uint32Array | undefined;
export function crc32(data: Uint8Array): number {
  if (nodeCrc32) return nodeCrc32(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

function hexBytes(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Bit 11 set: UTF-8. Otherwise the zip spec says CP437 (Python's zipfile agrees). */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
function decodeName(raw: Uint8Array, flags: number): string {
  if (flags & 0x800) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      fail('BAD_MEMBER', `zip archive: a member name is not valid UTF-8 (${hexBytes(raw, 16)})`);
    }
  }
  let s = '';
  for (const b of raw) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}
