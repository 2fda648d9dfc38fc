/**
 * The fast engine's worker threads: started ahead of need (`prewarm`) or on first use, reused by
 * later runs, and unref'd while idle so they never keep the process alive; they are ref'd only
 * while they run a piece. `closeWorkers()` terminates them all.
 *
 * Work reaches them through a queue (`shareQueue`): a layer's pieces are taken in order by this
 * thread and by every worker as soon as it is ready, so a worker still starting up takes what is
 * left when it arrives, or nothing. That is what keeps a cold worker from making a run slower than
 * one thread: nobody ever waits for a piece that a free thread could have taken.
 *
 * A cold worker costs an isolate, Node's bootstrap, this module graph and a first compile of its hot
 * code, more than a small run takes; `prewarm` (the CLI calls it before it even loads the case)
 * lets that overlap the load.
 *
 * Under tsx (tests, bench) this file is src/engine/pool.ts and the worker is a .ts file that plain
 * Node cannot load in a worker (loader hooks are not inherited on Node 20), so the worker is then
 * started through a tiny bootstrap that registers tsx first.
 *
 * An aborted signal stops the queue and raises the shared stop flag the workers look at between
 * pieces of work; any that have not stopped after ABORT_GRACE_MS (inside one very long step) are
 * terminated.
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { AbortError } from '../gru/control.js';
import type { WorkerMessage, WorkerPiece, WorkerReply } from './worker.js';
import type { PieceTimes } from '../result.js';

/** How long aborted workers get to stop by themselves before they are terminated. */
export const ABORT_GRACE_MS = 100;

interface Slot {
  worker: Worker;
  /** Running a piece or its warm-up. */
  busy: boolean;
  pending: { id: number; resolve: (times?: PieceTimes) => void; reject: (e: Error) => void } | undefined;
  /** Called (once) when the slot becomes free, after its warm-up or a piece. */
  waiters: (() => void)[];
  dead: boolean;
  /** Why it died (an 'error' event, or its exit). */
  error?: Error;
}

const slots: Slot[] = [];

/**
 * worker_threads is loaded when the first worker starts, not when this module is: a run that stays
 * on one thread (every small case) need not pay for loading it at every CLI start.
 */
const nodeRequire = createRequire(import.meta.url);
const workerThreads = (): typeof import('node:worker_threads') => nodeRequire('node:worker_threads') as typeof import('node:worker_threads');
let nextId = 1;

