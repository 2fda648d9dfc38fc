/**
 * Repeated 1- vs 2-thread timing of the fast engine (`node --import tsx bench/threads.ts [rounds]`):
 * the 2-thread speed-up on this 2-core VM moves between bench runs, so this prints its spread.
 */
import { closeFastEngine, runGruFast } from '../src/engine/fast.js';
import type { GruRunInput } from '../src/gru/stack.js';
import type { GruParams } from '../src/model/types.js';

function run(B: number, T: number, H: number, L: number, bidir: boolean): GruRunInput {
  let s = 7;
  const r = (n: number, k: number) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2 * k);
  const D = bidir ? 2 : 1;
  const k = 1 / Math.sqrt(H);
  const layers = Array.from({ length: L }, (_, l) => Array.from({ length: D }, () => {
    const I = l === 0 ? H : D * H;
    return { weightIh: r(3 * H * I, k), weightHh: r(3 * H * H, k), biasIh: r(3 * H, k), biasHh: r(3 * H, k), inputSize: I };
  }));
  const params: GruParams = { inputSize: H, hiddenSize: H, numLayers: L, bidirectional: bidir, bias: true, dtype: 'float32', layers };
  return { params, input: r(T * B * H, 1), seqLen: T, batchSize: B, h0: r(L * D * B * H, 1) };
}

const rounds = Number(process.argv[2] ?? 9);
for (const [name, w] of [['M', run(16, 200, 256, 1, false)], ['L', run(32, 100, 512, 1, false)], ['deep-bidir', run(8, 100, 256, 2, true)]] as const) {
  const ratios: number[] = [];
  for (let i = 0; i < rounds + 2; i++) {
    let t = performance.now();
    await runGruFast(w, { precision: 'f32', threads: 1 });
    const one = performance.now() - t;
    t = performance.now();
    await runGruFast(w, { precision: 'f32', threads: 2 });
    const two = performance.now() - t;
    if (i >= 2) ratios.push(one / two);
  }
  ratios.sort((a, b) => a - b);
  const med = ratios[Math.floor(ratios.length / 2)]!;
  console.log(`${name}: 2-thread speed-up median ${med.toFixed(2)}x, min ${ratios[0]!.toFixed(2)}x, max ${ratios[ratios.length - 1]!.toFixed(2)}x over ${rounds} rounds`);
}
await closeFastEngine();
