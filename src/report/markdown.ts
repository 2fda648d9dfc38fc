/**
 * --format markdown: GitHub-flavoured markdown for a pull-request comment or $GITHUB_STEP_SUMMARY.
 * The plain-text descriptions every renderer shares (config line, tolerance line, mismatch
 * summary, counts) are in describe.ts, so all outputs say the same thing in the same words.
 *
 * Everything user-controlled (case paths, error messages) goes through mdText/mdCell: GitHub
 * renders inline HTML and markdown in comments, so a path like `<img src=x onerror=...>.npz` or
 * `a|b.npz` must come out as text and must not split a table row.
 */
import type { CaseResult, DiagnosisEntry } from '../result.js';
import type { CheckResult } from '../result.js';
import type { RunSummary } from '../result.js';
import { fmtIndex, shapeInParens, num, pct, sci } from './format.js';
import { histogramParts, sparklineParts, tensorName } from './sparkline.js';
import { baselineTexts, configText, countsText, criterionText, detailsText, diagnosisVerdict, fmtCosine, mismatchText, paddedText, presetSources, presetText, toleranceText, warningTexts } from './describe.js';
import { DEFAULT_ERROR_QUANTILE } from '../compare/stats.js';
import { escapeControls } from '../io/text.js';

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
  if (k.problem) return [tensorName(k), vs, shapeInParens(k.shape), mdText(k.problem), '', '', '', '', '', '', '', ...(criterion ? [''] : []), verdict];
  const nonFinite = k.nonFiniteMismatched > 0 ? ` (+${k.nonFiniteMismatched} NaN/inf)` : '';
  return [
    tensorName(k),
    vs,
    shapeInParens(k.shape),
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
