/**
 * Worker entry of the fast engine: runs pieces (itemWork: a direction of one layer over a batch
 * range) that the split runner (fast.ts) posts, on buffers shared with the main thread. The stack
 * driver waits for every piece of a layer before it starts the next, so there is no barrier here.
 *
 * Between pieces of work (about every WORKER_GRAIN flops) a worker publishes its flops done in
 * `progress[slot]` (BigInt64Array on shared memory: one piece can exceed 2^31 flops) and looks at
 * `stop[0]`: non-zero means the run was aborted, and the piece ends at once.
 *
 * A `warm` message runs a tiny piece with each kernel so the first real piece starts with its code
 * compiled (see prewarm in pool.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DirectionJob } from '../gru/stack.js';
import { PYTORCH_MATH } from '../model/math.js';
import { itemWork, KernelSource, type KernelKind } from './item.js';
import type { PieceTimes } from '../result.js';
import { now } from '../clock.js';

export interface WorkerPiece {
  id: number;
  job: DirectionJob;
  b0: number;
  b1: number;
  kind: KernelKind;
  progress: BigInt64Array;
  slot: number;
  stop: Int32Array;
}

export type WorkerMessage = WorkerPiece | { id: number; warm: true };

/** Flops between a worker's progress updates and stop-flag checks (~0.1 ms of work). */
export const WORKER_GRAIN = 2e6;

export type WorkerReply = { id: number; ok: true; times?: PieceTimes } | { id: number; ok: false; stopped: boolean; message: string };


const module = (workerData as { module?: WebAssembly.Module } | undefined)?.module;
const kernels = new KernelSource(module);

class Stopped extends Error {}

function run(p: WorkerPiece): PieceTimes {
  let done = 0;
  const start = now();
  const work = itemWork(p.job, p.b0, p.b1, p.kind, kernels, WORKER_GRAIN);
  const setup = now();
  for (const flops of work) {
    done += flops;
    Atomics.store(p.progress, p.slot, BigInt(done));
    if (Atomics.load(p.stop, 0) !== 0) throw new Stopped('stopped: the run was aborted');
  }
  return { start, setup, end: now() };
}

/**
 * A small GRU direction through the kernel real work will use (wasm when it loaded): V8 compiles
 * wasm functions on their first call, so this moves those compiles before the first real piece.
 */
function warm(): void {
  const T = 4;
  const B = 4;
  const H = 16;
  const I = 16;
  const w = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i * 37) % 17) / 170 - 0.05);
  for (const kind of module ? (['wasm'] as const) : (['js'] as const)) {
    const job: DirectionJob = {
      layer: 0, direction: 0, reverse: false, seqLen: T, batchSize: B, inputSize: I, hiddenSize: H, numDirections: 1,
      input: w(T * B * I), output: new Float32Array(T * B * H), h0: new Float64Array(B * H), hN: new Float64Array(B * H),
      lengths: undefined, params: { weightIh: w(3 * H * I), weightHh: w(3 * H * H), biasIh: w(3 * H), biasHh: w(3 * H), inputSize: I },
      math: PYTORCH_MATH, precision: 'f32',
    };
    if (kind === 'js') job.output = new Float64Array(T * B * H);
    for (const _ of itemWork(job, 0, B, kind, kernels, Infinity));
  }
}

parentPort!.on('message', (m: WorkerMessage) => {
  let reply: WorkerReply;
  try {
    if ('warm' in m) {
      warm();
      reply = { id: m.id, ok: true };
    } else {
      reply = { id: m.id, ok: true, times: run(m) };
    }
  } catch (e) {
    reply = { id: m.id, ok: false, stopped: e instanceof Stopped, message: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
