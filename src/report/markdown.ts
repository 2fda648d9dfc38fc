/**
 * --format markdown: GitHub-flavoured markdown for a pull-request comment or $GITHUB_STEP_SUMMARY.
 * Owns that renderer and the plain-text descriptions of a case (GRU config line, tolerance line,
 * one-line mismatch summary) that the junit and html renderers reuse, so the three say the same
 * thing in the same words. (table.ts keeps its own copies of the config/tolerance lines; they
 * could move to format.ts together.)
 *
 * Everything user-controlled (case paths, error messages) goes through mdText/mdCell: GitHub
 * renders inline HTML and markdown in comments, so a path like `<img src=x onerror=...>.npz` or
 * `a|b.npz` must come out as text and must not split a table row.
 */
import type { CaseResult, DiagnosisEntry } from '../result.js';
import type { CheckResult } from '../result.js';
import type { RunSummary } from '../result.js';
import { fmtIndex, fmtShape, num, pct, sci } from './format.js';
import { histogramParts, sparklineParts, tensorName } from './sparkline.js';
import { baselineTexts, configText, criterionText, detailsText, fmtCosine, paddedText, presetSources, presetText, toleranceText, warningTexts } from './describe.js';
import { DEFAULT_ERROR_QUANTILE } from '../compare/stats.js';
import { escapeControls } from '../io/text.js';

// ---------------------------------------------------------------------------------------------
// Shared plain-text descriptions (no markup; each renderer escapes them its own way).

/**
 * One line saying why a check failed (or what it measured): mismatched/total, the max abs error and
 * where, the atol that would pass, the tolerances in force, the first bad step. Used as the JUnit
 * failure message, so it must stand alone.
 */
export function mismatchText(k: CheckResult): string {
  if (k.problem) return k.baseline?.reason ? `${k.problem}; ${k.baseline.reason}` : k.problem;
  const crit = criterionText(k);
  const parts = crit ? [crit, `${k.mismatched}/${k.total} elements outside isclose (${pct(k.mismatched, k.total)})`] : [`${k.mismatched}/${k.total} mismatched (${pct(k.mismatched, k.total)})`];
  if (k.maxAbsIndex) parts.push(`max abs error ${sci(k.maxAbsError)} at ${fmtIndex(k.maxAbsIndex)}`);
  if (k.nonFiniteMismatched > 0) parts.push(`${k.nonFiniteMismatched} NaN/inf mismatch(es)`);
  parts.push(k.requiredAtol === null ? 'no atol can pass (NaN/inf)' : `needs atol >= ${sci(k.requiredAtol)}`);
  parts.push(`tolerance rtol=${num(k.rtol)} atol=${num(k.atol)}`);
  if (k.firstMismatchStep !== null) parts.push(`first bad step ${k.firstMismatchStep}`);
  if (k.baseline?.reason) parts.push(`baseline: ${k.baseline.reason}`);
  return parts.join('; ');
}

/** `N passed, M failed[, K errors]`. */
export function countsText(s: RunSummary): string {
  const { passed, failed, errors } = s.summary;
  const shard = s.shard ? ` (shard ${s.shard.index}/${s.shard.count}: ${s.summary.cases} of ${s.shard.total} cases)` : '';
  return `${passed} passed, ${failed} failed${errors > 0 ? `, ${errors} error${errors === 1 ? '' : 's'}` : ''}${shard}`;
}

/** `gate-order:zrn matches, max abs err 0` — the verdict part of a diagnosis line. */
export function diagnosisVerdict(d: DiagnosisEntry): string {
  return `${d.matches ? 'matches' : 'does not match'}, max abs err ${sci(d.maxAbsError)}`;
}

// ---------------------------------------------------------------------------------------------
// Markdown escaping.

/**
 * Inline text: control characters are shown as escapes (\x1b, \x07: a terminal-bound log must not
 * be rewritten by an ESC sequence, and they are invisible otherwise), HTML-significant characters become entities (GitHub renders inline HTML), inline
 * markdown punctuation gets a backslash (`*`, `_`, `~`, backticks, `[..]` links, `|` cells);
 * a line break is one of those controls (it would end a table row or a list item). Line-start syntax
 * (`#`, `-`, `1.`) needs no escape: our callers never put user text at the start of a line.
 */
