/**
 * --format table (the default): per case, the inferred GRU config, one row per check, the
 * tolerances and where they came from, warnings and baseline verdicts; for several cases a closing
 * "N passed, M failed" line. A pure function of the result: colour is an option, not read from
 * the terminal here. Text from files goes through `term` (control characters shown as escapes),
 * so a name cannot clear the screen or print a green "ALL PASS" of its own.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { CaseResult } from '../check.js';
import type { CheckResult } from '../compare/isclose.js';
import type { RunSummary } from '../summary.js';
import { fmtIndex, fmtShape, pct, sci } from './format.js';
import { baselineTexts, configText, detailsText, toleranceText, warningTexts } from './describe.js';
import { escapeControls as term } from '../io/text.js';
import { sparklineLine } from './sparkline.js';
import { countsText } from './markdown.js';

export interface TableOptions {
  /** chalk colour level: 0 none, 1 basic, 2 256, 3 truecolor. */
  colorLevel: 0 | 1 | 2 | 3;
}

function checkRow(k: CheckResult, ch: ChalkInstance): Table.Cell[] {
  const verdict = k.pass ? ch.green('PASS') : ch.red.bold('FAIL');
  const name = k.subject === 'reference' && k.against === 'expected' ? k.tensor : `${k.tensor} (${k.subject} vs ${k.against})`;
  if (k.problem) return [name, fmtShape(k.shape), ch.red(term(k.problem)), '', '', '', '', '', verdict];
  const mism = `${k.mismatched}/${k.total} (${pct(k.mismatched, k.total)})`;
  const nonFinite = k.nonFiniteMismatched > 0 ? ch.yellow(` +${k.nonFiniteMismatched} NaN/inf`) : '';
  return [
    name,
    fmtShape(k.shape),
    k.mismatched > 0 ? ch.red(mism) : mism,
    `${sci(k.maxAbsError)} ${ch.dim(fmtIndex(k.maxAbsIndex))}${nonFinite}`,
    `${sci(k.maxRelError)} ${ch.dim(fmtIndex(k.maxRelIndex))}`,
    sci(k.meanAbsError),
    k.requiredAtol === null ? 'none' : sci(k.requiredAtol),
    k.firstMismatchStep === null ? (k.tensor === 'output' ? '—' : '') : String(k.firstMismatchStep),
    verdict,
  ];
}

/** @internal (takes a chalk instance: not part of the published types) */
export function renderCase(c: CaseResult, ch: ChalkInstance): string {
  const lines: string[] = [ch.bold(term(c.case))];
  if (c.error !== undefined) {
    lines.push(`  ${ch.red('ERROR')} ${term(c.error)}`);
    return lines.join('\n');
  }
  lines.push(`  ${term(configText(c))}`, `  ${ch.dim(term(detailsText(c)))}`);
  for (const w of warningTexts(c)) lines.push(`  ${ch.yellow('warning:')} ${term(w)}`);
  for (const n of c.notes ?? []) lines.push(`  ${ch.dim(`note: ${term(n)}`)}`);
  const table = new Table({
    head: ['tensor', 'shape', 'mismatched', 'max abs err [at]', 'max rel err [at]', 'mean abs err', 'atol needed', 'first bad step', 'result'],
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    // no rule between body rows: two or three rows read better without
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const k of c.checks) table.push(checkRow(k, ch));
  lines.push(table.toString().replace(/^/gm, '  '));
  // Drift at a glance: one sparkline of max |err| per time step for each output check.
  for (const k of c.checks) {
    const spark = k.tensor === 'output' ? sparklineLine(k) : null;
    if (spark !== null) lines.push(`  ${ch.dim(spark)}`);
  }
  lines.push(`  tolerance: ${toleranceText(c)}`);
  const zero = c.checks.filter((k) => k.zeroExpected > 0);
  for (const k of zero) lines.push(`  ${ch.dim(`note: ${k.tensor}: ${k.zeroExpected} element(s) with expected value 0 and a non-zero difference are left out of max rel err`)}`);
  for (const b of baselineTexts(c)) lines.push(`  ${ch.red('baseline:')} ${term(b)}`);
  lines.push(`  ${c.pass ? ch.green('PASS') : ch.red.bold('FAIL')}`);
  return lines.join('\n');
}

export function renderTable(s: RunSummary, o: TableOptions): string {
  const ch = new Chalk({ level: o.colorLevel });
  const parts = s.cases.map((c) => renderCase(c, ch));
  let out = parts.join('\n\n') + '\n';
  if (s.cases.length > 1 || s.shard) out += `\n${countsText(s)}\n`;
  return out;
}
