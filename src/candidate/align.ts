/**
 * A port's outputs in the layouts ports write, brought to the case's own layout before they are
 * compared. The layout is decided by shape, never guessed: when two layouts fit the same shape
 * (batch == time steps) the user says which with --candidate-layout, else exit 2.
 *
 * `output` (also `Y`), for T steps, B sequences, D directions, H hidden units, F = D·H:
 *   seq-first      [T, B, F]      PyTorch batch_first=False, a C++/Rust port
 *   batch-first    [B, T, F]      PyTorch batch_first=True, Keras sequences
 *   onnx           [T, D, B, H]   an ONNX GRU node's Y, ONNX Runtime's output for it
 *   onnx-layout1   [B, T, D, H]   the same with the node's layout=1
 *   unbatched      [T, F]         an unbatched case
 * T may also be max(lengths) < T: pad_packed_sequence without total_length trims the padding;
 * such an output is read as padded with zeros (what the case's steps past every length hold).
 *
 *   final states   [B, D·H]       Keras's return_sequences=False: the forward direction's output
 *                                 at its last valid step beside the backward one's at t = 0, i.e.
 *                                 the last layer's final states (read as h_n when there is none)
 *
 * Final states (`h_n`, also `Y_h`; Keras: `forward_h` and `backward_h`, or `h_n` [B, H]):
 *   every layer    [L·D, B, H]    PyTorch's h_n (unbatched: [L·D, H])
 *   last layer     [D, B, H]      an ONNX node's Y_h (the last node of an exported stack)
 *   last layer     [B, D, H]      the same with layout=1
 *   last layer     [B, H] x D     Keras's states, one array per direction
 *   last layer     [B, D·H]       Keras's Bidirectional states saved concatenated (forward first)
 * Final states of the last layer only are compared with the last layer's rows of h_n, and the
 * result says so. A shape no reading explains is an input error naming the shapes that would
 * be: the port was not checked, so it neither passes nor fails.
 */
import { GruCheckError } from '../errors.js';
import { sameShape, shapeInBrackets } from '../model/arrays.js';
import type { FloatArray, FloatDType, GruCase, Tensor } from '../model/types.js';
import { cellShape } from '../model/cell.js';
import { toUserLayout } from '../model/layout.js';

export const CANDIDATE_LAYOUTS = ['seq-first', 'batch-first', 'onnx', 'onnx-layout1', 'keras', 'unbatched'] as const;
export type CandidateLayout = (typeof CANDIDATE_LAYOUTS)[number];

/** What a candidate file holds, by name, before it is aligned with a case. */
export interface CandidateTensors {
  source: string;
  output?: Tensor;
  h_n?: Tensor;
  /** Keras's final states, one per direction ([B, H] each): forward_h, backward_h. */
  states?: Tensor[];
  /** The array names read, for messages (e.g. "Y, Y_h"). */
  names?: string[];
}

/** The candidate in the case's layout, as the checks compare it. */
export interface AlignedCandidate {
  output?: Tensor;
  h_n?: Tensor;
  /** h_n covers only the last layer's final states (rows (L-1)·D .. L·D-1 of the case's h_n). */
  hnLastLayer: boolean;
  /** How the output was read, e.g. "seq-first" or "onnx, 6 of 7 steps (read as padded)". */
  layout: string;
  /** output was Keras's return_sequences=False [B, D·H], beside h_n: it now holds those final states in h_n's layout (the last layer's rows when there are several layers). */
  outputFinal?: boolean;
  /** The least precise dtype of the candidate's tensors (its tolerances apply). */
  dtype: FloatDType;
}

interface Reading {
  layout: CandidateLayout;
  steps: number;
  shape: number[];
}


/** output readings that fit the case, for every step count the case allows. */
function outputReadings(c: GruCase): Reading[] {
  const { seqLen: T, batchSize: B } = c;
  const D = c.params.bidirectional ? 2 : 1;
  const H = c.params.hiddenSize;
  const F = D * H;
  const steps = [T];
  if (c.lengths) {
    const max = Math.max(...c.lengths);
    if (max < T) steps.push(max);
  }
  const out: Reading[] = [];
  for (const t of steps) {
    if (!c.config.batched) out.push({ layout: 'unbatched', steps: t, shape: [t, F] });
    out.push({ layout: 'seq-first', steps: t, shape: [t, B, F] });
    out.push({ layout: 'batch-first', steps: t, shape: [B, t, F] });
    out.push({ layout: 'onnx', steps: t, shape: [t, D, B, H] });
    out.push({ layout: 'onnx-layout1', steps: t, shape: [B, t, D, H] });
  }
  return out;
}