export function mdText(s: string): string {
  return escapeControls(s)
    .replace(/[\\`*_[\]|~]/g, (m) => `\\${m}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A table cell of our own (non-user) text: only `|` and newlines can break the row. */
export const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

// ---------------------------------------------------------------------------------------------
// Renderer.

function head(q: string, criterion: boolean): string[] {
  return ['tensor', 'subject vs against', 'shape', 'mismatched', 'max abs err [index]', `abs err median / ${q}`, `rel err median / ${q}`, 'rel L2', 'cosine', 'atol needed', 'first bad step', ...(criterion ? ['criterion'] : []), 'result'];
}

function row(k: CheckResult, criterion: boolean): string[] {
  const verdict = k.pass ? '✅ pass' : '❌ FAIL';
  const vs = `${k.subject} vs ${k.against}`;
  if (k.problem) return [tensorName(k), vs, fmtShape(k.shape), mdText(k.problem), '', '', '', '', '', '', '', ...(criterion ? [''] : []), verdict];
  const nonFinite = k.nonFiniteMismatched > 0 ? ` (+${k.nonFiniteMismatched} NaN/inf)` : '';
  return [
    tensorName(k),
    vs,
    fmtShape(k.shape),
    `${k.mismatched}/${k.total} (${pct(k.mismatched, k.total)})${nonFinite}`,
    `${sci(k.maxAbsError)} ${fmtIndex(k.maxAbsIndex)}`.trim(),
    `${sci(k.medianAbsError)} / ${sci(k.quantileAbsError)}`,
    `${sci(k.medianRelError)} / ${sci(k.quantileRelError)}`,
    sci(k.relL2),
    fmtCosine(k.cosine),
    k.requiredAtol === null ? 'none' : sci(k.requiredAtol),
    k.firstMismatchStep === null ? (k.tensor === 'output' ? '—' : '') : String(k.firstMismatchStep),
    ...(criterion ? [criterionText(k)] : []),
    verdict,
  ].map(mdCell);
}

function renderCaseMd(c: CaseResult): string {
  const icon = c.error !== undefined ? '⚠️' : c.pass ? '✅' : '❌';
  const out: string[] = [`### ${icon} ${mdText(c.case)}`, ''];
  if (c.error !== undefined) {
    out.push(`**error**${c.errorCode ? ` (${mdText(c.errorCode)})` : ''}: ${mdText(c.error)}`, '');
    return out.join('\n');
  }
  // Config and details are our own text, but the prefix inside detailsText comes from the dump.
  // configText is all ours (no backticks), so a code span is safe; details carry the dump's prefix.
  out.push(`\`${configText(c)}\`  `, mdText(detailsText(c)), '');
  for (const w of warningTexts(c)) out.push(`> ⚠️ **warning:** ${mdText(w)}`, '');
  const criterion = c.checks.some((k) => !k.problem && criterionText(k) !== '');
  const h = head(`q${c.checks[0]?.errorQuantile ?? DEFAULT_ERROR_QUANTILE}`, criterion);
  out.push(`| ${h.join(' | ')} |`, `|${h.map(() => ' --- ').join('|')}|`);
  for (const k of c.checks) out.push(`| ${row(k, criterion).join(' | ')} |`);
  out.push('');
  const padded = paddedText(c);
  if (padded) out.push(`**padded steps:** ${mdText(padded)}`, '');
  const preset = presetText(c);
  if (preset) {
    out.push(`**${mdText(preset)}**`, '');
    for (const line of presetSources(c)) out.push(`- ${mdText(line)}`);
    out.push('');
  }
  out.push(`tolerance: ${mdText(toleranceText(c))}`, '');
  // The failing checks' |error| by octave, in a code span so the blocks keep their width.
  for (const k of c.checks) {
    const p = k.pass ? null : histogramParts(k);
    if (p) out.push(`${mdText(p.label)} \\|err\\| by octave: \`${p.blocks}\` ${mdText(p.note)}`, '');
  }
  for (const b of baselineTexts(c)) out.push(`❌ **baseline:** ${mdText(b)}`, '');
  // The sparkline goes in a code span so the block characters keep a monospaced width.
  for (const k of c.checks) {
    const p = k.tensor === 'output' ? sparklineParts(k) : null;
    if (p) out.push(`${mdText(p.label)} \\|err\\| over time: \`${p.blocks}\` ${mdText(p.note)}`, '');
  }
  if (c.diagnosis && c.diagnosis.length > 0) {
    out.push('**Diagnosis** (porting mistakes re-enacted, best first):', '');
    c.diagnosis.forEach((d, i) => {
      out.push(`${i + 1}. ${d.matches ? '✅' : '▫️'} **${mdText(d.variant)}** — ${mdText(d.fix)} _(${mdText(diagnosisVerdict(d))})_`);
    });
    out.push('');
  }
  return out.join('\n');
}

export function renderMarkdown(s: RunSummary): string {
  const head = `## ${s.pass ? '✅' : '❌'} gru-check: ${countsText(s)}`;
  return `${[head, '', ...s.cases.map(renderCaseMd)].join('\n').trimEnd()}\n`;
}
