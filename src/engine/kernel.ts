/**
 * The two matrix-product back ends of the fast engine, behind one small interface so the time loop
 * (direction.ts) is written once:
 *   - WasmKernel: float32 operands, f32x4 SIMD products summed in double (wasm/gemm.wat), for
 *     float32 models in f32 precision — the case the speed targets are about;
 *   - JsKernel: float64 storage and double accumulation, register-blocked JS loops — float64 models,
 *     f64 precision, and the fallback when wasm SIMD is unavailable.
 *
 * Each also owns the gate arithmetic of one batch row (gatesLbr, or gatesR then gatesZn for the ONNX
 * placement): sums, activations and the update in double, the new state stored in place in h
 * (rounded to float32 in f32 precision), the equations of src/gru/math.ts for any GateMath. The JS
 * kernel runs gates.ts's rows; the wasm kernel runs its SIMD passes (wasm/gemm.wat) for the plain
 * sigmoid/tanh math and gates.ts's rows, on its own memory, for everything else.
 *
 * A kernel owns, for one (layer, direction, batch range): the packed weights, a chunk of layer input
 * rows x (rows x I), their input projection gi (rows x ldGi, always float64), the state h (Bw x H), r ⊙ h (Bw x H)
 * and the recurrent products ghRz (Bw x ldRz, gates r|z) and ghN (Bw x ldN, gate n), float64. All of these
 * are products only: biases are added in double by the gate code, as the reference's sums are.
 */
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import { compileMath, type CompiledMath } from '../gru/math.js';
import { isPlainMath, PYTORCH_MATH } from '../model/math.js';
import type { GateMath } from '../result.js';
import { gatesLbrRow, gatesRRow, gatesZnRow } from './gates.js';
import { panels, PANEL, WasmGemm } from './wasm.js';

export interface Kernel {
  x: FloatArray;
  gi: Float64Array;
  h: FloatArray;
  rh: FloatArray;
  ghRz: Float64Array;
  ghN: Float64Array;
  ldGi: number;
  ldRz: number;
  ldN: number;
  /** gi[r0..r1) = x[r0..r1) · W_ihᵀ (rows are independent: slicing never changes a value). */
  project(r0: number, r1: number): void;
  /** ghRz = h · W_h(r|z)ᵀ */
  recurRz(): void;
  /** ghN = h · W_hnᵀ, or (r ⊙ h) · W_hnᵀ when fromRh. */
  recurN(fromRh: boolean): void;
  /** linear_before_reset = 1: h[row] <- h' from gi[giRow], ghRz[row], ghN[row]. */
  gatesLbr(row: number, giRow: number): void;
  /** linear_before_reset = 0, before recurN(true): rh[row] <- r ⊙ h[row]. */
  gatesR(row: number, giRow: number): void;
  /** linear_before_reset = 0, after recurN(true): h[row] <- h'. */
  gatesZn(row: number, giRow: number): void;
}

export interface KernelShape {
  inputSize: number;
  hiddenSize: number;
  /** Batch rows this kernel runs (its share of the batch). */
  batch: number;
  /** Rows of x / gi held at once (a chunk of time steps times batch). */
  chunkRows: number;
  precision: Precision;
  math: GateMath;
}

/** Float32Array states round by being stored: no rounding function needed. */
const keep = (v: number): number => v;

function biasOrZeros(b: FloatArray | undefined, n: number): Float64Array {
  return b ? Float64Array.from(b) : new Float64Array(n);
}

/** k is split into blocks of this many so an 8-column weight panel (32*KC bytes) stays in L1. */
const KC = 256;

