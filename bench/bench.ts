/**
 * Benchmark of the fast engine (src/engine/fast.ts) against the plain reference (src/gru/stack.ts)
 * and, when /usr/bin/python3 has torch, PyTorch's CPU nn.GRU on one thread. Not a test: run with
 * `npm run bench`; prints a markdown table for the README, progress on stderr.
 *
 * GFLOP/s counts the two matrix products only: 2·B·T·3H·(I_k + H) per layer and direction.
 * Inputs are random float32 with PyTorch's default init (U(-1/√H, 1/√H)); times are medians of a
 * few runs after warm-ups (the fast engine's 1- and 2-thread runs alternate).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGruStack, type GruRunInput } from '../src/gru/stack.js';
import { closeFastEngine, fastKernelFor, gruFlops, runGruFast } from '../src/engine/fast.js';
import { lcg, randomRun } from '../test/random-run.js';
import { loadBench } from './load.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;
/** The reference runs about 1 GFLOP/s: beyond this many flops it is timed on fewer steps. */
const REF_MAX_FLOPS = 1e9;

interface Workload {
  name: string;
  B: number;
  T: number;
  I: number;
  H: number;
  L: number;
  bidirectional: boolean;
}

const WORKLOADS: Workload[] = [
  { name: 'S', B: 1, T: 1000, I: 64, H: 64, L: 1, bidirectional: false },
  { name: 'M', B: 16, T: 200, I: 256, H: 256, L: 1, bidirectional: false },
  { name: 'L', B: 32, T: 100, I: 512, H: 512, L: 1, bidirectional: false },
  { name: 'deep-bidir', B: 8, T: 100, I: 256, H: 256, L: 2, bidirectional: true },
];

const rand = lcg(20240531);

/** PyTorch's default init (U(-1/sqrt(H), 1/sqrt(H))), input U(-1, 1), h0 U(-0.5, 0.5), float32. */
function makeRun(w: Workload, T = w.T): GruRunInput {
  return randomRun({ T, B: w.B, I: w.I, H: w.H, L: w.L, bidir: w.bidirectional, inputScale: 1, h0Scale: 0.5 }, rand);
}

