/** Renderers for `inspect`: a table of arrays and the inferred GRU, or the same as JSON. */
import { Chalk } from 'chalk';
import Table from 'cli-table3';
import type { InspectResult } from '../inspect.js';
import { fmtShape } from './format.js';
import { escapeControls as term } from '../io/text.js';

const g = (x: number | null): string => (x === null ? '—' : Number(x.toPrecision(4)).toString());

export function renderInspectTable(r: InspectResult, o: { colorLevel: 0 | 1 | 2 | 3 }): string {
  const ch = new Chalk({ level: o.colorLevel });
  const t = new Table({
    head: ['array', 'dtype', 'shape', 'min', 'max', 'mean', 'NaN', 'Inf'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const a of r.arrays) {
    if (a.text !== undefined) t.push([term(a.name), a.dtype, fmtShape(a.shape), '', '', '', '', '']);
    else t.push([term(a.name), a.dtype, fmtShape(a.shape), g(a.min), g(a.max), g(a.mean), a.nan ? ch.red(String(a.nan)) : '0', a.inf ? ch.red(String(a.inf)) : '0']);
  }
  const lines = [ch.bold(term(r.source)), t.toString()];
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