export class WasmKernel implements Kernel {
  x!: Float32Array;
  gi!: Float64Array;
  h!: Float32Array;
  rh!: Float32Array;
  ghRz!: Float64Array;
  ghN!: Float64Array;
  ldGi = 0;
  ldRz = 0;
  ldN = 0;
  private readonly g: WasmGemm;
  private I = 0;
  private H = 0;
  private B = 0;
  private a = { pIh: 0, pRz: 0, pN: 0, x: 0, gi: 0, h: 0, rh: 0, ghRz: 0, ghN: 0, bih: 0, bhh: 0, s: 0, ap: 0, w: 0 };
  /** null: the SIMD passes compute the gates; else gates.ts's rows with this math. */
  private math: CompiledMath | null = null;
  private bih: Float64Array = new Float64Array(0);
  private bhh: Float64Array = new Float64Array(0);

  constructor(module: WebAssembly.Module) {
    this.g = new WasmGemm(module);
  }

  setup(shape: KernelShape, p: GruDirectionParams): this {
    const { inputSize: I, hiddenSize: H, batch: B, chunkRows } = shape;
    const g = this.g;
    this.I = I;
    this.H = H;
    this.B = B;
    const n3 = panels(3 * H);
    const n2 = panels(2 * H);
    const n1 = panels(H);
    this.ldGi = n3 * PANEL;
    this.ldRz = n2 * PANEL;
    this.ldN = n1 * PANEL;
    g.reset();
    const a = this.a;
    a.pIh = g.alloc(n3 * I * PANEL);
    a.pRz = g.alloc(n2 * H * PANEL);
    a.pN = g.alloc(n1 * H * PANEL);
    a.x = g.alloc(chunkRows * I);
    a.gi = g.alloc(chunkRows * this.ldGi, 8);
    a.h = g.alloc(B * H);
    a.rh = g.alloc(B * H);
    a.ghRz = g.alloc(B * this.ldRz, 8);
    a.ghN = g.alloc(B * this.ldN, 8);
    // +2: the gate code reads hidden units in pairs.
    a.bih = g.alloc(3 * H + 2, 8);
    a.bhh = g.alloc(3 * H + 2, 8);
    // gate values r|z of one row
    a.s = g.alloc(2 * H + 2, 8);
    // Rows packed four by four for the product (pack4): a projection slice or the state.
    a.ap = g.alloc(Math.max(chunkRows * I, B * H));
    // Weights as given, for pack_panels to read (the panels are what the products use).
    a.w = g.alloc(3 * H * Math.max(I, H));
    g.grow();
    g.f64(a.bih, 3 * H + 2).fill(0).set(p.biasIh ?? []);
    g.f64(a.bhh, 3 * H + 2).fill(0).set(p.biasHh ?? []);
    const ex = g.exports;
    g.f32(a.w, 3 * H * I).set(p.weightIh);
    ex.pack_panels(a.w, 0, 3 * H, I, a.pIh);
    g.f32(a.w, 3 * H * H).set(p.weightHh);
    ex.pack_panels(a.w, 0, 2 * H, H, a.pRz);
    ex.pack_panels(a.w, 2 * H, H, H, a.pN);
    this.x = g.f32(a.x, chunkRows * I);
    this.gi = g.f64(a.gi, chunkRows * this.ldGi);
    this.h = g.f32(a.h, B * H);
    this.rh = g.f32(a.rh, B * H);
    this.ghRz = g.f64(a.ghRz, B * this.ldRz);
    this.ghN = g.f64(a.ghN, B * this.ldN);
    this.bih = g.f64(a.bih, 3 * H);
    this.bhh = g.f64(a.bhh, 3 * H);
    this.math = isPlainMath(shape.math) ? null : compileMath(shape.math);
    return this;
  }

  /** C = A·P for A at aAt (m rows, lda apart); `packed`: A's groups of four are already in ap. */
  private gemm(aAt: number, lda: number, m: number, k: number, pAt: number, np: number, cAt: number, ldc: number, packed = false): void {
    const ex = this.g.exports;
    const ap = this.a.ap;
    if (!packed) ex.pack4(aAt, lda, m >> 2, k, ap);
    for (let kb = 0; kb < k; kb += KC) {
      ex.gemm(aAt + kb * 4, lda, ap + kb * 16, k * 16, m, Math.min(KC, k - kb), pAt + kb * PANEL * 4, k * PANEL * 4, np, cAt, ldc, kb > 0 ? 1 : 0);
    }
  }

