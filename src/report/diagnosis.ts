/**
 * Renderers for `diagnose`: the decisive check(s), then the variants that explain the tensors under
 * test, best first, each with its fix; when none does, the closest few, marked as not matching.
 */
import { Chalk } from 'chalk';
import type { CaseResult, DiagnosisEntry, DiagnosisReport } from '../result.js';
import { summarize } from '../summary.js';
import { sci } from './format.js';
import { renderCase, wrapLine } from './table.js';
import { escapeControls as term } from '../io/text.js';

export function renderDiagnosisTable(r: CaseResult, o: { colorLevel: 0 | 1 | 2 | 3; width?: number | undefined }): string {
  const ch = new Chalk({ level: o.colorLevel });
  const lines = [renderCase(r, ch, o.width)];
  const under = r.candidate ? `the candidate (${term(r.candidate)})` : 'the expected tensors';
  const d = r.diagnosis ?? [];
  if (r.pass) {
    lines.push(ch.green(`diagnosis: ${under} ${r.candidate ? 'matches' : 'match'} PyTorch's GRU; nothing to diagnose`));
  } else if (r.checks.some((k) => k.problem)) {
    lines.push(ch.yellow(`diagnosis: shapes disagree, so no GRU mistake is tried: ${term(r.checks.find((k) => k.problem)!.problem!)}`));
  } else {
    if (r.where) lines.push(`where: ${term(r.where.summary)}`);
    const matching = d.filter((e) => e.verdict === 'matches');
    const likely = d.filter((e) => e.verdict === 'likely');
    const closest = d.filter((e) => e.verdict === 'closest');
    const item = (e: DiagnosisEntry, i: number, note: string): void => {
      lines.push(`  ${i + 1}. ${ch.bold(e.variant)}  ${ch.dim(`(${note})`)}`);
      lines.push(`     fix: ${e.fix}`);
    };
    if (matching.length > 0) {
      const what = matching.length > 1 ? `${matching.length} known porting mistakes (each alone) reproduce` : matching[0]!.variant.includes('+') ? 'two known porting mistakes together reproduce' : 'one known porting mistake reproduces';
      lines.push(ch.bold(`diagnosis: ${what} ${under}:`));
      matching.forEach((e, i) => item(e, i, `max abs diff ${sci(e.maxAbsError)}`));
    }
    if (likely.length > 0) {
      lines.push(ch.bold(`diagnosis: ${matching.length > 0 ? 'also likely' : 'likely'}: ${under} err${r.candidate ? 's' : ''} the way this emulated precision does (size and spread of the error; an emulation cannot match exactly):`));
      likely.forEach((e, i) => item(e, i, `max abs diff ${sci(e.maxAbsError)} from the emulation`));
    }
    if (matching.length === 0 && likely.length === 0) {
      if (closest.length > 0) {
        lines.push(ch.yellow(`diagnosis: no known porting mistake reproduces ${under}; these explain most of the error (max abs diff at most a tenth of the port's own):`));
        closest.slice(0, 3).forEach((e, i) => item(e, i, `max abs diff ${sci(e.maxAbsError)}, not within tolerance`));
      } else {
        lines.push(ch.yellow(`diagnosis: no known porting mistake explains ${under}: the localisation above is what is known`));
      }
    }
  }
  return `${lines.flatMap((l, i) => (i === 0 ? [l] : wrapLine(l, o.width))).join('\n')}\n`;
}

export function renderDiagnosisJson(r: CaseResult): string {
  const s = summarize([r]);
  const doc: DiagnosisReport = {
    pass: r.pass,
    case: r.case,
    ...(r.candidate ? { candidate: r.candidate } : {}),
    config: r.config,
    checks: r.checks.map(({ stepMaxAbs: _s, errorMap: _m, ...k }) => k),
    ...(r.where ? { where: r.where } : {}),
    diagnosis: (r.diagnosis ?? []).map((e) => ({ ...e, maxAbsError: Number.isFinite(e.maxAbsError) ? e.maxAbsError : null })),
    summary: s.summary,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
