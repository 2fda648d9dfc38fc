/**
 * Keeping the main thread responsive while an engine computes on it: progress callbacks, an
 * AbortSignal, and the pacing that lets the event loop run (timers, SIGINT handlers, a progress
 * bar's redraws) every SLICE_MS of work.
 *
 * The engines split their work into pieces (time steps, projection slices) and ask `pacer.due()`
 * after each one — a clock read; only when a slice is over do they `await pacer.pause(done)`, which
 * reports progress, lets the event loop turn once, and throws if the run was aborted. The abort
 * check sits there because a signal can only be aborted by code that runs on the event loop.
 */
import { now as msNow } from '../clock.js';

/** Run options shared by the engines' async entry points. */
export interface RunControl {
  /**
   * Called from the main thread with work done so far and the total, in flops as gruFlops counts
   * them (monotone; the last call is (total, total)), at most every REPORT_MS while running.
   */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** Aborting rejects the run with an AbortError (cause: signal.reason) within ~SLICE_MS. */
  signal?: AbortSignal | undefined;
}

/** Work done on the main thread between two turns of the event loop. */
export const SLICE_MS = 50;
/** Least time between two progress reports (the final one excepted). */
export const REPORT_MS = 100;

/** What the run rejects with when its signal aborts; like Node's own (fs, timers/promises). */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One full turn of the event loop, whatever phase we are in: two setImmediate hops always have the
 * timers and poll (I/O, signals) phases between them. One hop would not when the run started from a
 * poll-phase callback (e.g. after reading a file): poll -> check resumes it before any timer.
 */
export async function nextTurn(): Promise<void> {
  await immediate();
  await immediate();
}

export class Pacer {
  private sliceEnd: number;
  private lastReport: number;
  private reported = -1;

  constructor(
    private readonly total: number,
    private readonly control: RunControl,
    private readonly sliceMs = SLICE_MS,
  ) {
    const now = msNow();
    this.sliceEnd = now + sliceMs;
    this.lastReport = now;
  }

  /** The current slice of main-thread work is over: call pause() now. */
  due(): boolean {
    return msNow() >= this.sliceEnd;
  }

  /** Reports progress if it is time, lets the event loop run, then throws if aborted. */
  async pause(done: number): Promise<void> {
    this.report(done);
    await nextTurn();
    throwIfAborted(this.control.signal);
    this.sliceEnd = msNow() + this.sliceMs;
  }

  /** Reports `done` if REPORT_MS passed since the last report and it moved on. */
  report(done: number): void {
    const cb = this.control.onProgress;
    if (!cb) return;
    const now = msNow();
    const d = Math.min(this.total, Math.max(this.reported, done));
    // 0.9: a REPORT_MS interval timer may fire a hair early by this clock.
    if (d <= this.reported || now - this.lastReport < 0.9 * REPORT_MS) return;
    this.reported = d;
    this.lastReport = now;
    cb(d, this.total);
  }

  /** The final report, (total, total), unless that was reported already. */
  finish(): void {
    if (this.reported >= this.total) return;
    this.reported = this.total;
    this.control.onProgress?.(this.total, this.total);
  }
}
