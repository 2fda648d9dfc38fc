/**
 * Baselines for scripted regression checks of a port over time: `--save-baseline` records each
 * check's max abs error; `--baseline` fails any check whose error grew past `factor` × the recorded
 * one. Pure functions over results; the CLI reads and writes the file.
 *
 * Entries are keyed by the case's fingerprint (a SHA-256 of its arrays, `fingerprint`), with the path
 * kept as a label: `cases/c.npz` typed from one folder and `c.npz` from another are the same case,
 * and an edited case is a different one. A case (or a check) with no entry is never a silent pass:
 * it fails with the reason "no baseline entry". A recorded error below the float32 machine epsilon
 * (2^-23 ≈ 1.19e-7; e.g. 0 for a bit-exact port) counts as that epsilon, so a port may still move
 * by float32 rounding without failing.
 *
 * Version 1 files (keyed by the path as typed) are still read, by path, with a warning to re-save.
 *
 * Saving merges (mergeBaseline): the entries of the cases a run checked are replaced, all others
 * kept, so shards saving to one file (under the CLI's lock) and a run with an unreadable case lose
 * nothing.
 */
import type { BaselineVerdict, CaseBaseline, CaseResult, CheckResult, RunSummary } from './result.js';
import { createRequire } from 'node:module';
import { GruCheckError } from './errors.js';
import type { ArrayBundle } from './io/types.js';
import { parseBoundedJson } from './io/json.js';
import { summarize } from './summary.js';

export interface BaselineEntry {
  /** The case's path when it was recorded: a label for people, not the key. */
  label: string;
  /** check key (`tensor:subject:against`) -> max abs error */
  checks: Record<string, number>;
}

export interface Baseline {
  gruCheckBaseline: 2;
  /** fingerprint -> entry */
  cases: Record<string, BaselineEntry>;
}

interface BaselineV1 {
  gruCheckBaseline: 1;
  cases: Record<string, Record<string, number>>;
}

export const ZERO_FLOOR = 2 ** -23;

export const checkKey = (k: CheckResult): string => `${k.tensor}:${k.subject}:${k.against}`;
const checkName = (k: CheckResult): string => `${k.tensor} (${k.subject} vs ${k.against})`;

/**
 * SHA-256 over every array of the bundles (names sorted; name, dtype, shape and bytes of each):
 * the same case however its path is spelled, a different one as soon as a value changes.
 */
