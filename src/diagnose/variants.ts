/**
 * The known porting mistakes. A variant says how a port with that mistake would have run the case,
 * as changes to what the stack driver is given — the weights, the gate math (src/gru/math.ts), h0,
 * the inputs — or as a runner decorator that alters each layer's results before the next layer
 * reads them (src/gru/stack.ts, afterEachLayer), or as a change of the final tensors. It never
 * re-implements the GRU: every variant runs on the engine `run` uses. Names are stable (they are in
 * the JSON); each carries a one-line fix in plain language.
 */
import type { FloatArray, GruCase, GruDirectionParams, GruParams } from '../model/types.js';
import { afterEachLayer, type GruRunInput, type GruRunResult, type LayerJob, type Runner } from '../gru/stack.js';
import { withMath, type GateMath } from '../gru/math.js';
import { transpose } from '../model/gates.js';
import { swapFirstAxes } from '../model/arrays.js';

/** How the mistaken port runs the case. Unset fields are the case's own. */
export interface VariantPlan {
  params?: GruParams;
  /** Applied to the gate math of every direction. */
  math?: Partial<GateMath>;
  h0?: FloatArray;
  decorate?: (r: Runner) => Runner;
  /** Changes the run's inputs (e.g. axes read the wrong way round). */
  input?: (run: GruRunInput) => GruRunInput;
  /** Changes the final tensors, seq-first (T, B, D*H) and (L*D, B, H). */
  finish?: (r: GruRunResult, run: GruRunInput) => GruRunResult;
}

export interface Variant {
  name: string;
  fix: string;
  /** Whether the mistake can exist (or show) in this case. */
  applies: (c: GruCase) => boolean;
  plan: (c: GruCase) => VariantPlan;
  /** The mistake mixes sequences (batch elements): it cannot be tried on a few of them alone. */
  mixesSequences?: boolean;
}

const isBidir = (c: GruCase): boolean => c.params.bidirectional || c.params.reverseOnly === true;
const hasNonZero = (a: FloatArray): boolean => a.some((v) => v !== 0);

function mapParams(p: GruParams, f: (d: GruDirectionParams, layer: number) => GruDirectionParams): GruParams {
  return { ...p, layers: p.layers.map((dirs, k) => dirs.map((d) => f(d, k))) };
}

/** Each (H, cols) gate block of a (3H, cols) matrix transposed in place of itself; needs cols == H. */
function transposeBlocks(w: FloatArray, H: number): FloatArray {
  const out = w.slice();
  for (let g = 0; g < 3; g++) out.set(transpose(w.subarray(g * H * H, (g + 1) * H * H), H, H), g * H * H);
  return out;
}

/** The reverse-running directions of a layer: the backward one, or ONNX's lone reverse one. */
const reverseDirections = (job: LayerJob) => job.directions.filter((d) => d.reverse);

/** Backward outputs left in processing order: row s holds the state of reverse step s (input time len-1-s). */
function leaveInProcessingOrder(job: LayerJob): void {
  for (const d of reverseDirections(job)) {
    const { seqLen: T, batchSize: B, hiddenSize: H, output, lengths } = d;
    const F = d.numDirections * H;
    const col = d.direction * H;
    const row = new Float64Array(T * H);
    for (let b = 0; b < B; b++) {
      const len = lengths ? lengths[b]! : T;
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) row[t * H + j] = output[(t * B + b) * F + col + j]!;
      for (let s = 0; s < T; s++) {
        for (let j = 0; j < H; j++) output[(s * B + b) * F + col + j] = s < len ? row[(len - 1 - s) * H + j]! : 0;
      }
    }
  }
}

/** Output halves stored [backward | forward], also as the next layer reads them. */
function swapDirections(job: LayerJob): void {
  const d0 = job.directions[0]!;
  const { seqLen: T, batchSize: B, hiddenSize: H, output } = d0;
  const tmp = new Float64Array(H);
  for (let r = 0; r < T * B; r++) {
    const a = r * 2 * H;
    for (let j = 0; j < H; j++) tmp[j] = output[a + j]!;
    for (let j = 0; j < H; j++) output[a + j] = output[a + H + j]!;
    for (let j = 0; j < H; j++) output[a + H + j] = tmp[j]!;
  }
}

/** The reverse direction's h_n taken after its first step (t = len-1) instead of its last. */
function reverseHnFromFirstStep(job: LayerJob): void {
  for (const d of reverseDirections(job)) {
    const { seqLen: T, batchSize: B, hiddenSize: H, output, lengths, hN } = d;
    const F = d.numDirections * H;
    for (let b = 0; b < B; b++) {
      const first = (lengths ? lengths[b]! : T) - 1;
      for (let j = 0; j < H; j++) hN[b * H + j] = output[(first * B + b) * F + d.direction * H + j]!;
    }
  }
}