/** The candidate's output as (T, B, D·H) seq-first, float64, zero past the steps it holds. */
function toSeqFirst(t: Tensor, r: Reading, c: GruCase): Float64Array {
  const { seqLen: T, batchSize: B } = c;
  const D = c.params.bidirectional ? 2 : 1;
  const H = c.params.hiddenSize;
  const F = D * H;
  const out = new Float64Array(T * B * F);
  const src = t.data;
  for (let s = 0; s < r.steps; s++) {
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) {
        let at: number;
        switch (r.layout) {
          case 'unbatched':
          case 'seq-first': at = (s * B + b) * F + d * H; break;
          case 'batch-first':
          case 'keras': at = (b * r.steps + s) * F + d * H; break;
          case 'onnx': at = ((s * D + d) * B + b) * H; break;
          case 'onnx-layout1': at = ((b * r.steps + s) * D + d) * H; break;
        }
        for (let j = 0; j < H; j++) out[(s * B + b) * F + d * H + j] = src[at + j]!;
      }
    }
  }
  return out;
}

const looser = (a: FloatDType, b: FloatDType): FloatDType => {
  const rank: Record<FloatDType, number> = { float16: 0, float32: 1, float64: 2 };
  return rank[a] <= rank[b] ? a : b;
};

/**
 * The candidate in the case's layout. `forced`: --candidate-layout. `toCase` lays a seq-first
 * (T, B, D·H) output out as the case's own (check.ts's toUserLayout).
 */
export function alignCandidate(cand: CandidateTensors, c: GruCase, forced: CandidateLayout | undefined, toCase: (seqFirst: Float64Array) => { shape: number[]; data: FloatArray }): AlignedCandidate {
  const dtypes: FloatDType[] = [cand.output, cand.h_n, ...(cand.states ?? [])].filter((t): t is Tensor => t !== undefined).map((t) => t.dtype);
  const aligned: AlignedCandidate = { hnLastLayer: false, layout: 'the case\'s', dtype: dtypes.reduce(looser, 'float64') };
  if (c.config.cell) return alignCell(cand, c, aligned);

  const family = cand.output ? alignOutput(cand, cand.output, c, forced, toCase, aligned) : undefined;
  alignStates(cand, c, aligned, family);
  if (aligned.outputFinal) finalOutputAsStates(aligned, c);
  return aligned;
}

/**
 * The candidate's output in the case's layout, read in the layout its shape fits (or the one
 * forced); returns which ONNX layout family that was, if any.
 */
function alignOutput(cand: CandidateTensors, output: Tensor, c: GruCase, forced: CandidateLayout | undefined, toCase: (seqFirst: Float64Array) => { shape: number[]; data: FloatArray }, aligned: AlignedCandidate): 'layout0' | 'layout1' | undefined {
  const file = cand.source;
  const D = c.params.bidirectional ? 2 : 1;
  const B = c.batchSize;
  const H = c.params.hiddenSize;
  const want = forced === 'keras' ? 'batch-first' : forced;
  const fits = outputReadings(c).filter((r) => sameShape(r.shape, output.shape) && (want === undefined || r.layout === want));
  const layouts = [...new Set(fits.map((r) => r.layout))];
  if (layouts.length > 1) {
    throw new GruCheckError('AMBIGUOUS_LAYOUT', `candidate output ${shapeInBrackets(output.shape)} fits ${layouts.join(' and ')} (batch ${B} == ${c.seqLen} time steps), and nothing else in it tells`, {
      file,
      hint: `pass --candidate-layout ${layouts.join(' or ')}`,
    });
  }
  if (fits.length === 0) {
    if (forced !== undefined) {
      throw new GruCheckError('SHAPE_MISMATCH', `candidate output ${shapeInBrackets(output.shape)} is not ${forced} for this case (T=${c.seqLen}, B=${B}, ${D}x${H} features)`, { file });
    }
    if (c.config.batched && sameShape(output.shape, [B, D * H]) && (want === undefined || want === 'batch-first')) {
      aligned.output = output;
      aligned.outputFinal = true;
      aligned.layout = `keras, return_sequences=False: output [B, ${D === 2 ? '2·H' : 'H'}] read as the last layer's final states`;
    } else {
      throw new GruCheckError('SHAPE_MISMATCH', `candidate output ${shapeInBrackets(output.shape)} fits no layout of this case (T=${c.seqLen}, B=${B}, ${D}x${H} features): expected ${expectedOutputShapes(c)}`, { file });
    }
  } else {
    const r = fits[0]!;
    const t = toCase(toSeqFirst(output, r, c));
    aligned.output = { shape: t.shape, dtype: output.dtype, data: t.data };
    aligned.layout = `${forced === 'keras' ? 'keras' : r.layout}${r.steps < c.seqLen ? `, ${r.steps} of ${c.seqLen} steps (read as padded)` : ''}`;
    return r.layout === 'onnx-layout1' ? 'layout1' : 'layout0';
  }
  return undefined;
}

