/**
 * --format table (the default): per case, the inferred GRU config, one row per check, the
 * tolerances and where they came from, warnings and baseline verdicts; for several cases a closing
 * "N passed, M failed" line. A pure function of the result: colour is an option, not read from
 * the terminal here. Text from files goes through `term` (control characters shown as escapes),
 * so a name cannot clear the screen or print a green "ALL PASS" of its own.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import utils from 'cli-table3/src/utils.js';
import type { CaseResult } from '../result.js';
import type { CheckResult } from '../result.js';
import type { RunSummary } from '../result.js';
import { fmtIndex, shapeInParens, pct, sci } from './format.js';
import { baselineTexts, configText, countsText, criterionText, detailsText, fmtCosine, paddedText, presetText, toleranceText, warningTexts } from './describe.js';
import { escapeControls as term } from '../io/text.js';
import { checkLabel, histogramLine, sparklineLine } from './sparkline.js';
import { DEFAULT_ERROR_QUANTILE } from '../compare/stats.js';

export interface TableOptions {
  /** chalk colour level: 0 none, 1 basic, 2 256, 3 truecolor. */
  colorLevel: 0 | 1 | 2 | 3;
  /**
   * Columns to fit in (the CLI: the terminal's width, else COLUMNS, else 100). Below the full
   * table's width the table drops columns, then becomes one block per check; other lines wrap.
   * Default: no limit.
   */
  width?: number | undefined;
  /** Per case (by index): a command to try next, shown at the end of its block (the CLI: diagnose). */
  next?: readonly (string | undefined)[] | undefined;
}

type Column = 'tensor' | 'shape' | 'mismatched' | 'maxAbs' | 'maxRel' | 'stats' | 'relL2' | 'cosine' | 'atol' | 'first' | 'result';
const HEAD: Record<Column, (q: string) => string> = {
  tensor: () => 'tensor', shape: () => 'shape', mismatched: () => 'mismatched', maxAbs: () => 'max abs err [at]', maxRel: () => 'max rel err [at]',
  stats: (q) => `abs err mean / median / ${q}`, relL2: () => 'rel L2', cosine: () => 'cosine', atol: () => 'atol needed', first: () => 'first bad step', result: () => 'result',
};
/** The table's layouts, widest first; each keeps the columns that decide and locate a failure. */
const LAYOUTS: Column[][] = [
  ['tensor', 'shape', 'mismatched', 'maxAbs', 'maxRel', 'stats', 'relL2', 'cosine', 'atol', 'first', 'result'],
  ['tensor', 'shape', 'mismatched', 'maxAbs', 'stats', 'first', 'result'],
  ['tensor', 'shape', 'mismatched', 'maxAbs', 'relL2', 'first', 'result'],
  ['tensor', 'mismatched', 'maxAbs', 'first', 'result'],
  ['tensor', 'mismatched', 'maxAbs', 'result'],
];

function checkCells(k: CheckResult, ch: ChalkInstance): Record<Column, string> {
  const verdict = k.pass ? ch.green('PASS') : ch.red.bold('FAIL');
  const first = k.firstMismatchStep === null ? (k.tensor === 'output' ? '—' : '') : String(k.firstMismatchStep);
  if (k.problem) return { tensor: checkLabel(k), shape: shapeInParens(k.shape), mismatched: ch.red(term(k.problem)), maxAbs: '', maxRel: '', stats: '', relL2: '', cosine: '', atol: '', first: '', result: verdict };
  const mism = `${k.mismatched}/${k.total} (${pct(k.mismatched, k.total)})`;
  const nonFinite = k.nonFiniteMismatched > 0 ? ch.yellow(` +${k.nonFiniteMismatched} NaN/inf`) : '';
  // With a statistic criterion the count is for information: red only when it decides.
  const decides = !k.checkErrorStat || k.checkErrorStat === 'elemwise';
  return {
    tensor: checkLabel(k),
    shape: shapeInParens(k.shape),
    mismatched: k.mismatched > 0 && decides ? ch.red(mism) : mism,
    maxAbs: `${sci(k.maxAbsError)} ${ch.dim(fmtIndex(k.maxAbsIndex))}${nonFinite}`,
    maxRel: `${sci(k.maxRelError)} ${ch.dim(fmtIndex(k.maxRelIndex))}`,
    stats: `${sci(k.meanAbsError)} / ${sci(k.medianAbsError)} / ${sci(k.quantileAbsError)}`,
    relL2: sci(k.relL2),
    cosine: fmtCosine(k.cosine),
    atol: k.requiredAtol === null ? 'none' : sci(k.requiredAtol),
    first,
    result: verdict,
  };
}

/** Columns a line takes on a terminal: cli-table3's own measure (colour codes none, wide characters two). */
export const visibleWidth = (s: string): number => utils.strlen(s);

/**
 * `line` broken at spaces into lines of at most `width` columns, continuation lines indented two
 * more than the line's own indent. A word longer than the room stays whole on a line of its own.
 */
