/**
 * A progress bar on stderr for long work (loading a big case, computing a big GRU). It appears only
 * when stderr is a terminal and the work has already taken `delayMs` (2 s): short runs, pipes and
 * CI logs never see it. Redraws at most every 100 ms on one line and erases itself when done.
 * The drawing is a pure function (renderBar) so it can be tested without a terminal.
 */
import { now as msNow } from '../clock.js';

export interface ProgressSink {
  isTTY: boolean;
  columns?: number | undefined;
  write: (s: string) => void;
}

/** `label [#########---------]  45%  3.2s`, fit to `width` columns. */
export function renderBar(label: string, done: number, total: number, elapsedMs: number, width = 80): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const secs = `${(elapsedMs / 1000).toFixed(1)}s`;
  const room = Math.max(10, Math.min(40, width - label.length - pct.length - secs.length - 7));
  const filled = Math.round(frac * room);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(room - filled)}] ${pct}  ${secs}`;
}

export class Progress {
  private readonly start = msNow();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly delayMs = 2000,
  ) {}

  update(done: number, total: number): void {
    if (!this.sink.isTTY) return;
    const now = msNow();
    if (now - this.start < this.delayMs || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    this.sink.write(`\r${renderBar(this.label, done, total, now - this.start, this.sink.columns ?? 80)}\x1b[K`);
  }

  /** Erase the bar (if it was ever drawn) so the report starts on a clean line. */
  end(): void {
    if (this.drawn) this.sink.write('\r\x1b[K');
    this.drawn = false;
  }
}
