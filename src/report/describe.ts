/**
 * Plain-text descriptions of a case shared by every renderer (no markup: each renderer escapes and
 * styles them its own way), so the table, markdown, JUnit and HTML say the same thing. Text that
 * comes from a file (paths, prefixes, config keys in warnings) is in here unescaped: every caller
 * passes it through its output kind's one escaper (term, mdText, xmlText, esc).
 */
import type { CaseResult, CheckResult, DiagnosisEntry, RunSummary } from '../result.js';
import { PORT_PRESETS, type Tolerance } from '../compare/tolerance.js';
import { DEFAULT_ERROR_QUANTILE, type ErrorStat } from '../compare/stats.js';
import { baselineReasons } from '../baseline.js';
import { describeMath } from '../model/math.js';
import { fmtIndex, num, pct, sci } from './format.js';

/** `GRU(input_size=3, hidden_size=4, ..., batch_first=False (from config))`, as in the table. */
export function configText(c: CaseResult): string {
  const k = c.config;
  if (!k) return '';
  const py = (b: boolean): string => (b ? 'True' : 'False');
  const math = c.math ? c.math.map(describeMath).filter((s, i, all) => s !== '' && all.indexOf(s) === i) : [];
  const extra = math.length === 0 ? '' : `, ${math.length === 1 ? math[0] : math.map((m, d) => `${d === 0 ? 'forward' : 'reverse'}: ${m}`).join('; ')}`;
  if (k.layout === 'onnx') {
    return `ONNX GRU(input_size=${k.inputSize}, hidden_size=${k.hiddenSize}, direction=${k.bidirectional ? 'bidirectional' : c.reverseOnly ? 'reverse' : 'forward'}, linear_before_reset=${c.linearBeforeReset ? 1 : 0}, bias=${py(k.bias)}, layout=${k.batchFirst ? 1 : 0}${extra})`;
  }
  if (k.layout === 'keras') {
    return `Keras GRU(units=${k.hiddenSize}, input_dim=${k.inputSize}, reset_after=${py(c.linearBeforeReset ?? true)}, use_bias=${py(k.bias)}${extra})`;
  }
  if (k.cell) {
    const calls = k.cell.trace ? `a trace of ${k.cell.calls} call${k.cell.calls === 1 ? '' : 's'}` : 'one call';
    return `GRUCell(input_size=${k.inputSize}, hidden_size=${k.hiddenSize}, bias=${py(k.bias)}), ${calls}, ${k.cell.batched ? `batch ${k.cell.batch}` : 'unbatched'}`;
  }
  const layout = !k.batched ? 'unbatched' : `batch_first=${py(k.batchFirst)} (from ${c.layoutSource ?? '?'})`;
  return `GRU(input_size=${k.inputSize}, hidden_size=${k.hiddenSize}, num_layers=${k.numLayers}, bidirectional=${py(k.bidirectional)}, bias=${py(k.bias)}, ${layout})`;
}

/** dtype, precision, where h0 came from, prefix, lengths. */
export function detailsText(c: CaseResult): string {
  if (!c.config) return '';
  const state = c.config.cell ? 'hx' : 'h0';
  const bits = [`dtype ${c.config.dtype}`, `precision ${c.precision ?? '?'}`, `${state} ${c.h0Given ? 'from dump' : 'zeros (not in dump)'}`];
  if (c.prefix) bits.push(`prefix ${c.prefix}`);
  if (c.weightsFrom) bits.push(`weights from ${c.weightsFrom}`);
  if (c.lengths) bits.push(`lengths [${c.lengths.join(', ')}]`);
  if (c.candidate) {
    const how = [c.candidateLayout ? `read as ${c.candidateLayout}` : '', c.candidateDtype && c.candidateDtype !== c.config.dtype ? `${c.candidateDtype}` : '', c.candidateStates === 'last layer' ? 'final states of the last layer only' : ''].filter(Boolean);
    bits.push(`candidate ${c.candidate}${how.length ? ` (${how.join('; ')})` : ''}`);
  }
  return bits.join(', ');
}

