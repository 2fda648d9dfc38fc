/**
 * The one loader of gru-check's WebAssembly kernels, which wasm/build.mjs compiles from the .wat
 * sources: the GRU's matrix-product kernel (wasm/gemm.wat, used by engine/) and the comparison's
 * element passes (wasm/compare.wat, used by compare/). Each comes in two builds and the better one
 * the runtime validates is taken:
 *   gemm-fma.wasm  relaxed SIMD's fused multiply-add (Node 22+, or Node 20 with
 *                  --experimental-wasm-relaxed-simd, which the CLI's launcher sets)
 *   gemm.wasm      baseline SIMD; without either, the engine uses its JS kernel
 *   compare.wasm   SIMD; compare-plain.wasm loads wherever WebAssembly does
 * This module never changes V8's flags: a library must not change how the rest of its host process
 * compiles (cli/early.ts does, around its own first compile).
 *
 * Loading never touches the network. The binaries are read relative to this module's URL: from
 * dist/wasm/ (next to the compiled loader, and `../wasm/` from the CLI bundle in dist/engine/), or
 * from wasm/ in the source tree (tests under tsx).
 */
import { readFileSync } from 'node:fs';

export type WasmBuild = 'fma' | 'simd';
/** The compare kernel's builds: with SIMD (scan takes two common elements at a time), and without. */
export type CompareBuild = 'simd' | 'plain';

function read(name: string): Uint8Array<ArrayBuffer> | undefined {
  for (const rel of [`../wasm/${name}`, `../../wasm/${name}`]) {
    try {
      return new Uint8Array(readFileSync(new URL(rel, import.meta.url)));
    } catch {
      // try the next place
    }
  }
  return undefined;
}

let gemmCached: { module: WebAssembly.Module; build: WasmBuild } | null | undefined;

function loadGemm(): { module: WebAssembly.Module; build: WasmBuild } | null {
  for (const [name, build] of [['gemm-fma.wasm', 'fma'], ['gemm.wasm', 'simd']] as const) {
    const bytes = read(name);
    // validate() is false, not a throw, on an engine without (relaxed) SIMD: try the next build.
    if (!bytes || !WebAssembly.validate(bytes)) continue;
    try {
      return { module: new WebAssembly.Module(bytes), build };
    } catch {
      // fall through to the next build
    }
  }
  return null;
}

/** The compiled GRU kernel module, or undefined when it is not built or SIMD is unavailable. */
export function gemmModule(): WebAssembly.Module | undefined {
  if (gemmCached === undefined) gemmCached = loadGemm();
  return gemmCached?.module;
}

/** Which build gemmModule() loaded, for reports and the bench. */
export function gemmBuild(): WasmBuild | undefined {
  if (gemmCached === undefined) gemmCached = loadGemm();
  return gemmCached?.build;
}

const compareCached = new Map<CompareBuild, WebAssembly.Module | null>();

/**
 * The compiled compare kernel: the SIMD build where the runtime validates it, else the plain one
 * (the kernel test holds the two to the same results). compare/ has no JavaScript fallback for it,
 * so a missing build is an error that says how to make it. `build` asks for one of them (tests);
 * null when it cannot load.
 */
export function compareModule(): WebAssembly.Module;
export function compareModule(build: CompareBuild): WebAssembly.Module | null;
export function compareModule(build?: CompareBuild): WebAssembly.Module | null {
  for (const b of build ? [build] : (['simd', 'plain'] as const)) {
    let mod = compareCached.get(b);
    if (mod === undefined) {
      const bytes = read(b === 'simd' ? 'compare.wasm' : 'compare-plain.wasm');
      mod = bytes && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
      compareCached.set(b, mod);
    }
    if (mod) return mod;
  }
  if (build) return null;
  throw new Error("the compiled compare kernel (compare.wasm) is missing: run 'npm run build' in the gru-check folder");
}
