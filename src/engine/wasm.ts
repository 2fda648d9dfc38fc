/**
 * Loads the f32x4 SIMD matrix-product kernel (wasm/gemm.wat, compiled at build time by
 * wasm/build.mjs) and wraps one instance of it: a bump allocator over its linear memory and the
 * weight packing the kernel expects (see the top of gemm.wat for the panel layout).
 *
 * Loading never touches the network: the .wasm is read from disk next to the compiled engine
 * (dist/engine/gemm.wasm) or from wasm/gemm.wasm in the source tree (tests under tsx). When
 * neither exists, or the runtime lacks wasm SIMD, `wasmModule()` returns undefined and the engine
 * uses its JS kernel instead.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { FloatArray } from '../model/types.js';

export interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(a: number, lda: number, m: number, k: number, p: number, ps: number, np: number, c: number, ldc: number, accum: number): void;
  sigmoid_pass(gi: number, gh: number, bi: number, bh: number, dst: number, n: number): void;
  update_pass(gi: number, gh: number, bi: number, bh: number, r: number, z: number, h: number, n: number, lbr: number): void;
  reset_pass(r: number, h: number, rh: number, n: number): void;
  /** Tests only: dst[i] = e^src[i], f64, n even. */
  exp_f64(src: number, dst: number, n: number): void;
}

let cached: WebAssembly.Module | null | undefined;

/** Where the binary may be, relative to this file in dist/engine/ or src/engine/. */
const CANDIDATES = ['./gemm.wasm', '../../wasm/gemm.wasm'];

/**
 * V8 first compiles wasm with its baseline compiler and tiers hot functions up later, per isolate:
 * each worker then ran its first runs at baseline speed (2 threads measured no faster than 1).
 * The module is tiny, so compile it optimized up front, then restore the default for any other
 * wasm in the process.
 */
function compileOptimized(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  try {
    setFlagsFromString('--no-liftoff');
    return new WebAssembly.Module(bytes);
  } finally {
    setFlagsFromString('--liftoff');
  }
}

/** The compiled kernel module, or undefined when it is not built or SIMD is unavailable. */
export function wasmModule(): WebAssembly.Module | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  for (const rel of CANDIDATES) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(new URL(rel, import.meta.url)));
    } catch {
      continue;
    }
    try {
      // validate() is false, not a throw, on an engine without SIMD: then fall back to JS.
      if (WebAssembly.validate(bytes)) cached = compileOptimized(bytes);
    } catch {
      cached = null;
    }
    break;
  }
  return cached ?? undefined;
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
    this.top = 64;
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
