/**
 * Loading benchmark (part of `npm run bench`): peak RSS and time of loadArrays on a large .npz,
 * stored and deflated, each measured in a fresh child process so nothing else counts.
 *   node --import tsx bench/load.ts [MiB]          parent: writes the files, spawns, prints a table
 *   node --import tsx bench/load.ts --child FILE   child: loads FILE, prints JSON {ms, maxRssMiB}
 * The files hold four float32 arrays of equal size, written by our own stored/deflate zip writer
 * (fflate) in the same layout numpy's np.savez uses (one .npy per member).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { loadArrays } from '../src/io/load.js';

function npyHeader(shape: number[]): Uint8Array {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  const pad = 64 - ((10 + h.length + 1) % 64);
  h += ' '.repeat(pad === 64 ? 0 : pad) + '\n';
  const out = new Uint8Array(10 + h.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  out.set(new TextEncoder().encode(h), 10);
  return out;
}

function member(n: number, seed: number): Uint8Array {
  const head = npyHeader([n]);
  const out = new Uint8Array(head.length + 4 * n);
  out.set(head);
  const f = new Float32Array(out.buffer, head.length, n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // A few distinct values so deflate has something to do but the data is not trivially all-equal.
    f[i] = ((s >>> 24) - 128) / 64;
  }
  return out;
}

async function child(file: string): Promise<void> {
  const t0 = performance.now();
  const bundle = await loadArrays(file);
  const ms = performance.now() - t0;
  let elements = 0;
  for (const a of bundle.arrays.values()) elements += a.shape.reduce((x, y) => x * y, 1);
  process.stdout.write(`${JSON.stringify({ ms, maxRssMiB: peakRssMiB(), elements })}\n`);
}

/**
 * Peak RSS of this process. Linux's getrusage maxrss (process.resourceUsage) survives exec, so a
 * child forked from a big parent reports the parent's peak; VmHWM in /proc is this image's own.
 */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS / 1024;
}

export function loadBench(mib: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'gru-check-load-'));
  const rows = ['| .npz (4 float32 arrays) | file MiB | load ms | peak RSS MiB | RSS / file |', '|---|---|---|---|---|'];
  try {
    const n = Math.floor((mib * 2 ** 20) / 4 / 4);
    for (const [label, level] of [['stored (np.savez)', 0], ['deflated (np.savez_compressed)', 6]] as const) {
      const file = join(dir, `${level}.npz`);
      const files: Record<string, Uint8Array> = {};
      for (let k = 0; k < 4; k++) files[`a${k}.npy`] = member(n, k + 1);
      writeFileSync(file, zipSync(files, { level }));
      const size = statSync(file).size / 2 ** 20;
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', file], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`load child failed: ${r.stderr}`);
      const { ms, maxRssMiB } = JSON.parse(r.stdout) as { ms: number; maxRssMiB: number };
      const raw = (4 * (n * 4 + 128)) / 2 ** 20;
      rows.push(`| ${label}, ${raw.toFixed(0)} MiB of arrays | ${size.toFixed(0)} | ${ms.toFixed(0)} | ${maxRssMiB.toFixed(0)} | ${(maxRssMiB / size).toFixed(2)}x |`);
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${loadBench(Number(process.argv[2] ?? 1024)).join('\n')}\n`);