/** `mean |error|`, `q0.99 of |error|`: the statistic a check's criterion takes. */
export function statName(stat: ErrorStat, q: number | undefined): string {
  return stat === 'quantile' ? `q${q ?? DEFAULT_ERROR_QUANTILE} of |error|` : `${stat} |error|`;
}

const withDefault = (src: string): string => (src.startsWith('default') ? `torch.testing.assert_close ${src}` : src);

/** One tensor's settings: `rtol=1e-3 atol=1e-5 on the mean |error| (--port-precision fp16), rel L2 <= 9.77e-4 (--port-precision fp16)`. */
function settingsText(t: Tolerance): string {
  const srcs = [t.rtolSource, t.atolSource, ...(t.checkErrorStatSource ? [t.checkErrorStatSource] : [])];
  const src = srcs.every((x) => x === srcs[0])
    ? withDefault(t.rtolSource)
    : `rtol ${withDefault(t.rtolSource)}, atol ${withDefault(t.atolSource)}${t.checkErrorStatSource ? `, statistic ${t.checkErrorStatSource}` : ''}`;
  const parts = [`rtol=${num(t.rtol)} atol=${num(t.atol)}${t.checkErrorStat ? ` on the ${statName(t.checkErrorStat, t.errorQuantile)}` : ''} (${src})`];
  if (t.maxRelL2 !== undefined) parts.push(`rel L2 <= ${num(t.maxRelL2)} (${t.maxRelL2Source})`);
  if (t.minCosine !== undefined) parts.push(`cosine >= ${t.minCosine} (${t.minCosineSource})`);
  return parts.join(', ');
}

/**
 * `rtol=1.3e-6 atol=1e-5 (torch.testing.assert_close default for float32)`, per tensor if they
 * differ, with the criterion (a statistic, distance bounds) and where each setting came from.
 */
export function toleranceText(c: CaseResult): string {
  const uniq = new Map<string, string[]>();
  for (const [tensor, t] of Object.entries(c.tolerance ?? {})) {
    const key = settingsText(t);
    uniq.set(key, [...(uniq.get(key) ?? []), tensor]);
  }
  return [...uniq.entries()].map(([k, ts]) => (uniq.size > 1 ? `${ts.join(', ')}: ${k}` : k)).join('; ');
}

/** `fp16 port: torch.testing's float16 rtol 1e-3 / atol 1e-5 on the mean |error|, ...`, or null without a preset. */
export function presetText(c: CaseResult): string | null {
  return c.portPrecision ? PORT_PRESETS[c.portPrecision].summary : null;
}

/** Where each of the preset's numbers comes from, one line each (`rtol 0.001: float16 in torch.testing...`). */
export function presetSources(c: CaseResult): string[] {
  if (!c.portPrecision) return [];
  const p = PORT_PRESETS[c.portPrecision];
  const value: Record<string, string> = { rtol: num(p.rtol), atol: num(p.atol), checkErrorStat: p.checkErrorStat, maxRelL2: p.maxRelL2 === undefined ? '' : num(p.maxRelL2), minCosine: p.minCosine === undefined ? '' : String(p.minCosine) };
  const name: Record<string, string> = { rtol: 'rtol', atol: 'atol', checkErrorStat: 'statistic', maxRelL2: 'rel L2 <=', minCosine: 'cosine >=' };
  return Object.entries(p.sources).map(([k, src]) => `${name[k]} ${value[k]}: ${src}`);
}

/** A cosine with the digits that tell it from 1: 0.999999860, 0.99999110; '—' when there is none. */
export function fmtCosine(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (x === 1) return '1';
  const gap = Math.abs(1 - x);
  const digits = Math.min(15, Math.max(4, Math.ceil(-Math.log10(gap)) + 2));
  return x.toFixed(digits);
}

