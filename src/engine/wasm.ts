/**
 * One instance of the f32x4 SIMD matrix-product kernel (wasm/gemm.wat; loaded by wasm/load.ts): a
 * bump allocator over its linear memory and the weight packing the kernel expects (see the top of
 * gemm.wat for the panel layout).
 */
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
