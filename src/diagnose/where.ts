/**
 * Where a failing check fails: which tensors; which h_n rows (layer, direction) fail and which
 * pass; whether the failure starts at a layer (every row of the layers before it passes); which
 * sequences (batch elements) fail, and whether they are exactly those shorter than T; the first
 * failing step of each direction; whether one half of the output (forward or backward) passes
 * while the other fails. It needs no mistake to be known: diagnose reports it for every failure,
 * and it prunes which mistakes are worth trying.
 *
 * Elements are judged by the same isclose rule and tolerances as the check. Everything is read in
 * the stack driver's axis order — output (T, B, D*H), h_n (L*D, B, H) — whatever the dump's layout
 * (onnx [T, D, B, H], batch-first, unbatched ...), so the sentences say "layer 1, backward" for
 * every layout.
 */
import type { Direction as Dir, Where } from '../result.js';
import type { GruCase } from '../model/types.js';
import { isClose, type CompareOptions } from '../compare/isclose.js';
import { swapFirstAxes } from '../model/arrays.js';


export interface WhereInput {
  /** Tested tensors and the reference in the dump's own layout (toUserLayout), as checked. */
  tested: { output?: { shape: number[]; data: ArrayLike<number> } | undefined; h_n?: { shape: number[]; data: ArrayLike<number> } | undefined };
  reference: { output: { shape: number[]; data: ArrayLike<number> }; h_n: { shape: number[]; data: ArrayLike<number> } };
  /** isclose options per tensor, as the check used them. */
  tolerance: Record<'output' | 'h_n', CompareOptions>;
  /** The tested h_n holds the last layer's rows only. */
  hnLastLayer: boolean;
}

/** output in (T, B, D*H) from the dump's own layout. */
function outputInternal(c: GruCase, data: ArrayLike<number>): ArrayLike<number> {
  const { seqLen: T, batchSize: B } = c;
  const { hiddenSize: H, bidirectional, batched, batchFirst, layout } = c.config;
  const D = bidirectional ? 2 : 1;
  if (layout === 'onnx') {
    const out = new Float64Array(T * B * D * H);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const at = batchFirst ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H;
          for (let j = 0; j < H; j++) out[(t * B + b) * D * H + d * H + j] = data[at + j]!;
        }
      }
    }
    return out;
  }
  return batched && batchFirst ? swapFirstAxes(Float64Array.from(data), B, T, D * H) : data;
}

/** h_n rows in (rows, B, H) from the dump's own layout. */
function hnInternal(c: GruCase, data: ArrayLike<number>, rows: number): ArrayLike<number> {
  const { layout, batchFirst } = c.config;
  // ONNX layout 1 and a Keras Bidirectional keep h_n batch-major: [B, D, H] / [B, D·H].
  if ((layout === 'onnx' && batchFirst) || (layout === 'keras' && rows > 1)) return swapFirstAxes(Float64Array.from(data), c.batchSize, rows, c.config.hiddenSize);
  return data;
}

