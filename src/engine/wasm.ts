/**
 * Loads the f32x4 SIMD matrix-product kernel (wasm/gemm.wat, compiled at build time by
 * wasm/build.mjs) and wraps one instance of it: a bump allocator over its linear memory and the
 * weight packing the kernel expects (see the top of gemm.wat for the panel layout).
 *
 * Two builds of the same source: gemm-fma.wasm uses relaxed SIMD's fused multiply-add and is taken
 * when the runtime validates it (Node 22+, or Node 20 with --experimental-wasm-relaxed-simd, which
 * the CLI's launcher sets); gemm.wasm is baseline SIMD. This module never changes V8's flags: a
 * library must not change how the rest of its host process compiles.
 *
 * Loading never touches the network: the .wasm is read from disk next to the compiled engine
 * (dist/engine/) or from wasm/ in the source tree (tests under tsx). When neither exists, or the
 * runtime lacks wasm SIMD, `wasmModule()` returns undefined and the engine uses its JS kernel.
 */
import { readFileSync } from 'node:fs';
import type { FloatArray } from '../model/types.js';

export interface GemmExports {
  memory: WebAssembly.Memory;
  /** The first byte past the kernel's constant table (see gemm.wat): allocation starts there. */
  heap_base: WebAssembly.Global;
  gemm(a: number, lda: number, ap: number, gs: number, m: number, k: number, p: number, ps: number, np: number, c: number, ldc: number, accum: number): void;
  pack4(a: number, lda: number, groups: number, k: number, dst: number): void;
  pack_panels(w: number, row0: number, n: number, k: number, dst: number): void;
  sigmoid_pass(gi: number, gh: number, bi: number, bh: number, dst: number, n: number): void;
  update_pass(gi: number, gh: number, bi: number, bh: number, r: number, z: number, h: number, n: number, lbr: number): void;
  reset_pass(r: number, h: number, rh: number, n: number): void;
  /** Tests only: dst[i] = e^src[i], f64, n even. */
  exp_f64(src: number, dst: number, n: number): void;
}

export type WasmBuild = 'fma' | 'simd';

let cached: { module: WebAssembly.Module; build: WasmBuild } | null | undefined;

function read(name: string): Uint8Array<ArrayBuffer> | undefined {
  // Relative to this file in dist/engine/ or src/engine/.
  for (const rel of [`./${name}`, `../../wasm/${name}`]) {
    try {
      return new Uint8Array(readFileSync(new URL(rel, import.meta.url)));
    } catch {
      // try the next place
    }
  }
  return undefined;
}

function load(): { module: WebAssembly.Module; build: WasmBuild } | null {
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

/** The compiled kernel module, or undefined when it is not built or SIMD is unavailable. */
export function wasmModule(): WebAssembly.Module | undefined {
  if (cached === undefined) cached = load();
  return cached?.module;
}

/** The compare kernel's builds: with SIMD (scan takes two common elements at a time), and without. */
export type CompareBuild = 'simd' | 'plain';
const compareCached = new Map<CompareBuild, WebAssembly.Module | null>();

/**
 * The compiled compare kernel (wasm/compare.wat): the SIMD build where the runtime validates it,
 * else the plain one, which loads wherever WebAssembly does (the kernel test holds the two to the
 * same results). compare/isclose.ts has no JavaScript fallback for it, so a missing build is an
 * error that says how to make it. `build` asks for one of them (tests); null when it cannot load.
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

/** Which build wasmModule() loaded, for reports and the bench. */
export function wasmBuild(): WasmBuild | undefined {
  if (cached === undefined) cached = load();
  return cached?.build;
}

/** Output columns per panel. */
export const PANEL = 8;

/**
 * One kernel instance and its memory. Buffers are carved with `alloc` after `reset`, then `grow`
 * makes the memory big enough; typed-array views must be taken only after `grow`, since growing
 * detaches the old ArrayBuffer.
 */
export class WasmGemm {
  readonly exports: GemmExports;
  private top = 0;

  constructor(module: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(module).exports as unknown as GemmExports;
  }

  reset(): void {
    this.top = this.exports.heap_base.value as number;
  }

  /** Reserve n values of `bytes` bytes each, 64-byte aligned; returns a byte address. */
  alloc(n: number, bytes: 4 | 8 = 4): number {
    const at = this.top;
    this.top = at + Math.ceil((n * bytes) / 64) * 64;
    return at;
  }

  grow(): void {
    const mem = this.exports.memory;
    // +64: the gate code may read one value past the last buffer (pairs of hidden units).
    const need = Math.ceil((this.top + 64) / 65536) - mem.buffer.byteLength / 65536;
    if (need > 0) mem.grow(need);
  }

  f32(at: number, n: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, at, n);
  }

  f64(at: number, n: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, at, n);
  }
}

/** Number of 8-column panels for N outputs. */
export const panels = (n: number): number => Math.ceil(n / PANEL);

/**
 * Pack rows [row0, row0 + n) of W (row-major, k columns) transposed into panels at `dst` (a view
 * of np * k * 8 floats): dst[(j*k + kk)*8 + c] = W[row0 + 8j + c][kk], zeros past n.
 */
export function packPanels(w: FloatArray, row0: number, n: number, k: number, dst: Float32Array): void {
  const np = panels(n);
  dst.fill(0, 0, np * k * PANEL);
  for (let j = 0; j < np; j++) {
    const cols = Math.min(PANEL, n - j * PANEL);
    const base = j * k * PANEL;
    for (let c = 0; c < cols; c++) {
      const src = (row0 + j * PANEL + c) * k;
      for (let kk = 0; kk < k; kk++) dst[base + kk * PANEL + c] = w[src + kk]!;
    }
  }
}