/** The candidate's final states (a list of arrays, or h_n in any layout a port writes) into aligned.h_n. */
function alignStates(cand: CandidateTensors, c: GruCase, aligned: AlignedCandidate, family: 'layout0' | 'layout1' | undefined): void {
  const file = cand.source;
  const D = c.params.bidirectional ? 2 : 1;
  const L = c.params.numLayers;
  const B = c.batchSize;
  const H = c.params.hiddenSize;
  if (cand.states && cand.states.length > 0) {
    if (cand.states.length !== D || !cand.states.every((s) => sameShape(s.shape, [B, H]))) {
      throw new GruCheckError('SHAPE_MISMATCH', `candidate final states: expected ${D} array(s) of shape [${B}, ${H}] (forward_h${D === 2 ? ', backward_h' : ''}), got ${cand.states.map((s) => shapeInBrackets(s.shape)).join(', ')}`, { file });
    }
    const data = new Float64Array(D * B * H);
    cand.states.forEach((s, d) => data.set(s.data, d * B * H));
    setStates(aligned, c, data, cand.states[0]!.dtype, L > 1);
  } else if (cand.h_n) {
    const s = cand.h_n.shape;
    const dt = cand.h_n.dtype;
    /** [B, D, H] -> [D, B, H] */
    const fromBatchMajor = (): Float64Array => {
      const data = new Float64Array(D * B * H);
      for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) data.set(cand.h_n!.data.subarray((b * D + d) * H, (b * D + d + 1) * H), (d * B + b) * H);
      return data;
    };
    if (!c.config.batched) aligned.h_n = cand.h_n;
    else if (family === 'layout1' && sameShape(s, [B, D, H])) setStates(aligned, c, fromBatchMajor(), dt, L > 1);
    else if (sameShape(s, [L * D, B, H])) aligned.h_n = toCaseStates(cand.h_n, c);
    else if (L > 1 && sameShape(s, [D, B, H])) setStates(aligned, c, Float64Array.from(cand.h_n.data), dt, true);
    else if (sameShape(s, [B, D, H])) setStates(aligned, c, fromBatchMajor(), dt, L > 1);
    else if (D === 1 && sameShape(s, [B, H])) setStates(aligned, c, Float64Array.from(cand.h_n.data), dt, L > 1);
    else if (D === 2 && sameShape(s, [B, D * H])) setStates(aligned, c, fromConcatenated(cand.h_n, c), dt, L > 1);
    else {
      throw new GruCheckError('SHAPE_MISMATCH', `candidate h_n ${shapeInBrackets(s)} fits no layout of this case (L=${L}, D=${D}, B=${B}, H=${H}): expected ${expectedStateShapes(c)}`, { file });
    }
  }
}

/**
 * Keras's last output is the last layer's final states: held to h_n's last-layer rows, as h_n
 * when the candidate has none, else beside it (the `output` checks then compare states).
 */
function finalOutputAsStates(aligned: AlignedCandidate, c: GruCase): void {
  const L = c.params.numLayers;
  const states: AlignedCandidate = { hnLastLayer: false, layout: '', dtype: aligned.dtype };
  setStates(states, c, fromConcatenated(aligned.output!, c), aligned.output!.dtype, L > 1);
  if (!aligned.h_n) {
    aligned.h_n = states.h_n!;
    aligned.hnLastLayer = states.hnLastLayer;
    delete aligned.output;
    delete aligned.outputFinal;
  } else {
    aligned.output = states.h_n!;
  }
}

/** A GRUCell's candidate: `h` in the case's own shape, nothing else to read. */
function alignCell(cand: CandidateTensors, c: GruCase, aligned: AlignedCandidate): AlignedCandidate {
  const want = cellShape(c.config.cell!, c.params.hiddenSize);
  if (!cand.output || !sameShape(cand.output.shape, want)) {
    const got = cand.output ? `h ${shapeInBrackets(cand.output.shape)}` : `no h (it has ${cand.names?.join(', ') ?? 'h_n'})`;
    throw new GruCheckError('SHAPE_MISMATCH', `candidate ${got}: expected h ${shapeInBrackets(want)}, the cell's output for ${c.config.cell!.trace ? `${c.config.cell!.calls} calls of ` : ''}batch ${c.config.cell!.batch}`, { file: cand.source });
  }
  return { ...aligned, output: cand.output, layout: 'GRUCell h' };
}

