/**
 * diagnose's progress, in flops over every run: the total grows as diagnose decides what else to
 * run (screens, whole-batch confirmations, pairs) and shrinks when a match ends the search early.
 * One object, handed to each phase that plans or makes runs.
 */
import type { CheckOptions } from '../check.js';

export class Progress {
  total: number;
  done = 0;
  private readonly onProgress: CheckOptions['onProgress'];
  /** The engine's callback: `d` flops into the run in hand. */
  readonly report: ((d: number) => void) | undefined;

  constructor(total: number, onProgress: CheckOptions['onProgress']) {
    this.total = total;
    this.onProgress = onProgress;
    this.report = onProgress && ((d: number) => onProgress(Math.min(this.total, this.done + d), this.total, 'compute'));
  }

  /** Runs decided on. */
  plan(flops: number): void {
    this.total += flops;
  }

  /** Runs no longer needed. */
  unplan(flops: number): void {
    this.total -= flops;
  }

  /** A run made. */
  ran(flops: number): void {
    this.done += flops;
  }

  finish(): void {
    this.onProgress?.(this.total, this.total, 'compute');
  }
}