function gateOrderVariant(perm: string): Variant {
  const [a, b, c] = perm.split('');
  return {
    name: `gate-order:${perm}`,
    fix: `reorder gate blocks r|z|n -> ${a}|${b}|${c}: the port reads block 0 as ${a}, 1 as ${b}, 2 as ${c}, but PyTorch stacks r|z|n`,
    applies: () => true,
    plan: () => ({ math: { gateOrder: perm } }),
  };
}

export const VARIANTS: Variant[] = [
  ...['rnz', 'zrn', 'znr', 'nrz', 'nzr'].map(gateOrderVariant),
  {
    name: 'reset-before-matmul',
    fix: 'apply the reset gate after the recurrent matmul: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (ONNX: set linear_before_reset=1; Keras: reset_after=True)',
    applies: (c) => c.math.linearBeforeReset,
    plan: () => ({ math: { linearBeforeReset: false } }),
  },
  {
    name: 'b_hn-outside-reset',
    fix: 'put b_hn inside the reset product: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))',
    applies: (c) => c.params.bias && c.math.linearBeforeReset,
    plan: () => ({ math: { bHnOutsideReset: true } }),
  },
  {
    name: 'h0-ignored',
    fix: 'pass the initial hidden state h0 to the GRU instead of starting from zeros',
    applies: (c) => c.h0Given && hasNonZero(c.h0),
    plan: (c) => ({ h0: new Float64Array(c.h0.length) }),
  },
  {
    name: 'w_hh-transposed',
    fix: 'transpose the recurrent weights back: use W_hh as (3H, H) with h on the right (W_hh @ h), not h @ W_hh',
    applies: () => true,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: transposeBlocks(d.weightHh, c.params.hiddenSize) })) }),
  },
  {
    name: 'w_ih-transposed',
    fix: 'transpose the input weights back: use W_ih as (3H, I) with x on the right (W_ih @ x), not x @ W_ih',
    applies: (c) => c.params.layers.some((dirs) => dirs[0]!.inputSize === c.params.hiddenSize),
    plan: (c) => ({
      params: mapParams(c.params, (d) => (d.inputSize === c.params.hiddenSize ? { ...d, weightIh: transposeBlocks(d.weightIh, c.params.hiddenSize) } : d)),
    }),
  },
  {
    name: 'update-gate-inverted',
    fix: "swap the update gate's roles: h' = (1 - z) * n + z * h",
    applies: () => true,
    plan: () => ({ math: { update: 'inverted' } }),
  },
  {
    name: 'hard-sigmoid',
    fix: 'use the logistic sigmoid for r and z, not hard_sigmoid (Keras: recurrent_activation="sigmoid")',
    applies: () => true,
    plan: () => ({ math: { f: { name: 'HardSigmoid', alpha: 0.2, beta: 0.5 } } }),
  },
  {
    name: 'reverse-not-rereversed',
    fix: "flip the backward direction's outputs back to input time order before concatenating",
    applies: isBidir,
    plan: () => ({ decorate: (r) => afterEachLayer(r, leaveInProcessingOrder) }),
  },
  {
    name: 'directions-swapped',
    fix: 'concatenate directions forward first: output[..., :H] is the forward pass, output[..., H:] the backward one',
    applies: (c) => c.params.bidirectional,
    plan: () => ({ decorate: (r) => afterEachLayer(r, swapDirections) }),
  },
  {
    name: 'reverse-h_n-from-last-step',
    fix: "take the backward direction's h_n after it reaches t = 0 (its last step), not after its first step at t = T-1",
    applies: isBidir,
    plan: () => ({ decorate: (r) => afterEachLayer(r, reverseHnFromFirstStep) }),
  },
  {
    name: 'batch-time-swapped',
    mixesSequences: true,
    fix: 'swap the batch and time axes of input and output (a batch_first mismatch: check the layout the port assumes)',
    applies: (c) => c.config.batched && c.seqLen === c.batchSize,
    plan: () => ({
      input: (run) => ({ ...run, input: swapFirstAxes(run.input, run.seqLen, run.batchSize, run.params.inputSize), seqLen: run.batchSize, batchSize: run.seqLen, lengths: undefined }),
      finish: (r, run) => ({ ...r, output: swapFirstAxes(r.output, run.seqLen, run.batchSize, r.output.length / (run.seqLen * run.batchSize)) as Float64Array }),
    }),
  },
];

/** The case's math with a variant's changes, per direction when the case has per-direction math. */
export function variantMath(c: GruCase, change: Partial<GateMath> | undefined): GateMath | readonly GateMath[] {
  const base = c.directionMath ?? c.math;
  if (!change) return base;
  return Array.isArray(base) ? (base as readonly GateMath[]).map((m) => withMath(m, change)) : withMath(base as GateMath, change);
}
