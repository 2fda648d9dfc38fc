/**
 * Plain-text descriptions of a case shared by every renderer (no markup: each renderer escapes and
 * styles them its own way), so the table, markdown, JUnit and HTML say the same thing. Text that
 * comes from a file (paths, prefixes, config keys in warnings) is in here unescaped: every caller
 * passes it through its output kind's one escaper (term, mdText, xmlText, esc).
 */
import type { CaseResult } from '../check.js';
import { baselineReasons } from '../baseline.js';
import { describeMath } from '../gru/math.js';
import { num } from './format.js';

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
  const layout = !k.batched ? 'unbatched' : `batch_first=${py(k.batchFirst)} (from ${c.layoutSource ?? '?'})`;
  return `GRU(input_size=${k.inputSize}, hidden_size=${k.hiddenSize}, num_layers=${k.numLayers}, bidirectional=${py(k.bidirectional)}, bias=${py(k.bias)}, ${layout})`;
}

/** dtype, precision, where h0 came from, prefix, lengths. */
export function detailsText(c: CaseResult): string {
  if (!c.config) return '';
  const bits = [`dtype ${c.config.dtype}`, `precision ${c.precision ?? '?'}`, `h0 ${c.h0Given ? 'from dump' : 'zeros (not in dump)'}`];
  if (c.prefix) bits.push(`prefix ${c.prefix}`);
  if (c.weightsFrom) bits.push(`weights from ${c.weightsFrom}`);
  if (c.lengths) bits.push(`lengths [${c.lengths.join(', ')}]`);
  if (c.candidate) {
    const how = [c.candidateLayout ? `read as ${c.candidateLayout}` : '', c.candidateDtype && c.candidateDtype !== c.config.dtype ? `${c.candidateDtype}` : '', c.candidateStates === 'last layer' ? 'final states of the last layer only' : ''].filter(Boolean);
    bits.push(`candidate ${c.candidate}${how.length ? ` (${how.join('; ')})` : ''}`);
  }
  return bits.join(', ');
}

/** `rtol=1.3e-6 atol=1e-5 (torch.testing.assert_close default for float32)`, per tensor if they differ. */
export function toleranceText(c: CaseResult): string {
  const uniq = new Map<string, string[]>();
  for (const [tensor, t] of Object.entries(c.tolerance ?? {})) {
    const src = t.rtolSource === t.atolSource ? t.rtolSource : `rtol ${t.rtolSource}, atol ${t.atolSource}`;
    const key = `rtol=${num(t.rtol)} atol=${num(t.atol)} (${src.startsWith('default') ? `torch.testing.assert_close ${src}` : src})`;
    uniq.set(key, [...(uniq.get(key) ?? []), tensor]);
  }
  return [...uniq.entries()].map(([k, ts]) => (uniq.size > 1 ? `${ts.join(', ')}: ${k}` : k)).join('; ');
}


/** One line per warning: what was not used or had to be assumed. */
export function warningTexts(c: CaseResult): string[] {
  return (c.warnings ?? []).map((w) => w.message);
}

/** One line per way the case failed against --baseline: which tensor, recorded, new, factor. */
export function baselineTexts(c: CaseResult): string[] {
  return baselineReasons(c);
}