/**
 * How the check's pass was decided when not by isclose alone: `mean |error| 2.55e-4 <= 5.53e-4,
 * rel L2 5.45e-4 <= 9.77e-4`; '' for a plain elementwise check.
 */
export function criterionText(k: CheckResult): string {
  const parts: string[] = [];
  const ok = (good: boolean): string => (good ? '<=' : '>');
  if (k.checkErrorStat && k.checkErrorStat !== 'elemwise') {
    const name = statName(k.checkErrorStat, k.errorQuantile);
    if (k.nonFiniteMismatched > 0) parts.push(`${name}: ${k.nonFiniteMismatched} NaN/inf mismatch(es), no statistic passes`);
    else if (k.statError !== null && k.statError !== undefined && k.statLimit !== null && k.statLimit !== undefined) {
      parts.push(`${name} ${sci(k.statError)} ${ok(k.statError <= k.statLimit)} ${sci(k.statLimit)} (atol + rtol x ${name.replace('|error|', '|expected|')} ${sci(k.statExpected)})`);
    }
  }
  if (k.maxRelL2 !== undefined) parts.push(`rel L2 ${sci(k.relL2)} ${k.relL2 !== null && k.relL2 !== undefined && k.relL2 <= k.maxRelL2 ? '<=' : '>'} ${sci(k.maxRelL2)}`);
  if (k.minCosine !== undefined) parts.push(`cosine ${fmtCosine(k.cosine)} ${k.cosine !== null && k.cosine !== undefined && k.cosine >= k.minCosine ? '>=' : '<'} ${k.minCosine}`);
  return parts.join(', ');
}

/** `|error| median 2.06e-4, q0.99 9.61e-4; rel median 4.09e-4, q0.99 1.16e-2; rel L2 5.45e-4; cosine 0.999999860`. */
export function statsText(k: CheckResult): string {
  const q = `q${k.errorQuantile ?? DEFAULT_ERROR_QUANTILE}`;
  return [
    `|error| median ${sci(k.medianAbsError)}, ${q} ${sci(k.quantileAbsError)}`,
    `relative error median ${sci(k.medianRelError)}, ${q} ${sci(k.quantileRelError)}${k.relCount !== undefined && k.relCount < k.total && !k.problem ? ` (of ${k.relCount} elements with expected != 0)` : ''}`,
    `rel L2 ${sci(k.relL2)}`,
    `cosine ${fmtCosine(k.cosine)}`,
  ].join('; ');
}


const HOLDS: Record<string, string> = {
  zeros: 'zeros',
  carried: 'the last valid output carried forward (as Keras masking does)',
  computed: "values computed past each sequence's end (as Flax's nn.RNN(seq_lengths=...) does)",
  other: 'values that are neither zeros, nor the last valid output carried forward, nor the GRU computed past the end',
};

/**
 * One sentence on the candidate's padded steps (t >= lengths[b]) when they matter: the only
 * difference (strict), or left out (--padded-steps ignore); '' otherwise.
 */
export function paddedText(c: CaseResult): string {
  const p = c.paddedSteps;
  if (!p) return '';
  const holds = HOLDS[p.holds] ?? p.holds;
  const where = `t >= lengths[b], ${p.elements} output elements`;
  if (p.mode === 'ignore') {
    return `not compared (--padded-steps ignore; ${where}): the candidate holds ${holds} there, PyTorch zeros${p.onlyDifference ? '; they are its only difference' : ''}`;
  }
  if (!p.onlyDifference) return '';
  return `the candidate's output differs from PyTorch's only at the padded steps (${where}): it holds ${holds} there, PyTorch zeros; valid steps and h_n pass (--padded-steps ignore compares valid steps only)`;
}

/** One line per warning: what was not used or had to be assumed. */
export function warningTexts(c: CaseResult): string[] {
  return (c.warnings ?? []).map((w) => w.message);
}

/** One line per way the case failed against --baseline: which tensor, recorded, new, factor. */
export function baselineTexts(c: CaseResult): string[] {
  return baselineReasons(c);
}


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