async function median(fn: () => unknown, runs = RUNS, warmups = 2): Promise<number> {
  // Warm-ups let the JIT (and each worker's own JIT) settle and start the worker pool.
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/**
 * Medians of two variants timed alternately: other load on a small shared machine then hits both
 * alike instead of whichever ran during it.
 */
async function medianPair(a: () => unknown, b: () => unknown, runs = RUNS + 2, warmups = 3): Promise<[number, number]> {
  for (let i = 0; i < warmups; i++) {
    await a();
    await b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    await b();
    tb.push(performance.now() - t0);
  }
  const mid = (t: number[]): number => t.sort((x, y) => x - y)[t.length >> 1]!;
  return [mid(ta), mid(tb)];
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const gflops = (flops: number, ms: number): number => flops / ms / 1e6;
const f1 = (x: number): string => x.toFixed(1);

function torchTimes(): Record<string, number> | string {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return 'no /usr/bin/python3';
  // Debian's torch reports BLAS_INFO=generic, so torch.set_num_threads(1) does not reach the
  // OpenBLAS it is linked to: without these, its sgemm quietly uses every core.
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync(py, [join(ROOT, 'bench', 'torch_gru.py'), JSON.stringify(WORKLOADS), String(RUNS)], { encoding: 'utf8', timeout: 600_000, env });
  if (r.status !== 0) return `python3 failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout) as Record<string, number>;
}

function cliTimes(): { file: string; ms: number; code: number | null }[] {
  const bin = join(ROOT, 'bin', 'gru-check.js');
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    log('bench: dist/ missing, run `npm run build` first; skipping CLI timings');
    return [];
  }
  const files = ['bidir_2layer.npz', 'classic_batch_first.npz', 'float64.npz', 'lengths.npz', 'no_bias.npz', 'unbatched.npz']
    .map((f) => join('samples', f))
    .filter((f) => existsSync(join(ROOT, f)));
  return files.map((file) => {
    const times: number[] = [];
    let code: number | null = null;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      code = spawnSync(process.execPath, [bin, 'run', file, '--format', 'json'], { cwd: ROOT, encoding: 'utf8' }).status;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { file, ms: times[1]!, code };
  });
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const notes: string[] = [];
  log('bench: timing PyTorch (if present)...');
  const torch = torchTimes();
  if (typeof torch === 'string') notes.push(`PyTorch not timed: ${torch}.`);
  else notes.push(`PyTorch ${torch.torch}, torch.set_num_threads(1) and OPENBLAS/OMP/MKL_NUM_THREADS=1, timed inside Python.`);

  rows.push('| workload | shape (B, T, I=H, layers, dirs) | reference ms (GFLOP/s) | fast 1 thread ms (GFLOP/s) | fast 2 threads ms (speed-up) | PyTorch 1 thread ms (GFLOP/s) | fast / PyTorch | peak RSS MB |');
  rows.push('|---|---|---|---|---|---|---|---|');
  for (const w of WORKLOADS) {
    const run = makeRun(w);
    const flops = gruFlops(run);
    const kernel = fastKernelFor(run, { precision: 'f32' });
    log(`bench: ${w.name} (${kernel} kernel)...`);
    // The reference: whole workload if it is small, else fewer steps (its cost is linear in T).
    const refT = flops <= REF_MAX_FLOPS ? w.T : Math.max(1, Math.floor((w.T * REF_MAX_FLOPS) / flops / 5));
    const refRun = refT === w.T ? run : makeRun(w, refT);
    const refFlops = gruFlops(refRun);
    const refMs = await median(() => runGruStack(refRun, { precision: 'f32' }), refT === w.T ? 3 : 1, 1);
    const refCell = refT === w.T ? `${f1(refMs)} (${f1(gflops(refFlops, refMs))})` : `~${f1((refMs * w.T) / refT)} (${f1(gflops(refFlops, refMs))}) at T=${refT}, scaled`;
    const [fast1, fast2] = await medianPair(
      () => runGruFast(run, { precision: 'f32', threads: 1 }),
      () => runGruFast(run, { precision: 'f32', threads: 2 }),
    );
    const t = typeof torch === 'string' ? undefined : torch[w.name];
    const torchCell = t === undefined ? 'n/a' : `${f1(t)} (${f1(gflops(flops, t))})`;
    const ratio = t === undefined ? 'n/a' : `${Math.round((100 * t) / fast1)}%`;
    rows.push(
      `| ${w.name} | ${w.B}, ${w.T}, ${w.I}, ${w.L}, ${w.bidirectional ? 2 : 1} | ${refCell} | ${f1(fast1)} (${f1(gflops(flops, fast1))}) | ${f1(fast2)} (${(fast1 / fast2).toFixed(2)}x) | ${torchCell} | ${ratio} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`,
    );
  }
  await closeFastEngine();
  notes.push('fast / PyTorch = PyTorch time / fast 1-thread time (100% = as fast as PyTorch).');
  notes.push('2 threads: the batch is split for one direction, directions go to separate workers when bidirectional.');
  notes.push('peak RSS MB: the bench process\'s peak so far (it only grows), after the workload\'s runs.');

  log('bench: CLI wall time...');
  const cli = cliTimes();
  const maxRssMb = process.resourceUsage().maxRSS / 1024;

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const out: string[] = [];
  out.push(`Machine: ${cpu}, ${availableParallelism()} threads available, Node ${process.version}.`, '');
  out.push(...rows, '');
  for (const n of notes) out.push(`- ${n}`);
  out.push(`- Peak RSS of the bench process: ${maxRssMb.toFixed(0)} MB.`, '');
  if (cli.length) {
    out.push('| `gru-check run <sample> --format json` | wall ms (median of 3) | exit |', '|---|---|---|');
    for (const c of cli) out.push(`| ${c.file} | ${c.ms.toFixed(0)}${c.ms < 300 ? '' : ' (over 300 ms target)'} | ${c.code} |`);
  }
  log('bench: loading a 1 GiB .npz (stored and deflated), each in a fresh process...');
  out.push('', ...loadBench(1024));
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
