/**
 * Every file gru-check writes (reports, baselines) goes through here:
 *  - checkTarget, before the run: the path is not a symbolic link (refused, never followed nor
 *    replaced), not a directory, device or pipe, its folder exists, and it is not the same file
 *    (device and inode) as any input of the run;
 *  - writeAtomic, after it: the text goes to a new temporary file in the target's folder, is
 *    fsynced, then renamed over the target, so a reader (or a run killed mid-write, or a full
 *    disk) sees the old file whole or the new one whole, never a truncated one. rename() replaces
 *    the directory entry: a symlink planted after the check is replaced, its target untouched;
 *  - withLock: a lock file beside the target (created with O_EXCL) held while a baseline is read,
 *    merged and rewritten, so CI shards saving to one file lose nothing.
 */
import { closeSync, constants, fchmodSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GruCheckError } from '../errors.js';

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

function cannotWrite(path: string, e: unknown): GruCheckError {
  const code = errno(e);
  const why = code === 'ENOENT' ? `cannot write: the folder '${dirname(path)}' does not exist` : code === 'EACCES' || code === 'EPERM' ? 'cannot write: permission denied' : code === 'EISDIR' ? 'cannot write: it is a directory' : code === 'ENOSPC' ? 'cannot write: no space left on the device' : code === 'EFBIG' ? 'cannot write: the file is larger than the size limit' : `cannot write: ${code ?? (e as Error).message}`;
  return new GruCheckError('UNREADABLE', why, { file: path, ...(code === 'ENOENT' ? { hint: `mkdir -p ${dirname(path)} first` } : {}) });
}

/** Device and inode of a path (following links, as opening it would), or undefined when it does not exist. */
export function fileId(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * The identities of an input path: the file itself, and for a folder case each file in it (an output
 * could otherwise overwrite one of its .npy files).
 */
export function inputIds(path: string): string[] {
  const id = fileId(path);
  if (id === undefined) return [];
  const ids = [id];
  try {
    if (statSync(path).isDirectory()) for (const f of readdirSync(path)) {
      const sub = fileId(join(path, f));
      if (sub !== undefined) ids.push(sub);
    }
  } catch {
    // unreadable folder: the loader says so when the case runs
  }
  return ids;
}

/**
 * Refuses (exit 2, before anything runs) an output path gru-check will not write: a symbolic link
 * (dangling or not), anything but a regular file, a missing folder, or one of the run's inputs
 * (`inputs`: label -> path). `flag` names the option in messages.
 */
export function checkTarget(path: string, flag: string, inputs: ReadonlyArray<readonly [string, string]>): void {
  let st: Stats | undefined;
  try {
    st = lstatSync(path);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw cannotWrite(path, e);
  }
  if (st?.isSymbolicLink()) {
    throw new GruCheckError('USAGE', `${flag}: is a symbolic link: gru-check neither writes through a link nor replaces it`, { file: path, hint: 'name the real file, or remove the link' });
  }
  if (st && !st.isFile()) {
    throw new GruCheckError('USAGE', `${flag}: is ${st.isDirectory() ? 'a directory' : 'not a regular file (a device, pipe or socket)'}: only a regular file is written`, { file: path });
  }
  let dir: Stats;
  try {
    dir = statSync(dirname(path));
  } catch (e) {
    throw cannotWrite(path, e);
  }
  if (!dir.isDirectory()) throw new GruCheckError('UNREADABLE', `cannot write: '${dirname(path)}' is not a folder`, { file: path });
  if (!st) return;
  const id = fileId(path);
  for (const [label, input] of inputs) {
    if (inputIds(input).includes(id!)) {
      throw new GruCheckError('USAGE', `${flag} would overwrite ${label} ${input}, an input of this run (the same file)`, { file: path, hint: 'write the output to another file' });
    }
  }
}

/**
 * Writes `text` to `path` atomically: a temporary file in the same folder (so the rename stays on one
 * file system), written whole and fsynced, then renamed over the target; the folder is fsynced after
 * so the rename itself survives a crash. An existing target keeps its permission bits. On any
 * failure the temporary file is removed and the target is as it was.
 */
let tempCount = 0;

/**
 * A new temporary file beside the target, opened O_EXCL | O_NOFOLLOW: a name planted in the folder
 * (a link, a file) is never written through, only stepped over. Named by process, time and a
 * counter (no node:crypto: it would load at every CLI start for a name O_EXCL already guards).
 */
function openTemp(dir: string, base: string): { fd: number; tmp: string } {
  for (let tries = 0; ; tries++) {
    const tmp = join(dir, `.${base}.${process.pid}.${Date.now().toString(36)}.${tempCount++}.tmp`);
    try {
      return { fd: openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o666), tmp };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 100) throw cannotWrite(join(dir, base), e);
    }
  }
}

export function writeAtomic(path: string, text: string | Uint8Array): void {
  const dir = dirname(path);
  let keep: number | undefined;
  try {
    const st = lstatSync(path);
    if (st.isFile()) keep = st.mode & 0o777;
  } catch {
    // a new file: 0o666 less the umask, as any file the user creates
  }
  const { fd: opened, tmp } = openTemp(dir, basename(path));
  let fd: number | undefined = opened;
  try {
    if (keep !== undefined) fchmodSync(fd, keep);
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    rmSync(tmp, { force: true });
    if (e instanceof GruCheckError) throw e;
    throw cannotWrite(path, e);
  }
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on a folder; the file's own data is already on disk.
  }
}

/** How long withLock waits for another writer before giving up (exit 2). */
export const LOCK_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `f` holding `<path>.lock`, a file created with O_EXCL beside the target (holding the pid
 * of its holder, for whoever finds it). Waits for another holder up to `timeoutMs`, then refuses naming
 * the lock file: a lock left by a killed run is removed by hand, never broken silently, since two
 * machines sharing a folder cannot see each other's processes.
 */
export async function withLock<T>(path: string, f: () => T, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  const lock = `${path}.lock`;
  const start = Date.now();
  let wait = 5;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw cannotWrite(lock, e);
      if (Date.now() - start >= timeoutMs) {
        throw new GruCheckError('UNREADABLE', `cannot write: another gru-check has held the lock ${lock} for over ${Math.round(timeoutMs / 1000)} s`, { file: path, hint: `if no other gru-check is running, remove ${lock}` });
      }
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, 200);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      return f();
    } finally {
      try {
        unlinkSync(lock);
      } catch {
        // removed by hand meanwhile: nothing to release
      }
    }
  }
}
