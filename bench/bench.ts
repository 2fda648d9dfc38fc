/**
 * `npm run bench`: what a CI user pays, beside what the engine can do warm. Not a test. Prints
 * markdown tables for the README on stdout, progress on stderr.
 *
 *   1. Cold CLI: a fresh `gru-check run CASE --format json` process per run (what CI does), on
 *      real PyTorch cases of the four workloads, `--threads 1` and the default alternating; medians
 *      and ranges of the JSON timings (referenceMs = the GRU, compareMs, loadMs) and of the wall
 *      time of the whole process.
 *   2. Warm: the same GRUs computed again and again in one process (workers warm), 1 and 2 threads.
 *   3. PyTorch 1.13 on the same shapes, timed inside Python: one thread (torch.set_num_threads(1),
 *      OPENBLAS_NUM_THREADS=1), measured between the cold runs of 1. so that the ratio is of times
 *      taken together, and the best of every torch x OpenBLAS thread setting tried (on a 2-core
 *      machine they oversubscribe when both are 2).
 *   4. diagnose against run, cold: on deep-bidir with a port that ignored h0 (named) and one with a
 *      mistake diagnose has no name for (it searches everything), and on every port of
 *      test/fixtures/diagnose.
 *   5. The whole process on each small sample, alternating with `node -e 0`.
 *   6. Loading a 1 GiB .npz, stored and deflated (bench/load.ts). Skipped with --quick.
 *   7. The HTML report: its size and the time headless Chromium takes to open it, for the 6 small
 *      samples of a suite and for 200 cases (bench/report.ts).
 *
 * GFLOP/s counts the two matrix products: 2·B·T·3H·(I_k + H) per layer and direction.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { closeFastEngine, fastRunner, runGruFast, warmFastEngine } from '../src/engine/fast.js';
import { runStack, type GruRunInput } from '../src/gru/stack.js';
import { lcg, randomRun } from '../test/random-run.js';
import { loadBench } from './load.js';
import { reportBench } from './report.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'gru-check.cjs');
const PY = '/usr/bin/python3';
const QUICK = process.argv.includes('--quick');
/** Cold runs per setting; settings alternate so a load on a shared host hits both alike. */
const COLD_RUNS = QUICK ? 5 : 9;
const WARM_RUNS = 7;

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

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const f0 = (x: number): string => x.toFixed(0);
const f1 = (x: number): string => x.toFixed(1);
const range = (xs: number[]): string => `${f0(Math.min(...xs))}–${f0(Math.max(...xs))}`;
const flopsOf = (w: Workload): number => {
  const D = w.bidirectional ? 2 : 1;
  let f = 0;
  for (let k = 0; k < w.L; k++) f += D * 2 * w.B * w.T * 3 * w.H * ((k === 0 ? w.I : D * w.H) + w.H);
  return f;
};
const gflops = (w: Workload, ms: number): string => f1(flopsOf(w) / ms / 1e6);

// ---------------------------------------------------------------------------------------------
// PyTorch

/**
 * PyTorch's warm median per workload (and `blas`: the kernel set OpenBLAS used). `core` sets
 * OPENBLAS_CORETYPE: 'Haswell' makes OpenBLAS use its AVX2 kernels where it would pick AVX-512 ones.
 */
