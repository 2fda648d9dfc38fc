/**
 * The result of a whole run (one or several cases) and the one pure function that maps it to an
 * exit code: 0 every check passed, 1 some check failed, 2 some case could not be checked (usage
 * or input error) — 2 wins over 1 so a broken input is never mistaken for a mere mismatch.
 */
import type { CaseResult, RunSummary } from './result.js';

export function summarize(cases: CaseResult[]): RunSummary {
  const errors = cases.filter((c) => c.error !== undefined).length;
  const passed = cases.filter((c) => c.error === undefined && c.pass).length;
  const failed = cases.length - errors - passed;
  return { pass: errors === 0 && failed === 0, summary: { cases: cases.length, passed, failed, errors }, cases };
}

export const EXIT_PASS = 0;
export const EXIT_MISMATCH = 1;
export const EXIT_INPUT_ERROR = 2;

export function exitCode(s: RunSummary): number {
  if (s.summary.errors > 0) return EXIT_INPUT_ERROR;
  return s.summary.failed > 0 ? EXIT_MISMATCH : EXIT_PASS;
}
