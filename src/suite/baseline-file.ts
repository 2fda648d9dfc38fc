/**
 * `--save-baseline FILE` on disk: under FILE.lock (io/write.ts withLock), read the file as it is now
 * (another shard may have saved since this run started), merge this run's entries into it
 * (baseline.ts mergeBaseline: the checked cases' entries replaced, every other kept) and write it
 * atomically. Two CI shards saving to one file at once both keep their entries.
 */
import { statSync } from 'node:fs';
import { mergeBaseline, parseBaseline, type Baseline, type BaselineMerge } from '../baseline.js';
import { readBoundedText } from '../io/json.js';
import { withLock, writeAtomic } from '../io/write.js';
import type { RunSummary } from '../result.js';

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Reads a baseline file within the bounds of io/json.ts; undefined when there is none yet. */
export function readBaselineFile(path: string): ReturnType<typeof parseBaseline> | undefined {
  return exists(path) ? parseBaseline(readBoundedText(path, 'baseline'), path) : undefined;
}

export async function saveBaselineFile(path: string, summary: RunSummary, lockTimeoutMs?: number): Promise<BaselineMerge> {
  return withLock(path, () => {
    const merged = mergeBaseline(readBaselineFile(path), summary);
    writeAtomic(path, `${JSON.stringify(merged.baseline satisfies Baseline, null, 2)}\n`);
    return merged;
  }, lockTimeoutMs);
}