const list = (xs: number[]): string => (xs.length === 1 ? String(xs[0]) : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/**
 * A GRUCell case runs its N = calls x batch calls as one step over a batch of N: a failing
 * "sequence" n is call n / batch of sequence n % batch. Said in those terms.
 */
function cellWhere(c: GruCase, w: Where): Where {
  const cell = c.config.cell!;
  const failing = w.sequences ?? [];
  const calls = [...new Set(failing.map((n) => Math.floor(n / cell.batch)))].sort((a, b) => a - b);
  const seqs = [...new Set(failing.map((n) => n % cell.batch))].sort((a, b) => a - b);
  const parts: string[] = [];
  if (failing.length === 0) parts.push('no element fails');
  else {
    parts.push('h fails');
    if (cell.trace) parts.push(calls.length === cell.calls ? `in every call (all ${cell.calls}), from t=0` : `in call${calls.length === 1 ? '' : 's'} t=${list(calls)} of ${cell.calls}, first t=${calls[0]}`);
    if (cell.batched) parts.push(seqs.length === cell.batch ? `for every sequence (all ${cell.batch})` : `for sequence${seqs.length === 1 ? '' : 's'} ${list(seqs)} of ${cell.batch}`);
  }
  const firstStep = cell.trace && calls.length > 0 ? calls[0]! : null;
  return { ...w, sequences: cell.batched ? seqs : null, firstStep, firstStepByDirection: { forward: firstStep }, summary: parts.join(', ').replace(/^h fails, /, 'h fails ') };
}

/** The failing (t, b, direction) cells of the output: failing sequences and each direction's first failing step. */
function outputFailures(c: GruCase, w: WhereInput, DIRS: Dir[], seqFail: boolean[]): { any: boolean; first: (number | null)[] } {
  const { seqLen: T, batchSize: B } = c;
  const H = c.config.hiddenSize;
  const D = DIRS.length;
  const a = outputInternal(c, w.tested.output!.data);
  const e = outputInternal(c, w.reference.output.data);
  const o = w.tolerance.output;
  const first: (number | null)[] = DIRS.map(() => null);
  let any = false;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) {
        const base = (t * B + b) * D * H + d * H;
        let bad = false;
        for (let j = 0; j < H && !bad; j++) bad = !isClose(a[base + j]!, e[base + j]!, o);
        if (!bad) continue;
        any = true;
        seqFail[b] = true;
        const backward = DIRS[d] === 'backward';
        const f = first[d];
        if (f === null || f === undefined || (backward ? t > f : t < f)) first[d] = t;
      }
    }
  }
  return { any, first };
}

/** Each h_n row's verdict, with its layer and direction; marks the failing sequences. */
function hnFailures(c: GruCase, w: WhereInput, DIRS: Dir[], seqFail: boolean[]): Where['hnRows'] {
  const B = c.batchSize;
  const H = c.config.hiddenSize;
  const D = DIRS.length;
  const L = c.config.numLayers;
  const rows = w.hnLastLayer ? D : L * D;
  const a = hnInternal(c, w.tested.h_n!.data, rows);
  const e = hnInternal(c, w.reference.h_n.data, rows);
  const o = w.tolerance.h_n;
  const hnRows: Where['hnRows'] = [];
  for (let r = 0; r < rows; r++) {
    let pass = true;
    for (let b = 0; b < B; b++) {
      let bad = false;
      for (let j = 0; j < H && !bad; j++) bad = !isClose(a[(r * B + b) * H + j]!, e[(r * B + b) * H + j]!, o);
      if (bad) {
        pass = false;
        seqFail[b] = true;
      }
    }
    const layer = w.hnLastLayer ? L - 1 : Math.floor(r / D);
    hnRows.push({ row: r, layer, direction: DIRS[r % D]!, pass });
  }
  return hnRows;
}

/** One sentence (several clauses) for the table and reports. */
function summarise(c: GruCase, w: WhereInput, x: Omit<Where, 'summary' | 'firstStep'>, DIRS: Dir[]): string {
  const { tensors, hnRows, layer, outputHalves, direction, sequences, onlyShorterThanT, firstStepByDirection } = x;
  const B = c.batchSize;
  const D = DIRS.length;
  const failingRows = hnRows.filter((r) => !r.pass);
  const parts: string[] = [];
  parts.push(tensors.length === 0 ? 'no element fails' : `${tensors.join(' and ')} fail${tensors.length === 1 ? 's' : ''}${w.tested.output && !tensors.includes('output') ? ' (output passes)' : ''}${w.tested.h_n && !tensors.includes('h_n') ? ' (h_n passes)' : ''}`);
  if (hnRows.length > 1 && failingRows.length > 0) {
    const name = (r: Where['hnRows'][number]): string => `row ${r.row} (layer ${r.layer}${D === 2 ? ` ${r.direction}` : ''})`;
    const passing = hnRows.filter((r) => r.pass);
    parts.push(`h_n ${failingRows.length === hnRows.length ? 'fails in every row' : `fails in ${failingRows.map(name).join(', ')}; passes in ${passing.map(name).join(', ')}`}`);
  }
  if (layer !== null && layer > 0) parts.push(`the failure starts at layer ${layer}: every row of the layers before it passes`);
  if (D === 2 && outputHalves.forward && outputHalves.backward && outputHalves.forward !== outputHalves.backward) {
    parts.push(`the output's ${outputHalves.forward === 'pass' ? 'forward' : 'backward'} half passes, its ${outputHalves.forward === 'pass' ? 'backward' : 'forward'} half fails`);
  }
  if (direction) parts.push(`only the ${direction} direction fails`);
  if (sequences) {
    if (sequences.length === B) parts.push(`every sequence fails${B > 1 ? ` (all ${B})` : ''}`);
    else if (sequences.length > 0) parts.push(`sequence${sequences.length === 1 ? '' : 's'} ${list(sequences)} fail${sequences.length === 1 ? 's' : ''}, ${B - sequences.length === 1 ? 'the other passes' : 'the others pass'}${onlyShorterThanT ? ': exactly those shorter than T (lengths < T)' : ''}`);
  }
  const stepText = DIRS.filter((d) => firstStepByDirection[d] !== null && firstStepByDirection[d] !== undefined).map((d) => `${D === 2 ? `${d} ` : ''}from t=${firstStepByDirection[d]}${d === 'backward' ? ' (in its processing order)' : ''}`);
  if (stepText.length > 0) parts.push(`output first fails ${stepText.join(', ')}`);
  return parts.join('; ');
}

