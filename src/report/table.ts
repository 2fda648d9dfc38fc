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
import { baselineTexts, configText, criterionText, detailsText, fmtCosine, paddedText, presetText, toleranceText, warningTexts } from './describe.js';
import { escapeControls as term } from '../io/text.js';
import { checkLabel, histogramLine, sparklineLine } from './sparkline.js';
import { DEFAULT_ERROR_QUANTILE } from '../compare/stats.js';
import { countsText } from './markdown.js';

export interface TableOptions {
  /** chalk colour level: 0 none, 1 basic, 2 256, 3 truecolor. */
  colorLevel: 0 | 1 | 2 | 3;
}

function checkRow(k: CheckResult, ch: ChalkInstance, cosine: boolean): Table.Cell[] {
  const verdict = k.pass ? ch.green('PASS') : ch.red.bold('FAIL');
  const name = checkLabel(k);
  if (k.problem) return [name, fmtShape(k.shape), ch.red(term(k.problem)), '', '', '', '', ...(cosine ? [''] : []), '', '', verdict];
  const mism = `${k.mismatched}/${k.total} (${pct(k.mismatched, k.total)})`;
  const nonFinite = k.nonFiniteMismatched > 0 ? ch.yellow(` +${k.nonFiniteMismatched} NaN/inf`) : '';
  // With a statistic criterion the count is for information: red only when it decides.
  const decides = !k.checkErrorStat || k.checkErrorStat === 'elemwise';
  return [
    name,
    fmtShape(k.shape),
    k.mismatched > 0 && decides ? ch.red(mism) : mism,
    `${sci(k.maxAbsError)} ${ch.dim(fmtIndex(k.maxAbsIndex))}${nonFinite}`,
    `${sci(k.maxRelError)} ${ch.dim(fmtIndex(k.maxRelIndex))}`,
    `${sci(k.meanAbsError)} / ${sci(k.medianAbsError)} / ${sci(k.quantileAbsError)}`,
    sci(k.relL2),
    ...(cosine ? [fmtCosine(k.cosine)] : []),
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
  // The cosine column only where a check is held to one: next to rel L2 it is nearly 1 - relL2²/2.
  const cosine = c.checks.some((k) => k.minCosine !== undefined);
  const q = `q${c.checks[0]?.errorQuantile ?? DEFAULT_ERROR_QUANTILE}`;
  const table = new Table({
    head: ['tensor', 'shape', 'mismatched', 'max abs err [at]', 'max rel err [at]', `abs err mean / median / ${q}`, 'rel L2', ...(cosine ? ['cosine'] : []), 'atol needed', 'first bad step', 'result'],
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    // no rule between body rows: two or three rows read better without
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const k of c.checks) table.push(checkRow(k, ch, cosine));
  lines.push(table.toString().replace(/^/gm, '  '));
  // Drift at a glance: one sparkline of max |err| per time step for each output check.
  for (const k of c.checks) {
    const spark = k.tensor === 'output' ? sparklineLine(k) : null;
    if (spark !== null) lines.push(`  ${ch.dim(spark)}`);
  }
  // How each check decided when not by isclose alone, and for a failing one its errors by octave:
  // "a few outliers" and "everything slightly off" look different there.
  for (const k of c.checks) {
    const crit = k.problem ? '' : criterionText(k);
    if (crit) lines.push(`  ${checkLabel(k)}: ${k.pass ? crit : ch.red(crit)}`);
  }
  for (const k of c.checks) {
    const hist = k.pass ? null : histogramLine(k);
    if (hist !== null) lines.push(`  ${hist}`);
  }
  const padded = paddedText(c);
  if (padded) lines.push(`  ${ch.yellow('padded steps:')} ${padded}`);
  const preset = presetText(c);
  if (preset) lines.push(`  ${preset}`);
  lines.push(`  tolerance: ${toleranceText(c)}`);
  const zero = c.checks.filter((k) => k.zeroExpected > 0);
  for (const k of zero) lines.push(`  ${ch.dim(`note: ${checkLabel(k)}: ${k.zeroExpected} element(s) with expected value 0 and a non-zero difference are left out of max rel err`)}`);
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
