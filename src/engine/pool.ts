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
export function shareQueue(workers: number, take: () => Omit<WorkerPiece, 'id'> | undefined, options: QueueOptions): SharedQueue {
  const q = new QueueRun(take, options);
  q.start(workers);
  return {
    active: () => q.active(),
    finish: () => q.finish(),
    stop: () => q.stop(),
  };
}

interface QueueOptions {
  module: WebAssembly.Module | undefined;
  spawn: boolean;
  signal?: AbortSignal | undefined;
  cancel: () => void;
  onDone?: (piece: Omit<WorkerPiece, 'id'>, times: PieceTimes | undefined) => void;
  /** Pieces only workers may take that are still waiting (0 when this thread takes from the same queue). */
  reserved?: () => number;
}

/** One shareQueue: the pieces in flight, the slots waiting to take one, and how it ends. */
class QueueRun {
  stopped = false;
  /** No piece can be taken any more: outstanding reaching 0 then means done. */
  closed = false;
  outstanding = 0;
  failure: unknown;
  readonly waiting = new Set<Slot>();
  readonly serveLater = new Map<Slot, () => void>();
  readonly running = new Set<Slot>();
  grace: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;

  constructor(
    readonly take: () => Omit<WorkerPiece, 'id'> | undefined,
    readonly options: QueueOptions,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.done.catch(() => {}); // the caller awaits it; never an unhandled rejection meanwhile
  }

  /** Listens for the abort, then lets the first `workers` slots take pieces: free ones now, busy ones once free. */
  start(workers: number): void {
    const { signal } = this.options;
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });

    if (this.options.spawn) prewarm(workers, this.options.module);
    for (const slot of slots.slice(0, workers)) {
      if (!slot.busy) {
        this.serve(slot);
      } else {
        const later = (): void => this.serve(slot);
        this.waiting.add(slot);
        this.serveLater.set(slot, later);
        slot.waiters.push(later);
      }
    }
  }

  private reserved(): number {
    return this.options.reserved?.() ?? 0;
  }

  /** Settles `done` once nothing is outstanding and the queue is stopped, or closed with nothing reserved. */
  settle(): void {
    const { signal } = this.options;
    if (this.outstanding > 0 || !(this.stopped || (this.closed && this.reserved() === 0))) return;
    for (const s of this.waiting) {
      s.waiters = s.waiters.filter((w) => w !== this.serveLater.get(s));
      // finish() may have ref'd it to wait; it took nothing: idle or warming workers are unref'd.
      s.worker.unref();
    }
    this.waiting.clear();
    signal?.removeEventListener('abort', this.onAbort);
    clearTimeout(this.grace);
    if (signal?.aborted) this.reject(new AbortError(signal.reason));
    else if (this.failure !== undefined) this.reject(this.failure);
    else this.resolve();
  }

  /** A free slot takes the next piece, if any. */
  serve(slot: Slot): void {
    this.waiting.delete(slot);
    if (slot.dead) {
      // It died before taking a piece (e.g. it could not start): it takes none, as that piece would
      // never be computed. If some pieces are for workers only (an explicit thread count), the run
      // fails with the worker's error instead of waiting for them forever.
      if (!this.stopped && this.reserved() > 0) {
        this.failure ??= slot.error ?? new Error('fast engine worker died');
        this.stopped = true;
        this.options.cancel();
        this.settle();
      }
      return;
    }
    const piece = this.stopped ? undefined : this.take();
    if (!piece || slot.dead) return;
    slot.busy = true;
    slot.worker.ref();
    this.running.add(slot);
    this.outstanding++;
    post(slot, piece).then((times) => this.pieceDone(slot, piece, times), (e: unknown) => this.pieceFailed(slot, e));
  }

  private pieceDone(slot: Slot, piece: Omit<WorkerPiece, 'id'>, times: PieceTimes | undefined): void {
    this.options.onDone?.(piece, times);
    this.running.delete(slot);
    this.outstanding--;
    free(slot);
    // The slot takes the next piece right away (free() may have handed it to another waiter).
    if (!slot.busy && !this.stopped) this.serve(slot);
    this.settle();
  }

  private pieceFailed(slot: Slot, e: unknown): void {
    this.running.delete(slot);
    this.outstanding--;
    this.failure ??= e;
    this.stopped = true;
    this.options.cancel();
    if (!slot.dead) free(slot);
    this.settle();
  }

  private readonly onAbort = (): void => {
    this.stopped = true;
    this.options.cancel();
    this.grace = setTimeout(() => {
      for (const s of this.running) void s.worker.terminate();
    }, ABORT_GRACE_MS);
    this.settle();
  };

  active(): boolean {
    return !this.stopped && (this.waiting.size > 0 || this.outstanding > 0);
  }

  finish(): Promise<void> {
    this.closed = true;
    // Pieces are left for workers still starting: keep them ref'd while we wait, or the process
    // could exit with this promise pending.
    if (this.reserved() > 0) for (const s of this.waiting) s.worker.ref();
    this.settle();
    return this.done;
  }

  stop(): void {
    this.stopped = true;
    this.options.cancel();
    this.settle();
  }
}

/** Terminates every worker (they are unref'd anyway; this frees them now). */
export async function closeWorkers(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}
