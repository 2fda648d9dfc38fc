/**
 * The fast engine's worker threads: started on first use, reused by later runs (a start costs tens
 * of milliseconds), and unref'd while idle so they never keep the process alive; they are ref'd
 * only while a run waits on them. `closeWorkers()` terminates them all.
 *
 * Under tsx (tests, bench) this file is src/engine/pool.ts and the worker is a .ts file that plain
 * Node cannot load in a worker (loader hooks are not inherited on Node 20), so the worker is then
 * started through a tiny bootstrap that registers tsx first.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerJob, WorkerReply } from './worker.js';

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: { id: number; resolve: () => void; reject: (e: Error) => void } | undefined;
}

const slots: Slot[] = [];
let nextId = 1;

function spawn(module: WebAssembly.Module | undefined): Slot {
  const isTs = import.meta.url.endsWith('.ts');
  const url = new URL(isTs ? './worker.ts' : './worker.js', import.meta.url);
  const workerData = { module };
  let worker: Worker;
  if (isTs) {
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    worker = new Worker(boot, { eval: true, workerData, execArgv: [] });
  } else {
    worker = new Worker(url, { workerData });
  }
  const slot: Slot = { worker, busy: false, pending: undefined };
  worker.on('message', (r: WorkerReply) => {
    const p = slot.pending;
    if (!p || p.id !== r.id) return;
    slot.pending = undefined;
    if (r.ok) p.resolve();
    else p.reject(new Error(`fast engine worker: ${r.message}`));
  });
  const fail = (e: Error): void => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    const p = slot.pending;
    slot.pending = undefined;
    p?.reject(e);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`fast engine worker exited with code ${code}`)));
  worker.unref();
  slots.push(slot);
  return slot;
}

/** Runs each job on its own worker; resolves when all are done, rejects with the first failure. */
export async function runOnWorkers(jobs: Omit<WorkerJob, 'id'>[], module: WebAssembly.Module | undefined): Promise<void> {
  const taken: Slot[] = [];
  for (const s of slots) {
    if (taken.length === jobs.length) break;
    if (!s.busy) taken.push(s);
  }
  while (taken.length < jobs.length) taken.push(spawn(module));
  for (const s of taken) {
    s.busy = true;
    s.worker.ref();
  }
  try {
    await Promise.all(
      jobs.map(
        (job, i) =>
          new Promise<void>((resolve, reject) => {
            const slot = taken[i]!;
            const id = nextId++;
            slot.pending = { id, resolve, reject };
            slot.worker.postMessage({ ...job, id } satisfies WorkerJob);
          }),
      ),
    );
  } finally {
    for (const s of taken) {
      s.busy = false;
      s.worker.unref();
    }
  }
}

/** Terminates every worker (they are unref'd anyway; this frees them now). */
export async function closeWorkers(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}