  project(r0: number, r1: number): void {
    const { a, I, ldGi } = this;
    this.gemm(a.x + r0 * I * 4, I, r1 - r0, I, a.pIh, ldGi / PANEL, a.gi + r0 * ldGi * 8, ldGi);
  }

  recurRz(): void {
    this.gemm(this.a.h, this.H, this.B, this.H, this.a.pRz, this.ldRz / PANEL, this.a.ghRz, this.ldRz);
  }

  recurN(fromRh: boolean): void {
    // From h, recurRz has just packed it: h has not changed since.
    this.gemm(fromRh ? this.a.rh : this.a.h, this.H, this.B, this.H, this.a.pN, this.ldN / PANEL, this.a.ghN, this.ldN, !fromRh);
  }

  gatesLbr(row: number, giRow: number): void {
    const { a, H } = this;
    if (this.math) {
      gatesLbrRow(this.math, H, this.gi, giRow * this.ldGi, this.bih, this.ghRz, row * this.ldRz, this.ghN, row * this.ldN, this.bhh, this.h, row * H, keep);
      return;
    }
    const ex = this.g.exports;
    const gi = a.gi + giRow * this.ldGi * 8;
    ex.sigmoid_pass(gi, a.ghRz + row * this.ldRz * 8, a.bih, a.bhh, a.s, 2 * H);
    ex.update_pass(gi + 16 * H, a.ghN + row * this.ldN * 8, a.bih + 16 * H, a.bhh + 16 * H, a.s, a.s + 8 * H, a.h + row * H * 4, H, 1);
  }

  gatesR(row: number, giRow: number): void {
    const { a, H } = this;
    if (this.math) {
      gatesRRow(this.math, H, this.gi, giRow * this.ldGi, this.bih, this.ghRz, row * this.ldRz, this.bhh, this.h, row * H, this.rh);
      return;
    }
    const ex = this.g.exports;
    ex.sigmoid_pass(a.gi + giRow * this.ldGi * 8, a.ghRz + row * this.ldRz * 8, a.bih, a.bhh, a.s, H);
    ex.reset_pass(a.s, a.h + row * H * 4, a.rh + row * H * 4, H);
  }

  gatesZn(row: number, giRow: number): void {
    const { a, H } = this;
    if (this.math) {
      gatesZnRow(this.math, H, this.gi, giRow * this.ldGi, this.bih, this.ghRz, row * this.ldRz, this.ghN, row * this.ldN, this.bhh, this.h, row * H, keep);
      return;
    }
    const ex = this.g.exports;
    const gi = a.gi + giRow * this.ldGi * 8;
    ex.sigmoid_pass(gi + 8 * H, a.ghRz + (row * this.ldRz + H) * 8, a.bih + 8 * H, a.bhh + 8 * H, a.s, H);
    ex.update_pass(gi + 16 * H, a.ghN + row * this.ldN * 8, a.bih + 16 * H, a.bhh + 16 * H, a.s, a.s, a.h + row * H * 4, H, 0);
  }
}

/**
 * C[m, n] = A[m, k] · W[row0.., k]ᵀ in double, 1 x 4 register blocking: each A value is loaded once
 * per four weight rows, four independent sums hide the add latency.
 */