export function fingerprint(bundles: ArrayBundle[]): string {
  // node:crypto is loaded on a baseline's first use: a run without baselines never pays for it.
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const h = createHash('sha256');
  for (const b of bundles) {
    for (const name of [...b.arrays.keys()].sort()) {
      const a = b.arrays.get(name)!;
      h.update(`${name}\u0000${a.dtype}\u0000${a.shape.join(',')}\u0000`);
      if (Array.isArray(a.data)) h.update(JSON.stringify(a.data));
      else h.update(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
    }
  }
  return h.digest('hex');
}

export function makeBaseline(s: RunSummary): Baseline {
  const cases: Baseline['cases'] = {};
  for (const c of s.cases) {
    if (c.error !== undefined) continue;
    if (!c.fingerprint) throw new GruCheckError('USAGE', `${c.case}: no fingerprint to key the baseline entry by (check with fingerprint: true)`);
    const checks: Record<string, number> = {};
    for (const k of c.checks) if (k.maxAbsError !== null) checks[checkKey(k)] = k.maxAbsError;
    cases[c.fingerprint] = { label: c.case, checks };
  }
  return { gruCheckBaseline: 2, cases };
}

/** A recorded error: finite, >= 0 and below float64's largest (a baseline of Infinity would pass any drift). */
const nonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isChecks = (m: unknown): m is Record<string, number> => !!m && typeof m === 'object' && !Array.isArray(m) && Object.values(m).every(nonNegative);
const isEntry = (e: unknown): e is BaselineEntry => !!e && typeof e === 'object' && !Array.isArray(e) && typeof (e as BaselineEntry).label === 'string' && isChecks((e as BaselineEntry).checks);

/**
 * Validates a baseline file's text: bounded JSON (io/json.ts: depth, finite numbers, no
 * `__proto__` keys, errors by line and column), then the shape. Says what is wrong by key, never
 * quoting the file: the path may name a file that is not a baseline at all.
 */
export function parseBaseline(text: string, file: string): Baseline | BaselineV1 {
  const doc = parseBoundedJson(text, 'baseline', file);
  const notOne = (why: string): GruCheckError => new GruCheckError('BAD_CONFIG', `not a gru-check baseline: ${why}`, { file, hint: 'write one with --save-baseline' });
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw notOne('expected {"gruCheckBaseline": 2, "cases": {fingerprint: {"label", "checks"}}}');
  const b = doc as { gruCheckBaseline?: unknown; cases?: unknown };
  if (b.gruCheckBaseline !== 1 && b.gruCheckBaseline !== 2) throw notOne('expected {"gruCheckBaseline": 2, "cases": {fingerprint: {"label", "checks"}}}');
  const cases = b.cases;
  if (!cases || typeof cases !== 'object' || Array.isArray(cases)) throw notOne('"cases" must be an object');
  for (const [key, entry] of Object.entries(cases)) {
    const ok = b.gruCheckBaseline === 2 ? isEntry(entry) : isChecks(entry);
    if (!ok) {
      const n = Object.keys(cases).indexOf(key);
      throw notOne(`cases entry ${n + 1}: expected ${b.gruCheckBaseline === 2 ? '{"label": string, "checks": {check: error}}' : '{check: error}'} with every error a finite number >= 0`);
    }
  }
  return doc as Baseline | BaselineV1;
}

/** What merging a run into a baseline did. */
export interface BaselineMerge {
  baseline: Baseline;
  /** Entries this run wrote (new or replaced). */
  updated: number;
  /** Entries kept from the file as they were. */
  kept: number;
  /** Cases of this run that could not be checked: their old entries (if any) are kept, unchanged. */
  notChecked: string[];
  /** The file was a version 1 baseline (keyed by path): its entries could not be carried over. */
  droppedV1: number;
}

/**
 * `--save-baseline` onto an existing file: the entries of the cases this run checked are replaced,
 * every other entry is kept (other shards' cases, cases this run skipped or could not check).
 */
export function mergeBaseline(old: Baseline | BaselineV1 | undefined, s: RunSummary): BaselineMerge {
  const fresh = makeBaseline(s);
  const cases: Baseline['cases'] = {};
  let kept = 0;
  if (old?.gruCheckBaseline === 2) {
    for (const [fp, e] of Object.entries(old.cases)) {
      if (!(fp in fresh.cases)) kept++;
      cases[fp] = e;
    }
  }
  for (const [fp, e] of Object.entries(fresh.cases)) cases[fp] = e;
  return {
    baseline: { gruCheckBaseline: 2, cases },
    updated: Object.keys(fresh.cases).length,
    kept,
    notChecked: s.cases.filter((c) => c.error !== undefined).map((c) => c.case),
    droppedV1: old?.gruCheckBaseline === 1 ? Object.keys(old.cases).length : 0,
  };
}

function judge(k: CheckResult, recorded: number | undefined, factor: number): CheckResult {
  if (recorded === undefined) {
    const reason = `no baseline entry for ${checkName(k)}`;
    return { ...k, pass: false, baseline: { recorded: null, factor, limit: null, regressed: false, reason } };
  }
  const limit = factor * Math.max(recorded, ZERO_FLOOR);
  if (k.maxAbsError === null || k.nonFiniteMismatched > 0) {
    const reason = `${checkName(k)}: ${k.problem ?? 'NaN/inf mismatches'}, recorded max abs error ${recorded.toExponential(2)}`;
    return { ...k, pass: false, baseline: { recorded, factor, limit, regressed: true, reason } };
  }
  const regressed = k.maxAbsError > limit;
  const grew = k.maxAbsError / Math.max(recorded, ZERO_FLOOR);
  const verdict: BaselineVerdict = { recorded, factor, limit, regressed };
  if (regressed) {
    verdict.reason = `${checkName(k)}: max abs error ${k.maxAbsError.toExponential(2)}, recorded ${recorded.toExponential(2)}: grew ${Number(grew.toPrecision(3))}x, allowed ${factor}x`;
  }
  return { ...k, pass: k.pass && !regressed, baseline: verdict };
}

/**
 * Judges every case against the baseline; returns a new summary. A case with no entry fails with
 * the reason "no baseline entry"; a check with no entry in a found case fails the same way.
 */
export function applyBaseline(s: RunSummary, b: Baseline | BaselineV1, factor: number): RunSummary {
  const cases = s.cases.map((c): CaseResult => {
    if (c.error !== undefined) return c;
    let entry: BaselineEntry | undefined;
    if (b.gruCheckBaseline === 2) entry = c.fingerprint ? b.cases[c.fingerprint] : undefined;
    else entry = b.cases[c.case] ? { label: c.case, checks: b.cases[c.case]! } : undefined;
    const fingerprint = c.fingerprint ?? null;
    if (!entry) {
      const reason = `no baseline entry for this case${fingerprint ? ` (fingerprint ${fingerprint.slice(0, 12)})` : ''}: record one with --save-baseline`;
      return { ...c, pass: false, baselineCase: { status: 'missing', fingerprint, reason } };
    }
    const checks = c.checks.map((k) => judge(k, entry!.checks[checkKey(k)], factor));
    return { ...c, checks, pass: checks.every((k) => k.pass), baselineCase: { status: 'found', fingerprint, label: entry.label } };
  });
  return summarize(cases);
}

/** One sentence per way the case failed its baseline, for every renderer. */
export function baselineReasons(c: CaseResult): string[] {
  const out: string[] = [];
  if (c.baselineCase?.reason) out.push(c.baselineCase.reason);
  for (const k of c.checks) if (k.baseline?.reason) out.push(k.baseline.reason);
  return out;
}
