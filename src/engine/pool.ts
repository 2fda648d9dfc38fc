/**
 * The fast engine's worker threads: started on first use, reused by later runs (a start costs tens
 * of milliseconds), and unref'd while idle so they never keep the process alive; they are ref'd
 * only while a run waits on them. `closeWorkers()` terminates them all.
 *
 * Under tsx (tests, bench) this file is src/engine/pool.ts and the worker is a .ts file that plain
 * Node cannot load in a worker (loader hooks are not inherited on Node 20), so the worker is then
 * started through a tiny bootstrap that registers tsx first.
 *
 * An aborted signal asks the workers to stop (`cancel`, a shared flag they look at between pieces
 * of work); any that have not stopped after ABORT_GRACE_MS (inside one very long step) are
 * terminated.
 *
 * `prewarm(n)` starts workers ahead of need (the CLI calls it while the case loads): a cold worker
 * costs an isolate, Node's bootstrap, this module graph and a first compile of its hot code, all
 * of which then overlap the load instead of adding to the run.
 */
import { Worker } from 'node:worker_threads';
import { AbortError } from '../gru/control.js';
import type { WorkerMessage, WorkerPiece, WorkerReply } from './worker.js';

export interface WorkerRunControl {
  signal?: AbortSignal | undefined;
  /** Asks the running pieces to stop soon; called once, when the signal aborts. */
  cancel: () => void;
}

/** How long aborted workers get to stop by themselves before they are terminated. */
export const ABORT_GRACE_MS = 100;

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: { id: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Set while the worker runs its warm-up piece: settles when it is done. */
  warming: Promise<void> | undefined;
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
  const slot: Slot = { worker, busy: false, pending: undefined, warming: undefined };
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

function post(slot: Slot, m: Omit<WorkerPiece, 'id'> | { warm: true }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const id = nextId++;
    slot.pending = { id, resolve, reject };
    slot.worker.postMessage({ ...m, id } as WorkerMessage);
  });
}

/**
 * Makes sure `n` workers exist and have run their warm-up piece (without waiting for it). Idle
 * workers stay unref'd: a process that never needs them exits as if they were not there.
 */
export function prewarm(n: number, module: WebAssembly.Module | undefined): void {
  while (slots.length < n) {
    const slot = spawn(module);
    slot.busy = true;
    const done = (): void => {
      slot.busy = false;
      slot.warming = undefined;
    };
    slot.warming = post(slot, { warm: true }).then(done, done);
  }
}

/**
 * Runs each piece on its own worker; resolves when all are done. Otherwise rejects once all have
 * stopped: with an AbortError if the signal aborted, else with the first failure.
 */
export async function runOnWorkers(
  jobs: Omit<WorkerPiece, 'id'>[],
  module: WebAssembly.Module | undefined,
  control?: WorkerRunControl,
): Promise<void> {
  // Workers still warming up are worth waiting for: they are closer to ready than a new one.
  const warming = slots.filter((s) => s.warming !== undefined);
  if (warming.length > 0 && slots.filter((s) => !s.busy).length < jobs.length) {
    // ref'd while we wait: an await on an unref'd worker alone would let the process exit.
    for (const s of warming) s.worker.ref();
    try {
      await Promise.all(warming.map((s) => s.warming));
    } finally {
      for (const s of warming) s.worker.unref();
    }
  }
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
  const signal = control?.signal;
  let grace: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    control!.cancel();
    grace = setTimeout(() => {
      for (const s of taken) if (s.pending) void s.worker.terminate();
    }, ABORT_GRACE_MS);
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const settled = await Promise.allSettled(jobs.map((job, i) => post(taken[i]!, job)));
    // Aborted jobs fail (stop flag) or are terminated; jobs that finished first still count.
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw signal?.aborted ? new AbortError(signal.reason) : failed.reason;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    clearTimeout(grace);
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