/** (D, B, H) -> [B, D·H]. */
function fromStateMajor(data: ArrayLike<number>, D: number, B: number, H: number): Float64Array {
  const out = new Float64Array(D * B * H);
  for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) out[(b * D + d) * H + j] = data[(d * B + b) * H + j]!;
  return out;
}

/** [B, D·H] (directions concatenated, forward first) -> (D, B, H). */
function fromConcatenated(t: Tensor, c: GruCase): Float64Array {
  const D = c.params.bidirectional ? 2 : 1;
  const B = c.batchSize;
  const H = c.params.hiddenSize;
  const data = new Float64Array(D * B * H);
  for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) data.set(t.data.subarray((b * D + d) * H, (b * D + d + 1) * H), (d * B + b) * H);
  return data;
}

/** The output shapes a candidate may have for this case, for messages. */
function expectedOutputShapes(c: GruCase): string {
  const D = c.params.bidirectional ? 2 : 1;
  const shapes = outputReadings(c).map((r) => `${shapeInBrackets(r.shape)} ${r.layout}${r.steps < c.seqLen ? ' (trimmed to max(lengths))' : ''}`);
  if (c.config.batched) shapes.push(`${shapeInBrackets([c.batchSize, D * c.params.hiddenSize])} Keras return_sequences=False`);
  return shapes.join(', ');
}

/** The h_n shapes a candidate may have for this case, for messages. */
function expectedStateShapes(c: GruCase): string {
  const D = c.params.bidirectional ? 2 : 1;
  const L = c.params.numLayers;
  const B = c.batchSize;
  const H = c.params.hiddenSize;
  if (!c.config.batched) return shapeInBrackets([L * D, H]);
  const shapes = [`${shapeInBrackets([L * D, B, H])} every layer`];
  if (L > 1) shapes.push(`${shapeInBrackets([D, B, H])} last layer`);
  shapes.push(`${shapeInBrackets([B, D, H])} last layer (ONNX layout=1)`);
  shapes.push(D === 1 ? `${shapeInBrackets([B, H])} Keras` : `${shapeInBrackets([B, D * H])} Keras Bidirectional, concatenated`);
  return shapes.join(', ');
}

/** (D, B, H) final states of the last layer (or of every layer when L == 1), to the case's layout. */
function setStates(a: AlignedCandidate, c: GruCase, data: Float64Array, dtype: FloatDType, lastOnly: boolean): void {
  const D = c.params.bidirectional ? 2 : 1;
  const t: Tensor = { shape: [D, c.batchSize, c.params.hiddenSize], dtype, data };
  if (lastOnly) {
    a.hnLastLayer = true;
    a.h_n = t;
  } else {
    a.h_n = toCaseStates(t, c);
  }
}

/** (L·D, B, H) states to the case's own h_n layout (ONNX layout 1: [B, D, H]; Keras: [B, H]). */
function toCaseStates(t: Tensor, c: GruCase): Tensor {
  const B = c.batchSize;
  const H = c.params.hiddenSize;
  const LD = t.shape[0]!;
  if (c.config.layout === 'keras') {
    // [B, D·H]: a Bidirectional's states side by side, forward first.
    return LD === 1 ? { ...t, shape: [B, H] } : { ...t, shape: [B, LD * H], data: fromStateMajor(t.data, LD, B, H) };
  }
  if (c.config.layout === 'onnx' && c.config.batchFirst) {
    const data = new Float64Array(t.data.length);
    for (let d = 0; d < LD; d++) for (let b = 0; b < B; b++) data.set(t.data.subarray((d * B + b) * H, (d * B + b + 1) * H), (b * LD + d) * H);
    return { ...t, shape: [B, LD, H], data };
  }
  return t;
}

/** The candidate in the case's layout; throws GruCheckError when it cannot say which. */
export function alignForCase(c: GruCase, cand: CandidateTensors, layout?: CandidateLayout): AlignedCandidate {
  const LD = c.params.numLayers * (c.params.bidirectional ? 2 : 1);
  const zeros = new Float64Array(LD * c.batchSize * c.params.hiddenSize);
  return alignCandidate(cand, c, layout, (seqFirst) => toUserLayout(c, { output: seqFirst, hN: zeros }).output);
}