function torchTimes(torchThreads: number, blasThreads: number, workloads: Workload[] = WORKLOADS, core?: string): Record<string, number> | string {
  if (!existsSync(PY)) return 'no /usr/bin/python3';
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(blasThreads), OMP_NUM_THREADS: String(torchThreads), MKL_NUM_THREADS: String(blasThreads), ...(core ? { OPENBLAS_CORETYPE: core } : {}) };
  const r = spawnSync(PY, [join(ROOT, 'bench', 'torch_gru.py'), JSON.stringify(workloads), String(WARM_RUNS), String(torchThreads)], { encoding: 'utf8', timeout: 900_000, env });
  if (r.status !== 0) return `python3 failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout) as Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// Cold CLI

interface ColdRun {
  referenceMs: number;
  compareMs: number;
  loadMs: number;
  threads: number;
  wall: number;
  pass: boolean;
}

function coldRun(args: string[]): ColdRun {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args, '--format', 'json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const wall = performance.now() - t0;
  const doc = JSON.parse(r.stdout) as { pass: boolean; cases: { timings: { referenceMs: number; compareMs: number; loadMs: number; threads: number } }[] };
  const t = doc.cases[0]!.timings;
  return { referenceMs: t.referenceMs, compareMs: t.compareMs, loadMs: t.loadMs, threads: t.threads, wall, pass: doc.pass };
}

function wallOf(args: string[]): number {
  const t0 = performance.now();
  spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return performance.now() - t0;
}

function makeCases(dir: string): string {
  if (!existsSync(PY)) return 'no /usr/bin/python3 with torch: cold CLI runs need real cases';
  const r = spawnSync(PY, [join(ROOT, 'bench', 'make_cases.py'), dir, JSON.stringify(WORKLOADS)], { encoding: 'utf8', timeout: 600_000 });
  return r.status === 0 ? '' : `bench/make_cases.py failed: ${(r.stderr || '').trim().split('\n').pop()}`;
}

// ---------------------------------------------------------------------------------------------

async function warmTimes(w: Workload): Promise<{ one: number; two: number; twoUsed: number }> {
  const run: GruRunInput = randomRun({ T: w.T, B: w.B, I: w.I, H: w.H, L: w.L, bidir: w.bidirectional, inputScale: 1, h0Scale: 0.5 }, lcg(1));
  await warmFastEngine(2);
  const one: number[] = [];
  const two: number[] = [];
  let twoUsed = 1;
  for (let i = 0; i < WARM_RUNS + 2; i++) {
    let t0 = performance.now();
    await runGruFast(run, { precision: 'f32', threads: 1 });
    if (i >= 2) one.push(performance.now() - t0);
    const runner = fastRunner(run, { precision: 'f32', threads: 2 });
    t0 = performance.now();
    await runStack(run, { precision: 'f32' }, runner);
    if (i >= 2) two.push(performance.now() - t0);
    twoUsed = runner.threads;
  }
  return { one: median(one), two: median(two), twoUsed };
}

async function main(): Promise<void> {
  // The kernel the CLI uses (fused multiply-add), for the warm runs too.
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  const out: string[] = [];
  out.push(`Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} threads available, Node ${process.version}.`, '');

  log('bench: PyTorch, every thread setting...');
  const settings: [number, number][] = [[1, 1], [1, 2], [2, 1], [2, 2]];
  const torch = new Map(settings.map(([t, b]) => [`${t}/${b}`, torchTimes(t, b)] as const));
  const torch1 = torch.get('1/1')!;

  log('bench: making the cases with PyTorch...');
  const dir = mkdtempSync(join(tmpdir(), 'gru-check-bench-'));
  const casesProblem = makeCases(dir);
  try {
    out.push('### Cold CLI: a fresh `gru-check run CASE --format json` per run', '');
    if (casesProblem) {
      out.push(`Not measured: ${casesProblem}.`, '');
    } else {
      out.push(
        '| workload (B, T, I=H, layers, dirs) | GRU ms `--threads 1` (GFLOP/s) | GRU ms default [threads] | default speed-up | compare ms | load ms | process wall ms, 1 / default | PyTorch 1 thread ms | `--threads 1` / PyTorch 1 thread | PyTorch best ms [torch/BLAS threads] |',
        '|---|---|---|---|---|---|---|---|---|---|',
      );
      const kernels: string[] = [];
      for (const w of WORKLOADS) {
        log(`bench: cold CLI ${w.name}...`);
        const file = join(dir, `${w.name}.npz`);
        const one: ColdRun[] = [];
        const def: ColdRun[] = [];
        // PyTorch on one thread is measured between our runs too (every third pair): on a shared
        // host the load moves over minutes, and a ratio of times taken minutes apart would measure
        // the host.
        const torchHere: number[] = [];
        const avx2Here: number[] = [];
        for (let i = 0; i < COLD_RUNS; i++) {
          if (i % 3 === 0) {
            const t = torchTimes(1, 1, [w]);
            if (typeof t !== 'string') torchHere.push(t[w.name]!);
            const t2 = torchTimes(1, 1, [w], 'Haswell');
            if (typeof t2 !== 'string') avx2Here.push(t2[w.name]!);
          }
          one.push(coldRun(['run', file, '--threads', '1']));
          def.push(coldRun(['run', file]));
        }
        if (![...one, ...def].every((r) => r.pass)) throw new Error(`${w.name}: a cold run did not pass`);
        const m1 = median(one.map((r) => r.referenceMs));
        const md = median(def.map((r) => r.referenceMs));
        const threads = median(def.map((r) => r.threads));
        const t1 = torchHere.length > 0 ? median(torchHere) : undefined;
        if (t1 !== undefined && avx2Here.length > 0) {
          const a = median(avx2Here);
          kernels.push(`| ${w.name} | ${f1(t1)} [${range(torchHere)}] (${gflops(w, t1)}) | ${f1(a)} [${range(avx2Here)}] (${gflops(w, a)}) | ${f1(m1)} | ${f0((100 * t1) / m1)}% | ${f0((100 * a) / m1)}% |`);
        }
        let best: [number, string] | undefined;
        for (const [k, v] of torch) if (typeof v !== 'string' && (best === undefined || v[w.name]! < best[0])) best = [v[w.name]!, k];
        out.push(
          `| ${w.name} (${w.B}, ${w.T}, ${w.I}, ${w.L}, ${w.bidirectional ? 2 : 1}) | ${f1(m1)} [${range(one.map((r) => r.referenceMs))}] (${gflops(w, m1)}) | ${f1(md)} [${range(def.map((r) => r.referenceMs))}] [${threads}] | ${(m1 / md).toFixed(2)}x | ${f1(median(def.map((r) => r.compareMs)))} (${f0((100 * median(def.map((r) => r.compareMs))) / md)}% of GRU) | ${f1(median(def.map((r) => r.loadMs)))} | ${f0(median(one.map((r) => r.wall)))} / ${f0(median(def.map((r) => r.wall)))} | ${t1 === undefined ? 'n/a' : f1(t1)} | ${t1 === undefined ? 'n/a' : `${f0((100 * t1) / m1)}%`} | ${best ? `${f1(best[0])} [${best[1]}]` : 'n/a'} |`,
        );
      }
      out.push(
        '',
        `- Medians of ${COLD_RUNS} runs per setting, \`--threads 1\` and the default alternating; [min–max] in brackets. GRU ms is \`timings.referenceMs\`: the GRU alone, in the JSON.`,
        '- `--threads 1` / PyTorch 1 thread: PyTorch\'s time over ours (100% = as fast as PyTorch on one thread).',
        `- PyTorch times are warm medians inside Python. PyTorch 1 thread (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1): the median of ${Math.ceil(COLD_RUNS / 3)} such measurements made between the runs above; "best" is the fastest of torch.set_num_threads x OPENBLAS_NUM_THREADS in {1, 2}, measured before them.`,
        '',
      );
      if (kernels.length > 0) {
        out.push(
          `### PyTorch's kernels on this machine: OpenBLAS ${typeof torch1 === 'string' ? 'unknown' : String(torch1.blas)} against its AVX2 ones`,
          '',
          '| workload | PyTorch 1 thread ms, OpenBLAS\'s own choice (GFLOP/s) | PyTorch 1 thread ms, `OPENBLAS_CORETYPE=Haswell` (AVX2) (GFLOP/s) | ours `--threads 1` ms | ours / PyTorch | ours / PyTorch on AVX2 |',
          '|---|---|---|---|---|---|',
          ...kernels,
          '',
          `- Both PyTorch columns measured in turn between the cold runs above (${Math.ceil(COLD_RUNS / 3)} each, medians [range]); "ours" is the \`--threads 1\` median above. wasm SIMD is 4 floats wide; OpenBLAS's AVX2 kernels are 8 wide and its AVX-512 ones 16.`,
          '',
        );
      }

      log('bench: diagnose vs run, cold...');
      const db = join(dir, 'deep-bidir.npz');
      const rows: string[] = [];
      for (const [what, port] of [['ignored h0 (named)', join(dir, 'deep-bidir-h0-ignored.npz')], ['layer 1 forward with reverse weights (no name: full search)', join(dir, 'deep-bidir-unnamed.npz')]] as const) {
        const runs: number[] = [];
        const diags: number[] = [];
        for (let i = 0; i < Math.max(3, COLD_RUNS >> 1); i++) {
          runs.push(wallOf(['run', db, '--candidate', port]));
          diags.push(wallOf(['diagnose', db, '--candidate', port]));
        }
        rows.push(`| deep-bidir, port ${what} | ${f0(median(runs))} [${range(runs)}] | ${f0(median(diags))} [${range(diags)}] | ${(median(diags) / median(runs)).toFixed(2)}x |`);
      }
      const fx = join(ROOT, 'test', 'fixtures', 'diagnose');
      const manifest = JSON.parse(readFileSync(join(fx, 'manifest.json'), 'utf8')) as { candidates: { file: string; base: string }[] };
      const ratios: number[] = [];
      const diagWalls: number[] = [];
      for (const e of manifest.candidates) {
        const r: number[] = [];
        const d: number[] = [];
        for (let i = 0; i < 3; i++) {
          r.push(wallOf(['run', join(fx, e.base), '--candidate', join(fx, e.file)]));
          d.push(wallOf(['diagnose', join(fx, e.base), '--candidate', join(fx, e.file)]));
        }
        ratios.push(median(d) / median(r));
        diagWalls.push(median(d));
      }
      rows.push(`| each of the ${manifest.candidates.length} ports of test/fixtures/diagnose (median of 3 each) | | ${range(diagWalls)} | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x (median ${median(ratios).toFixed(2)}x) |`);
      out.push('### diagnose against run, cold', '', '| port | `run --candidate` wall ms | `diagnose --candidate` wall ms | ratio |', '|---|---|---|---|', ...rows, '');
    }
    // Before the folder goes: the 200-case report uses its deep-bidir case and ports.
    log('bench: the HTML report in headless Chromium...');
    out.push('### The HTML report: size, and time to open in headless Chromium', '', ...(await reportBench(casesProblem ? undefined : dir)), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  out.push('### Warm: the same GRU again and again in one process (workers started)', '', '| workload | 1 thread ms (GFLOP/s) | 2 threads ms (speed-up) | PyTorch 1 thread ms (GFLOP/s) |', '|---|---|---|---|');
  for (const w of WORKLOADS) {
    log(`bench: warm ${w.name}...`);
    const { one, two, twoUsed } = await warmTimes(w);
    const t1 = typeof torch1 === 'string' ? undefined : torch1[w.name];
    out.push(`| ${w.name} | ${f1(one)} (${gflops(w, one)}) | ${f1(two)} (${(one / two).toFixed(2)}x${twoUsed < 2 ? ', one piece' : ''}) | ${t1 === undefined ? 'n/a' : `${f1(t1)} (${gflops(w, t1)})`} |`);
  }
  await closeFastEngine();
  out.push('');

  log('bench: small samples, whole process...');
  // Each sample's runs alternate with `node -e 0`, so the row says how busy the host was meanwhile.
  out.push('### The whole process on each small sample', '', '| `gru-check run <sample> --format json` | wall ms, median of 9 [range] | `node -e 0` between them, median [range] |', '|---|---|---|');
  const nodeStart = (): number => {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    return performance.now() - t0;
  };
  for (const f of ['bidir_2layer.npz', 'classic_batch_first.npz', 'float64.npz', 'lengths.npz', 'no_bias.npz', 'unbatched.npz']) {
    const ts: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < 9; i++) {
      ts.push(wallOf(['run', join('samples', f), '--format', 'json']));
      node.push(nodeStart());
    }
    out.push(`| samples/${f} | ${f0(median(ts))} [${range(ts)}] | ${f0(median(node))} [${range(node)}] |`);
  }
  out.push('');

  if (!QUICK) {
    log('bench: loading a 1 GiB .npz (stored and deflated), each in a fresh process...');
    out.push(...loadBench(1024));
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
