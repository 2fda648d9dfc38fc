/**
 * Worker entry of the fast engine: runs one (direction, batch range) of a StackJob through every
 * layer. Between layers it waits at a barrier on shared memory until every item of the job has
 * finished the layer, because layer k+1 reads both directions of layer k's output.
 *
 * Barrier layout (`sync`, Int32Array on a SharedArrayBuffer): sync[k] counts items done with layer
 * k; sync[L] != 0 means some item failed, so the others stop instead of waiting forever.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { GruDirectionParams } from '../model/types.js';
import { KernelSource, runLayerItem, type StackJob } from './job.js';

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
}

export type WorkerReply = { id: number; ok: true } | { id: number; ok: false; message: string };

const kernels = new KernelSource((workerData as { module?: WebAssembly.Module } | undefined)?.module);

function run(w: WorkerJob): void {
  const { job, sync, items } = w;
  const L = job.numLayers;
  for (let k = 0; k < L; k++) {
    runLayerItem(job, k, w.direction, w.b0, w.b1, w.layers[k]!, kernels);
    Atomics.add(sync, k, 1);
    Atomics.notify(sync, k);
    if (k + 1 < L) {
      for (;;) {
        if (Atomics.load(sync, L) !== 0) throw new Error('aborted: another worker failed');
        const done = Atomics.load(sync, k);
        if (done >= items) break;
        Atomics.wait(sync, k, done);
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
    Atomics.store(w.sync, w.job.numLayers, 1);
    for (let k = 0; k < w.job.numLayers; k++) Atomics.notify(w.sync, k);
    reply = { id: w.id, ok: false, message: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
