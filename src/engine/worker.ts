/**
 * Worker entry of the fast engine: runs one (direction, batch range) of a StackJob through every
 * layer. Between layers it waits at a barrier on shared memory until every item of the job has
 * finished the layer, because layer k+1 reads both directions of layer k's output.
 *
 * Barrier layout (`sync`, Int32Array on a SharedArrayBuffer): sync[k] counts items done with layer
 * k; sync[L] != 0 means stop: 1 when some item failed, 2 when the run was aborted. Items look at it
 * between pieces of work (about every WORKER_GRAIN flops) and at barriers, so they stop soon
 * instead of finishing a layer or waiting forever.
 *
 * Progress: `progress[slot]` (BigInt64Array on shared memory) holds this item's flops done so far;
 * the main thread polls the sum (fast.ts). 64 bits because one item can exceed 2^31 flops.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { GruDirectionParams } from '../model/types.js';
import { KernelSource, layerItemWork, type StackJob } from './job.js';

export interface WorkerJob {
  id: number;
  job: StackJob;
  direction: number;
  b0: number;
  b1: number;
  /** params for this direction, one per layer. */
  layers: GruDirectionParams[];
  sync: Int32Array;
  items: number;
  progress: BigInt64Array;
  /** This item's index in progress. */
  slot: number;
}

/** Flops between a worker's progress updates and stop-flag checks (~0.1 ms of work). */
export const WORKER_GRAIN = 2e6;

/** Thrown inside a worker when the stop flag is set. */
const STOPPED = 'stopped: the run was aborted or another worker failed';

export type WorkerReply = { id: number; ok: true } | { id: number; ok: false; message: string };

const kernels = new KernelSource((workerData as { module?: WebAssembly.Module } | undefined)?.module);

function run(w: WorkerJob): void {
  const { job, sync, items, progress, slot } = w;
  const L = job.numLayers;
  let done = 0;
  for (let k = 0; k < L; k++) {
    for (const flops of layerItemWork(job, k, w.direction, w.b0, w.b1, w.layers[k]!, kernels, WORKER_GRAIN)) {
      done += flops;
      Atomics.store(progress, slot, BigInt(done));
      if (Atomics.load(sync, L) !== 0) throw new Error(STOPPED);
    }
    Atomics.add(sync, k, 1);
    Atomics.notify(sync, k);
    if (k + 1 < L) {
      for (;;) {
        if (Atomics.load(sync, L) !== 0) throw new Error(STOPPED);
        const finished = Atomics.load(sync, k);
        if (finished >= items) break;
        Atomics.wait(sync, k, finished);
      }
    }
  }
}

parentPort!.on('message', (w: WorkerJob) => {
  let reply: WorkerReply;
  try {
    run(w);
    reply = { id: w.id, ok: true };
  } catch (e) {
    // Release the others before reporting: they may be waiting at a barrier for this item.
    Atomics.compareExchange(w.sync, w.job.numLayers, 0, 1);
    for (let k = 0; k < w.job.numLayers; k++) Atomics.notify(w.sync, k);
    reply = { id: w.id, ok: false, message: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
