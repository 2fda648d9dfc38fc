/**
 * What the launcher does before the CLI parses anything, for a run on the fast engine:
 *   1. compile the wasm kernels (the GRU's, and compare's for a big case on any engine) with the
 *      V8 flags they want, then put the flags back: relaxed SIMD (the GRU's fused multiply-add
 *      build; Node 20 has it only behind a flag) and eager, optimizing compilation (no lazy
 *      compile, no dynamic tier-up: the kernel starts at full speed instead of on baseline code).
 *      The compiled module keeps what it was compiled with. Putting the flags back matters: while
 *      any of them differs from V8's defaults, every worker thread starts about twice as slowly,
 *      as V8 cannot use its startup code cache for a different flag set. V8 flags are
 *      process-wide, so only the CLI sets them, never the library.
 *   2. start the engine's workers for a run that will want them, so their start overlaps loading
 *      the case instead of coming after.
 * argv is only looked at here: commander parses it properly later (and refuses what is wrong).
 * The prewarm decision mirrors main.ts's maybePrewarm: --threads above 1, or any file named on the
 * command line of at least PREWARM_BYTES.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { prewarm } from '../engine/pool.js';
import { compareModule, gemmModule } from '../wasm/load.js';

/** A case of at least this many bytes is big enough that the default may use a second thread: its workers start before it loads. */
export const PREWARM_BYTES = 1 << 20;
/** A case of at least this many bytes gets the compare kernel compiled optimized before the run (see startEngine). */
export const COMPARE_BYTES = 1 << 18;

/** A module holding one f32x4.relaxed_madd: valid only where relaxed SIMD is on. */
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);

/** Compiles the kernels asked for (wasm.ts caches them) under the flags above, then restores V8's defaults. */
export function compileKernels(gemm: boolean, compare: boolean): void {
  if (!gemm && !compare) return;
  const relaxedOff = !WebAssembly.validate(RELAXED_PROBE);
  if (relaxedOff) setFlagsFromString('--experimental-wasm-relaxed-simd');
  setFlagsFromString('--no-wasm-lazy-compilation');
  setFlagsFromString('--no-wasm-dynamic-tiering');
  try {
    if (gemm) gemmModule();
    if (compare) compareModule();
  } finally {
    setFlagsFromString('--wasm-dynamic-tiering');
    setFlagsFromString('--wasm-lazy-compilation');
    if (relaxedOff) setFlagsFromString('--no-experimental-wasm-relaxed-simd');
  }
}

export function startEngine(argv: readonly string[]): void {
  if (argv[0] !== 'run' && argv[0] !== 'diagnose') return;
  const at = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  const largest = Math.max(0, ...argv.slice(1).map((a) => {
    if (a.startsWith('-')) return 0;
    try {
      const st = statSync(a);
      return st.isDirectory() ? Infinity : st.size;
    } catch {
      return 0;
    }
  }));
  const big = largest >= PREWARM_BYTES;
  const fast = at('--engine') !== 'reference';
  // The compare kernel only for a case of COMPARE_BYTES or more: compiling all of it optimized
  // costs more than a small sample's whole comparison on baseline code, so it never wins that
  // back; on a case the size of the bench's S (64k elements, 0.55 MiB) it does.
  // A suite names its cases inside: it gets the compiled kernel whatever their sizes.
  compileKernels(fast, largest >= COMPARE_BYTES || at('--suite') !== undefined);
  if (!fast) return;
  const threadsFlag = at('--threads');
  const threads = threadsFlag === undefined ? availableParallelism() : Number(threadsFlag);
  if (!Number.isInteger(threads) || threads < 2) return;
  if (threadsFlag !== undefined || big) prewarm(threads - 1, gemmModule());
}
