// The wasm kernel's pieces on their own: the f32x4 product against a double dot product, and the
// gate exp against Math.exp. The end-to-end comparison with the reference is in cases.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packPanels, panels, PANEL, WasmGemm } from '../../src/engine/wasm.js';
import { gemmModule } from '../../src/wasm/load.js';
import { ROOT } from '../helpers.js';

if (!existsSync(join(ROOT, 'wasm', 'gemm.wasm'))) {
  const { buildWasm } = (await import(join(ROOT, 'wasm', 'build.mjs'))) as { buildWasm: () => Promise<string[]> };
  await buildWasm();
}

let seed = 99;
const rnd = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

/**
 * A random M x K float32 A and N x K W in a fresh layout of g's memory, W packed into panels and
 * A's rows four by four (pack4), as WasmKernel does; C (M rows of ldc float64) and C1 (one row) to
 * write into.
 */
function product(g: WasmGemm, M: number, K: number, N: number) {
  g.reset();
  const np = panels(N);
  const ldc = np * PANEL;
  const pa = g.alloc(M * K);
  const pp = g.alloc(np * K * PANEL);
  const pc = g.alloc(M * ldc, 8);
  const pc1 = g.alloc(ldc, 8);
  const pap = g.alloc(M * K);
  g.grow();
  const A = g.f32(pa, M * K);
  for (let i = 0; i < A.length; i++) A[i] = 2 * rnd() - 1;
  const W = Float32Array.from({ length: N * K }, () => 2 * rnd() - 1);
  packPanels(W, 0, N, K, g.f32(pp, np * K * PANEL));
  g.exports.pack4(pa, K, M >> 2, K, pap);
  return { np, ldc, pa, pp, pc, pc1, pap, A, W };
}

test('gemm: odd shapes, k split into blocks, 1..7 rows: float32 products summed in double', () => {
  const g = new WasmGemm(gemmModule()!);
  for (const [M, K, N] of [[1, 1, 1], [3, 17, 5], [4, 33, 8], [7, 100, 29], [5, 300, 99]] as const) {
    const { np, ldc, pa, pp, pc, pap, A, W } = product(g, M, K, N);
    // two k blocks, the second accumulating, as WasmKernel does
    const k1 = Math.ceil(K / 2);
    g.exports.gemm(pa, K, pap, K * 16, M, k1, pp, K * PANEL * 4, np, pc, ldc, 0);
    if (K > k1) g.exports.gemm(pa + k1 * 4, K, pap + k1 * 16, K * 16, M, K - k1, pp + k1 * PANEL * 4, K * PANEL * 4, np, pc, ldc, 1);
    const C = g.f64(pc, M * ldc);
    for (let i = 0; i < M; i++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        let mag = 0;
        for (let k = 0; k < K; k++) {
          s += A[i * K + k]! * W[n * K + k]!;
          mag += Math.abs(A[i * K + k]! * W[n * K + k]!);
        }
        // float32 partial sums over 16 terms: error well below 2^-20 of the magnitude
        assert.ok(Math.abs(C[i * ldc + n]! - s) <= mag * 2 ** -20, `M${M} K${K} N${N} [${i},${n}]: ${C[i * ldc + n]} vs ${s}`);
      }
    }
  }
});

test('gemm: a row sums the same whichever tile computes it (rows in fours or one by one), any k', () => {
  const g = new WasmGemm(gemmModule()!);
  // k: the unrolled k loop leaves after each of its steps (k % 4), KB blocks, the KC split below
  for (const [M, K] of [[9, 1], [9, 2], [9, 3], [9, 5], [6, 37], [5, 70], [11, 131], [7, 300]] as const) {
    const N = 16;
    const { np, ldc, pa, pp, pc, pc1, pap } = product(g, M, K, N);
    g.exports.gemm(pa, K, pap, K * 16, M, K, pp, K * PANEL * 4, np, pc, ldc, 0);
    const C = g.f64(pc, M * ldc);
    for (let i = 0; i < M; i++) {
      // row i alone: one row, so $tile1
      g.exports.gemm(pa + i * K * 4, K, pap, K * 16, 1, K, pp, K * PANEL * 4, np, pc1, ldc, 0);
      const one = g.f64(pc1, ldc);
      for (let n = 0; n < N; n++) assert.equal(one[n], C[i * ldc + n], `M${M} K${K} row ${i} col ${n}`);
    }
  }
});

test('exp used by the gates is within 2 ulp of Math.exp on [-708, 708], and keeps NaN', () => {
  const g = new WasmGemm(gemmModule()!);
  g.reset();
  const n = 20000;
  const src = g.alloc(n, 8);
  const dst = g.alloc(n, 8);
  g.grow();
  const x = g.f64(src, n);
  for (let i = 0; i < n; i++) x[i] = (2 * rnd() - 1) * (i % 2 ? 30 : 708);
  x[0] = 0;
  x[1] = -0;
  x[2] = 1e-300;
  x[3] = NaN;
  g.exports.exp_f64(src, dst, n);
  const y = g.f64(dst, n);
  assert.equal(y[0], 1);
  assert.ok(Number.isNaN(y[3]));
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(x[i])) continue;
    const e = Math.exp(x[i]!);
    assert.ok(Math.abs(y[i]! - e) <= 4.5e-16 * e, `exp(${x[i]}) = ${y[i]}, Math.exp ${e}`);
  }
});

test('pack_panels (wasm) lays weights out exactly as packPanels (the layout gemm.wat documents)', () => {
  const g = new WasmGemm(gemmModule()!);
  for (const [rows, row0, n, k] of [[24, 0, 24, 5], [15, 10, 5, 3], [30, 3, 17, 9], [8, 0, 1, 1]] as const) {
    g.reset();
    const pw = g.alloc(rows * k);
    const pd = g.alloc(panels(n) * k * PANEL);
    g.grow();
    const W = Float32Array.from({ length: rows * k }, () => 2 * rnd() - 1);
    g.f32(pw, rows * k).set(W);
    const dst = g.f32(pd, panels(n) * k * PANEL);
    dst.fill(NaN);
    g.exports.pack_panels(pw, row0, n, k, pd);
    const want = new Float32Array(panels(n) * k * PANEL);
    packPanels(W, row0, n, k, want);
    assert.deepEqual(Array.from(dst), Array.from(want), `rows ${rows} row0 ${row0} n ${n} k ${k}`);
  }
});