export function wrapLine(line: string, width: number | undefined): string[] {
  if (width === undefined || visibleWidth(line) <= width) return [line];
  const indent = /^ */.exec(line)![0];
  const words = line.slice(indent.length).split(' ');
  const out: string[] = [];
  let cur = indent;
  let curWidth = indent.length;
  const next = `${indent}  `;
  for (const w of words) {
    const ww = visibleWidth(w);
    const sep = cur.trim() === '' ? 0 : 1;
    if (curWidth + sep + ww > width && cur.trim() !== '') {
      out.push(cur);
      cur = next + w;
      curWidth = next.length + ww;
    } else {
      cur += (sep ? ' ' : '') + w;
      curWidth += sep + ww;
    }
  }
  out.push(cur);
  return out;
}

/** The checks as a table of `cols`, indented by two. */
function checksTable(checks: CheckResult[], ch: ChalkInstance, cols: Column[], q: string): string {
  const table = new Table({
    head: cols.map((c) => HEAD[c](q)),
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    // no rule between body rows: two or three rows read better without
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const k of checks) {
    const cells = checkCells(k, ch);
    table.push(cols.map((c) => cells[c]));
  }
  return table.toString().replace(/^/gm, '  ');
}

/** One block per check, for terminals too narrow for any table: the verdict, then every figure. */
function checkBlocks(checks: CheckResult[], ch: ChalkInstance, q: string, cosine: boolean, width: number): string[] {
  const lines: string[] = [];
  for (const k of checks) {
    const x = checkCells(k, ch);
    lines.push(`  ${x.tensor}: ${x.result}`);
    const facts = k.problem
      ? [`shape ${x.shape}`, x.mismatched]
      : [`shape ${x.shape}`, `mismatched ${x.mismatched}`, `max abs err ${x.maxAbs}`, `max rel err ${x.maxRel}`, `abs err mean / median / ${q} ${x.stats}`, `rel L2 ${x.relL2}`, ...(cosine ? [`cosine ${x.cosine}`] : []), `atol needed ${x.atol}`, ...(x.first ? [`first bad step ${x.first}`] : [])];
    lines.push(...wrapLine(`    ${facts.join('; ')}`, width));
  }
  return lines;
}

/** @internal (takes a chalk instance: not part of the published types) */
export function renderCase(c: CaseResult, ch: ChalkInstance, width?: number): string {
  // The table (one multi-line entry) is fitted already; every other line wraps.
  return renderCaseLines(c, ch, width).flatMap((l) => (l.includes('\n') ? [l] : wrapLine(l, width))).join('\n');
}

function renderCaseLines(c: CaseResult, ch: ChalkInstance, width: number | undefined): string[] {
  const lines: string[] = [ch.bold(term(c.case))];
  if (c.error !== undefined) {
    lines.push(`  ${ch.red('ERROR')} ${term(c.error)}`);
    return lines;
  }
  lines.push(`  ${term(configText(c))}`, `  ${ch.dim(term(detailsText(c)))}`);
  for (const w of warningTexts(c)) lines.push(`  ${ch.yellow('warning:')} ${term(w)}`);
  for (const n of c.notes ?? []) lines.push(`  ${ch.dim(`note: ${term(n)}`)}`);
  // The cosine column only where a check is held to one: next to rel L2 it is nearly 1 - relL2²/2.
  const cosine = c.checks.some((k) => k.minCosine !== undefined);
  const q = `q${c.checks[0]?.errorQuantile ?? DEFAULT_ERROR_QUANTILE}`;
  // The widest layout that fits; else one block per check.
  let fitted: string | undefined;
  for (const cols of LAYOUTS) {
    const t = checksTable(c.checks, ch, cols.filter((x) => x !== 'cosine' || cosine), q);
    if (width === undefined || Math.max(...t.split('\n').map(visibleWidth)) <= width) {
      fitted = t;
      break;
    }
  }
  if (fitted !== undefined) lines.push(fitted);
  else lines.push(...checkBlocks(c.checks, ch, q, cosine, width!));
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
  return lines;
}

export function renderTable(s: RunSummary, o: TableOptions): string {
  const ch = new Chalk({ level: o.colorLevel });
  const parts = s.cases.map((c, i) => {
    const block = renderCase(c, ch, o.width);
    const next = o.next?.[i];
    if (next === undefined) return block;
    // A command to paste stays on one line: after the words when it fits, else on a line of its own.
    const line = `  to name the porting mistake, try: ${term(next)}`;
    return `${block}\n${o.width === undefined || visibleWidth(line) <= o.width ? line : `  to name the porting mistake, try:\n    ${term(next)}`}`;
  });
  let out = parts.join('\n\n') + '\n';
  if (s.cases.length > 1 || s.shard) out += `\n${wrapLine(countsText(s), o.width).join('\n')}\n`;
  return out;
}