function spawn(module: WebAssembly.Module | undefined): Slot {
  const isTs = import.meta.url.endsWith('.ts');
  const url = new URL(isTs ? './worker.ts' : './worker.js', import.meta.url);
  const workerData = { module };
  const { Worker } = workerThreads();
  let worker: Worker;
  if (isTs) {
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    worker = new Worker(boot, { eval: true, workerData, execArgv: [] });
  } else {
    worker = new Worker(url, { workerData });
  }
  const slot: Slot = { worker, busy: false, pending: undefined, waiters: [], dead: false };
  worker.on('message', (r: WorkerReply) => {
    const p = slot.pending;
    if (!p || p.id !== r.id) return;
    slot.pending = undefined;
    if (r.ok) p.resolve(r.times);
    else p.reject(new Error(`fast engine worker: ${r.message}`));
  });
  const fail = (e: Error): void => {
    slot.dead = true;
    slot.error ??= e;
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

function post(slot: Slot, m: Omit<WorkerPiece, 'id'> | { warm: true }): Promise<PieceTimes | undefined> {
  return new Promise<PieceTimes | undefined>((resolve, reject) => {
    const id = nextId++;
    slot.pending = { id, resolve, reject };
    slot.worker.postMessage({ ...m, id } as WorkerMessage);
  });
}

function free(slot: Slot): void {
  slot.busy = false;
  slot.worker.unref();
  const waiters = slot.waiters.splice(0);
  for (const w of waiters) {
    if (slot.busy) {
      // An earlier waiter took the slot: the others wait for its next free.
      slot.waiters.push(w);
      continue;
    }
    w();
  }
}

/** Starts workers until `n` exist, each running its warm-up piece (unref'd: nobody waits). */
export function prewarm(n: number, module: WebAssembly.Module | undefined): void {
  while (slots.length < n) {
    const slot = spawn(module);
    slot.busy = true;
    const done = (): void => free(slot);
    post(slot, { warm: true }).then(done, done);
  }
}

/** Resolves once `n` workers exist and are free (started and warmed if need be). */
export async function ready(n: number, module: WebAssembly.Module | undefined): Promise<void> {
  prewarm(n, module);
  const wait = slots.slice(0, n).filter((s) => s.busy);
  for (const s of wait) s.worker.ref();
  try {
    await Promise.all(wait.map((s) => new Promise<void>((resolve) => s.waiters.push(resolve))));
  } finally {
    for (const s of wait) if (!s.busy) s.worker.unref();
  }
}

export interface SharedQueue {
  /** Workers are still to join or still running pieces: their messages need turns of the event loop. */
  active: () => boolean;
  /**
   * Call once the queue is empty (this thread's `take` returned undefined): settles when every
   * piece a worker took has finished; rejects with the first failure, or AbortError.
   */
  finish: () => Promise<void>;
  /** Stops handing out pieces and asks running ones to stop (this thread's own work failed). */
  stop: () => void;
}

/**
 * Lets up to `workers` worker threads take pieces from `take` (which returns undefined when none is
 * left) as each becomes free: idle ones now, warming or busy ones when they finish. With `spawn`,
 * missing workers are started (an explicit thread count); otherwise only existing ones join.
 * `cancel` is called once if the signal aborts; `done` then rejects with an AbortError once every
 * taken piece has stopped.
 */
export function shareQueue(
  workers: number,
  take: () => Omit<WorkerPiece, 'id'> | undefined,
  options: {
    module: WebAssembly.Module | undefined;
    spawn: boolean;
    signal?: AbortSignal | undefined;
    cancel: () => void;
    onDone?: (piece: Omit<WorkerPiece, 'id'>, times: PieceTimes | undefined) => void;
    /** Pieces only workers may take that are still waiting (0 when this thread takes from the same queue). */
    reserved?: () => number;
  },
): SharedQueue {
  const { signal } = options;
  let stopped = false;
  /** No piece can be taken any more: outstanding reaching 0 then means done. */
  let closed = false;
  let outstanding = 0;
  let failure: unknown;
  const waiting = new Set<Slot>();
  const serveLater = new Map<Slot, () => void>();
  const running = new Set<Slot>();
  let settle!: () => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = () => {
      if (outstanding > 0 || !(stopped || (closed && (options.reserved?.() ?? 0) === 0))) return;
      for (const s of waiting) {
        s.waiters = s.waiters.filter((w) => w !== serveLater.get(s));
        // finish() may have ref'd it to wait; it took nothing: idle or warming workers are unref'd.
        s.worker.unref();
      }
      waiting.clear();
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(grace);
      if (signal?.aborted) reject(new AbortError(signal.reason));
      else if (failure !== undefined) reject(failure);
      else resolve();
    };
  });
  done.catch(() => {}); // the caller awaits it; never an unhandled rejection meanwhile

  const serve = (slot: Slot): void => {
    waiting.delete(slot);
    if (slot.dead) {
      // It died before taking a piece (e.g. it could not start): it takes none, as that piece would
      // never be computed. If some pieces are for workers only (an explicit thread count), the run
      // fails with the worker's error instead of waiting for them forever.
      if (!stopped && (options.reserved?.() ?? 0) > 0) {
        failure ??= slot.error ?? new Error('fast engine worker died');
        stopped = true;
        options.cancel();
        settle();
      }
      return;
    }
    const piece = stopped ? undefined : take();
    if (!piece || slot.dead) return;
    slot.busy = true;
    slot.worker.ref();
    running.add(slot);
    outstanding++;
    post(slot, piece).then(
      (times) => {
        options.onDone?.(piece, times);
        running.delete(slot);
        outstanding--;
        free(slot);
        // The slot takes the next piece right away (free() may have handed it to another waiter).
        if (!slot.busy && !stopped) serve(slot);
        settle();
      },
      (e: unknown) => {
        running.delete(slot);
        outstanding--;
        failure ??= e;
        stopped = true;
        options.cancel();
        if (!slot.dead) free(slot);
        settle();
      },
    );
  };

  let grace: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    stopped = true;
    options.cancel();
    grace = setTimeout(() => {
      for (const s of running) void s.worker.terminate();
    }, ABORT_GRACE_MS);
    settle();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  if (options.spawn) prewarm(workers, options.module);
  for (const slot of slots.slice(0, workers)) {
    if (!slot.busy) {
      serve(slot);
    } else {
      const later = (): void => serve(slot);
      waiting.add(slot);
      serveLater.set(slot, later);
      slot.waiters.push(later);
    }
  }
  return {
    active: () => !stopped && (waiting.size > 0 || outstanding > 0),
    finish: () => {
      closed = true;
      // Pieces are left for workers still starting: keep them ref'd while we wait, or the process
      // could exit with this promise pending.
      if ((options.reserved?.() ?? 0) > 0) for (const s of waiting) s.worker.ref();
      settle();
      return done;
    },
    stop: () => {
      stopped = true;
      options.cancel();
      settle();
    },
  };
}

/** Terminates every worker (they are unref'd anyway; this frees them now). */
export async function closeWorkers(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}