function gemmJs(
  a: Float64Array, lda: number, m: number, k: number,
  w: Float64Array, row0: number, n: number,
  c: Float64Array, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const ar = i * lda;
    const cr = i * ldc;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const w0 = (row0 + j) * k;
      const w1 = w0 + k;
      const w2 = w1 + k;
      const w3 = w2 + k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let kk = 0; kk < k; kk++) {
        const x = a[ar + kk]!;
        s0 += x * w[w0 + kk]!;
        s1 += x * w[w1 + kk]!;
        s2 += x * w[w2 + kk]!;
        s3 += x * w[w3 + kk]!;
      }
      c[cr + j] = s0;
      c[cr + j + 1] = s1;
      c[cr + j + 2] = s2;
      c[cr + j + 3] = s3;
    }
    for (; j < n; j++) {
      const w0 = (row0 + j) * k;
      let s = 0;
      for (let kk = 0; kk < k; kk++) s += a[ar + kk]! * w[w0 + kk]!;
      c[cr + j] = s;
    }
  }
}

export class JsKernel implements Kernel {
  x = new Float64Array(0);
  gi = new Float64Array(0);
  h = new Float64Array(0);
  rh = new Float64Array(0);
  ghRz = new Float64Array(0);
  ghN = new Float64Array(0);
  ldGi = 0;
  ldRz = 0;
  ldN = 0;
  private wIh = new Float64Array(0);
  private wHh = new Float64Array(0);
  private bih: Float64Array = new Float64Array(0);
  private bhh: Float64Array = new Float64Array(0);
  private round: (x: number) => number = Math.fround;
  private math: CompiledMath = compileMath(PYTORCH_MATH);
  private I = 0;
  private H = 0;
  private B = 0;

  setup(shape: KernelShape, p: GruDirectionParams): this {
    const { inputSize: I, hiddenSize: H, batch: B, chunkRows } = shape;
    this.I = I;
    this.H = H;
    this.B = B;
    this.ldGi = 3 * H;
    this.ldRz = 2 * H;
    this.ldN = H;
    // Float64 copies: the loops then see one element type (monomorphic), and float32 weights are
    // widened exactly.
    this.wIh = Float64Array.from(p.weightIh);
    this.wHh = Float64Array.from(p.weightHh);
    this.bih = biasOrZeros(p.biasIh, 3 * H);
    this.bhh = biasOrZeros(p.biasHh, 3 * H);
    this.round = shape.precision === 'f32' ? Math.fround : keep;
    this.math = compileMath(shape.math);
    this.x = new Float64Array(chunkRows * I);
    this.gi = new Float64Array(chunkRows * this.ldGi);
    this.h = new Float64Array(B * H);
    this.rh = new Float64Array(B * H);
    this.ghRz = new Float64Array(B * this.ldRz);
    this.ghN = new Float64Array(B * this.ldN);
    return this;
  }

  project(r0: number, r1: number): void {
    const { I, ldGi } = this;
    gemmJs(this.x.subarray(r0 * I), I, r1 - r0, I, this.wIh, 0, 3 * this.H, this.gi.subarray(r0 * ldGi), ldGi);
  }

  recurRz(): void {
    gemmJs(this.h, this.H, this.B, this.H, this.wHh, 0, 2 * this.H, this.ghRz, this.ldRz);
  }

  recurN(fromRh: boolean): void {
    gemmJs(fromRh ? this.rh : this.h, this.H, this.B, this.H, this.wHh, 2 * this.H, this.H, this.ghN, this.ldN);
  }

  gatesLbr(row: number, giRow: number): void {
    gatesLbrRow(this.math, this.H, this.gi, giRow * this.ldGi, this.bih, this.ghRz, row * this.ldRz, this.ghN, row * this.ldN, this.bhh, this.h, row * this.H, this.round);
  }

  gatesR(row: number, giRow: number): void {
    gatesRRow(this.math, this.H, this.gi, giRow * this.ldGi, this.bih, this.ghRz, row * this.ldRz, this.bhh, this.h, row * this.H, this.rh);
  }

  gatesZn(row: number, giRow: number): void {
    gatesZnRow(this.math, this.H, this.gi, giRow * this.ldGi, this.bih, this.ghRz, row * this.ldRz, this.ghN, row * this.ldN, this.bhh, this.h, row * this.H, this.round);
  }
}
