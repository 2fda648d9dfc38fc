/**
 * Renderers for `inspect`: a table of arrays and the inferred GRU, or the same as JSON. The table
 * is drawn here rather than by cli-table3, whose layout is quadratic in the rows (a file of many
 * thousands of arrays takes it many seconds): one pass to measure each column, one to draw, with
 * cli-table3's own width function and border characters so the output is the same.
 */
import { Chalk } from 'chalk';
import utils from 'cli-table3/src/utils.js';
import type { InspectResult } from '../inspect.js';
import { shapeInParens } from './format.js';
import { escapeControls as term } from '../io/text.js';

const g = (x: number | null): string => (x === null ? '—' : Number(x.toPrecision(4)).toString());

/**
 * A boxed table as cli-table3 draws one with no row separators: a top border, the rows (the head
 * first), a bottom border; each cell padded by one space. `width` is called once per cell.
 */
export function boxTable(rows: string[][], width: (s: string) => number = utils.strlen): string {
  const cols = rows[0]?.length ?? 0;
  const widths = new Array<number>(cols).fill(0);
  const measured = rows.map((row) => row.map((cell, j) => {
    const w = width(cell);
    if (w > widths[j]!) widths[j] = w;
    return w;
  }));
  const rule = (l: string, m: string, r: string): string => `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}`;
  const out = [rule('┌', '┬', '┐')];
  rows.forEach((row, i) => out.push(`│${row.map((cell, j) => ` ${cell}${' '.repeat(widths[j]! - measured[i]![j]!)} `).join('│')}│`));
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

export function renderInspectTable(r: InspectResult, o: { colorLevel: 0 | 1 | 2 | 3 }): string {
  const ch = new Chalk({ level: o.colorLevel });
  const t: string[][] = [['array', 'dtype', 'shape', 'min', 'max', 'mean', 'NaN', 'Inf']];
  for (const a of r.arrays) {
    if (a.text !== undefined) t.push([term(a.name), a.dtype, shapeInParens(a.shape), '', '', '', '', '']);
    else t.push([term(a.name), a.dtype, shapeInParens(a.shape), g(a.min), g(a.max), g(a.mean), a.nan ? ch.red(String(a.nan)) : '0', a.inf ? ch.red(String(a.inf)) : '0']);
  }
  const lines = [ch.bold(term(r.source)), boxTable(t)];
  // Text arrays (the JSON config) below the table: a long string would stretch every column.
  for (const a of r.arrays) if (a.text !== undefined) lines.push(`${term(a.name)}: ${term(a.text)}`);
  if (r.config) {
    const k = r.config;
    const layout = k.batched ? `batch_first=${k.batchFirst ? 'True' : 'False'} (from ${r.layoutSource})` : 'unbatched';
    lines.push(`inferred: ${k.layout} GRU(input_size=${k.inputSize}, hidden_size=${k.hiddenSize}, num_layers=${k.numLayers}, bidirectional=${k.bidirectional ? 'True' : 'False'}, bias=${k.bias ? 'True' : 'False'}, ${layout}), dtype ${k.dtype}, seq ${r.seqLen}, batch ${r.batchSize}${r.prefix ? `, prefix ${term(r.prefix)}` : ''}`);
  } else {
    lines.push(ch.yellow(`no GRU configuration: ${term(r.configError ?? '')}`));
  }
  return `${lines.join('\n')}\n`;
}

export function renderInspectJson(r: InspectResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