export function locate(c: GruCase, w: WhereInput): Where {
  const { seqLen: T, batchSize: B } = c;
  const D = c.config.bidirectional ? 2 : 1;
  const DIRS: Dir[] = D === 2 ? ['forward', 'backward'] : [c.params.reverseOnly ? 'backward' : 'forward'];
  const seqFail = new Array<boolean>(B).fill(false);
  const tensors: ('output' | 'h_n')[] = [];
  const firstStepByDirection: Partial<Record<Dir, number | null>> = {};
  const outputHalves: Partial<Record<Dir, 'pass' | 'fail'>> = {};
  let hnRows: Where['hnRows'] = [];

  if (w.tested.output) {
    const { any, first } = outputFailures(c, w, DIRS, seqFail);
    if (any) tensors.push('output');
    DIRS.forEach((dir, d) => {
      firstStepByDirection[dir] = first[d] ?? null;
      if (D === 2) outputHalves[dir] = first[d] === null ? 'pass' : 'fail';
    });
  }
  if (w.tested.h_n) {
    hnRows = hnFailures(c, w, DIRS, seqFail);
    if (hnRows.some((r) => !r.pass)) tensors.push('h_n');
  }

  // The failure starts at a layer when h_n covers every layer and the layers before pass.
  const failingRows = hnRows.filter((r) => !r.pass);
  let layer: number | null = null;
  if (w.tested.h_n && !w.hnLastLayer && failingRows.length > 0) layer = failingRows[0]!.layer;
  // One direction: every failing h_n row and output half is that direction's.
  let direction: Dir | null = null;
  if (D === 2) {
    const failingDirs = new Set<Dir>([...failingRows.map((r) => r.direction), ...DIRS.filter((d) => outputHalves[d] === 'fail')]);
    if (failingDirs.size === 1) direction = [...failingDirs][0]!;
  }
  const sequences = c.config.batched ? seqFail.flatMap((f, b) => (f ? [b] : [])) : null;
  const shorter = c.lengths ? Array.from(c.lengths).flatMap((len, b) => (len < T ? [b] : [])) : [];
  // "Exactly those shorter than T" is evidence only beside a sequence of length T that passes: in a
  // padded batch where no sequence reaches T, every failure would otherwise read as a lengths mistake.
  const onlyShorterThanT = c.lengths && sequences ? sequences.length > 0 && shorter.length > 0 && shorter.length < c.lengths.length && sequences.length === shorter.length && sequences.every((b, i) => b === shorter[i]) : undefined;
  const steps = Object.values(firstStepByDirection).filter((s): s is number => s !== null && s !== undefined);
  const firstStep = direction ? firstStepByDirection[direction] ?? null : steps.length ? Math.min(...steps) : null;
  const summary = summarise(c, w, { tensors, layer, direction, sequences, firstStepByDirection, hnRows, outputHalves, ...(onlyShorterThanT !== undefined ? { onlyShorterThanT } : {}) }, DIRS);
  const where: Where = { tensors, layer, direction, sequences, firstStep, firstStepByDirection, hnRows, outputHalves, summary };
  if (c.config.cell) return cellWhere(c, where);
  if (onlyShorterThanT !== undefined) where.onlyShorterThanT = onlyShorterThanT;
  return where;
}
