/**
 * Repeated 1- vs 2-thread timing of the fast engine (`node --import tsx bench/threads.ts [rounds]`):
 * the 2-thread speed-up on this 2-core VM moves between bench runs, so this prints its spread.
 */
import { closeFastEngine, runGruFast } from '../src/engine/fast.js';
import type { GruRunInput } from '../src/gru/stack.js';
import { lcg, randomRun } from '../test/random-run.js';

const rand = lcg(7);
const run = (B: number, T: number, H: number, L: number, bidir: boolean): GruRunInput => randomRun({ T, B, I: H, H, L, bidir, inputScale: 1, h0Scale: 1 }, rand);

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
