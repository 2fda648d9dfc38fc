// Shared test helpers: paths, running the built CLI, loading samples.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLES = join(ROOT, 'samples');
export const CASES = join(ROOT, 'test', 'fixtures', 'cases');
export const BIN = join(ROOT, 'bin', 'gru-check.cjs');

/**
 * Runs an ES module script in a fresh node process against the built engine (dist/, which npm test
 * builds first, as for the CLI tests): `ENGINE` in the code is replaced by the path of
 * dist/engine/fast.js. Plain node starts in ~0.15 s here; under the TypeScript loader, with worker
 * threads that load it too, ~0.55 s. For tests about the process itself (does it exit?). The script
 * is a file, not `-e`: worker threads inherit the process's flags, and `--input-type` stops them.
 * `timeout` only turns a process that never exits into a failure (status null) instead of a hang.
 */
export function nodeScript(code: string, timeout = 20_000): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const engine = join(ROOT, 'dist', 'engine', 'fast.js');
  if (!existsSync(engine)) throw new Error(`${engine} is missing: run npm run build (npm test does)`);
  const file = join(tmp('gru-check-script-'), 'script.mjs');
  writeFileSync(file, code.replaceAll('ENGINE', JSON.stringify(engine)));
  const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export const sample = (name: string): string => join(SAMPLES, name);
export const fixture = (name: string): string => join(CASES, name);

export function sampleFiles(): string[] {
  return readdirSync(SAMPLES).filter((f) => f.endsWith('.npz')).sort().map((f) => join(SAMPLES, f));
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built bin like a user would, colour off, from the repo root: a fresh node process each
 * time. For what only the process shows (the launcher, the bundle, signals, pipes, permissions);
 * everything else uses cli().
 */
/**
 * The terminal width runs get unless a test sets COLUMNS: wide enough that each table and line
 * stays whole, so tests match them as single lines. test/cli/golden.ts pins the fitted layouts
 * (80, 100, 200 columns, and the default 100 when COLUMNS is unset).
 */
export const WIDE = '1000';

export function bin(args: string[], env: Record<string, string> = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', COLUMNS: WIDE, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI's main() in this process, with the same arguments, environment (colour off unless env
 * says otherwise) and folder as bin(), its output captured. About 0.2 s of CPU less than bin() a
 * call (a node process and the bundle's start): with ~130 such calls, most of the suite's time.
 * main() throwing is a test failure here (the launcher would print an internal error and exit 2).
 * The fast engine's worker threads are closed after each call, so nothing keeps the test alive.
 */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  process.chdir(ROOT);
  try {
    const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', COLUMNS: WIDE, ...env } });
    return { code, stdout, stderr };
  } finally {
    await closeFastEngine();
  }
}

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { zipSync } from 'fflate';
import { dump } from 'npyjs';
import { readNpz } from '../src/io/npz.js';
import { main } from '../src/cli/main.js';
import { closeFastEngine } from '../src/engine/fast.js';

const created: string[] = [];

/** Removes every directory tmp() made in this process; run at exit (node --test runs each file in its own process). */
function removeTmpDirs(): void {
  for (const d of created.splice(0)) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      process.stderr.write(`test helpers: could not remove ${d}: ${(e as Error).message}\n`);
    }
  }
}

/**
 * A fresh temporary directory for files a test writes, removed when the process exits, so a test
 * run leaves nothing in the temp folder whether or not its tests pass. `prefix` names what it holds.
 */
export function tmp(prefix = 'gru-check-test-'): string {
  if (created.length === 0) process.once('exit', removeTmpDirs);
  const d = mkdtempSync(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

/**
 * A copy of the built CLI that any user can run, for tests that drop privileges: the repository
 * may sit in a private folder (`mktemp -d` is mode 700) that another uid cannot even enter. Copies
 * what a run needs — bin/gru-check.cjs and load-cli.cjs, package.json (for --version), the bundle and its code cache, the
 * wasm kernels, and the worker with every module it imports — into a fresh tmp() folder, all
 * world-readable. Returns the copy's bin path. (onnx-proto, the bundle's one external import, is
 * loaded only for .onnx files and is not copied.)
 */
export function readableCli(): { dir: string; bin: string } {
  const dir = tmp('gru-check-cli-');
  chmodSync(dir, 0o755);
  const copy = (rel: string): void => {
    const to = join(dir, rel);
    mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
    copyFileSync(join(ROOT, rel), to);
    chmodSync(to, 0o644);
  };
  for (const rel of ['bin/gru-check.cjs', 'bin/load-cli.cjs', 'package.json', 'dist/engine/cli-bundle.cjs', 'dist/engine/cli-bundle.cache', 'dist/wasm/gemm.wasm', 'dist/wasm/gemm-fma.wasm', 'dist/wasm/compare.wasm']) copy(rel);
  // The worker is not bundled: follow its relative imports.
  const todo = ['dist/engine/worker.js'];
  const seen = new Set<string>();
  while (todo.length) {
    const rel = todo.pop()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    copy(rel);
    for (const m of readFileSync(join(ROOT, rel), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      todo.push(relative(ROOT, join(ROOT, dirname(rel), m[1]!)));
    }
  }
  return { dir, bin: join(dir, 'bin', 'gru-check.cjs') };
}

/** The raw .npy members of an .npz, to edit and re-zip. */
export function members(path: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, bytes] of readNpz(new Uint8Array(readFileSync(path)))) out[name] = bytes.slice();
  return out;
}

/** Writes members (name without .npy -> .npy bytes) as a stored .npz. */
export function writeNpz(path: string, m: Record<string, Uint8Array>): string {
  const files: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(m)) files[`${name}.npy`] = bytes;
  writeFileSync(path, zipSync(files, { level: 0 }));
  return path;
}

/** .npy bytes via npyjs's writer. */
export function npy(data: Float32Array | Float64Array | Int32Array | BigInt64Array, shape: number[]): Uint8Array {
  return new Uint8Array(dump(data, shape));
}

/** A 0-d numpy unicode array (`np.array('...')`), as numpy writes it: '<U n', UTF-32LE. */
export function npyString(s: string): Uint8Array {
  const chars = [...s];
  let header = `{'descr': '<U${chars.length}', 'fortran_order': False, 'shape': (), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad === 64 ? 0 : pad) + '\n';
  const out = new Uint8Array(10 + header.length + 4 * chars.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  const dv = new DataView(out.buffer);
  chars.forEach((c, i) => dv.setUint32(10 + header.length + 4 * i, c.codePointAt(0)!, true));
  return out;
}

/**
 * A check's error metric as a number. The metrics are null only for a check that could not compare
 * element by element (a shape mismatch); a test that expects numbers fails here on null rather
 * than let `null <= 1e-6` (true in JavaScript) pass.
 */
export function metric(v: number | null, what = 'metric'): number {
  if (v === null) throw new Error(`${what} is null: the check did not compare element by element`);
  return v;
}

import { checkCase, type CheckOptions } from '../src/check.js';
import type { CaseResult } from '../src/result.js';
import type { ArrayBundle } from '../src/io/types.js';
import type { GruCase } from '../src/model/types.js';

/** checkCase on the plain reference loops (what the first version's synchronous checkGruCase ran). */
export function checkRef(c: GruCase | ArrayBundle, options: CheckOptions = {}): Promise<CaseResult> {
  return checkCase(c, { engine: 'reference', ...options });
}

/** Every TypeScript source below `dir` (declaration files left out), in a stable order. */
export function sourceFiles(dir: string, acc: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, acc);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) acc.push(p);
  }
  return acc;
}
