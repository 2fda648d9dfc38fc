/**
 * The known porting mistakes. A variant says how a port with that mistake would have run the case,
 * as changes to what the stack driver is given — the weights, the gate math (src/gru/math.ts), h0,
 * the inputs, the state's precision — or as a runner decorator that alters what each layer is
 * given or what it wrote before the next layer reads it (src/gru/stack.ts, eachLayer), or as a
 * change of the final tensors. It never re-implements the GRU: every variant runs on the engine
 * `run` uses (a float16 state on the reference runner, the only one that rounds to float16).
 *
 * Names are stable (they are in the JSON) and, like the one-line fixes, use the case's own
 * layout's terms: an ONNX case hears about W, R, Rb_h, initial_h, linear_before_reset and its
 * z|r|h gate blocks, a PyTorch one about weight_hh, b_hn, h0 and r|z|n.
 *
 * Each variant also says what it can touch — only h_n, only the backward direction, only some
 * layers, only sequences shorter than T — so diagnose tries it only where the failure is
 * (where.ts), and which family it belongs to, so two mistakes of one family are never paired.
 */
import type { FloatArray, GruCase, GruDirectionParams, GruParams, Layout, StatePrecision } from '../model/types.js';
import { afterEachLayer, eachLayer, type GruRunInput, type GruRunResult, type LayerJob, type Runner } from '../gru/stack.js';
import { withMath, type GateMath } from '../gru/math.js';
import { f16round } from '../gru/cell.js';
import { transpose } from '../model/gates.js';
import { swapFirstAxes } from '../model/arrays.js';
import { fillPaddedSteps } from '../gru/padded.js';

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
  /** The state's precision in the mistaken port (default: the case's). */
  precision?: StatePrecision;
}

export interface Variant {
  name: string;
  fix: string;
  /** Mistakes of one family are alternatives, never paired with each other. */
  family: string;
  plan: (c: GruCase) => VariantPlan;
  /** The mistake mixes sequences (batch elements): it cannot be tried on a few of them alone. */
  mixesSequences?: boolean;
  /** What the mistake can change (default: anything). */
  touches?: {
    /** Only h_n (the output is left as it was). */
    hnOnly?: boolean;
    /** Only the backward (reverse) direction. */
    backwardOnly?: boolean;
    /** Only sequences shorter than T. */
    shortSequencesOnly?: boolean;
    /** The first layer whose final states (h_n rows) it changes (default 0). */
    fromLayer?: number;
  };
  /**
   * 'statistical': an emulation that cannot be exact (precision): it matches when within
   * tolerance, else it is judged on the error's size and spread and reported as `likely`.
   */
  judge?: 'statistical';
}

/** What a layout calls the GRU's parts, for names and fix texts. */
interface Terms {
  wih: string;
  whh: string;
  bhh: string;
  bhn: string;
  h0: string;
  /** The layout's gate block order and its letters (n or h for the candidate gate). */
  order: string;
  n: string;
}
const TERMS: Record<Layout, Terms> = {
  pytorch: { wih: 'weight_ih', whh: 'weight_hh', bhh: 'bias_hh', bhn: 'b_hn', h0: 'h0', order: 'r|z|n', n: 'n' },
  onnx: { wih: 'W', whh: 'R', bhh: 'Rb (the second half of B)', bhn: 'Rb_h', h0: 'initial_h', order: 'z|r|h', n: 'h' },
  keras: { wih: 'kernel', whh: 'recurrent_kernel', bhh: 'the recurrent bias (bias[1])', bhn: 'the recurrent bias of h', h0: 'initial_state', order: 'z|r|h', n: 'h' },
};

const D = (c: GruCase): number => (c.params.bidirectional ? 2 : 1);
const hasReverse = (c: GruCase): boolean => c.params.bidirectional || c.params.reverseOnly === true;
const hasNonZero = (a: FloatArray): boolean => a.some((v) => v !== 0);
const someShorter = (c: GruCase): boolean => !!c.lengths && c.lengths.some((l) => l < c.seqLen);

/** A copy of `a` (same type, so float32 weights keep the float32 kernel) with [from, to) kept and the rest zeroed. */
function zerosLike(a: FloatArray, from = 0, to = 0): FloatArray {
  const out = new (a.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(a.length);
  out.set(a.subarray(from, to), from);
  return out;
}

function mapParams(p: GruParams, f: (d: GruDirectionParams, layer: number) => GruDirectionParams): GruParams {
  return { ...p, layers: p.layers.map((dirs, k) => dirs.map((d) => f(d, k))) };
}

/** The (H, H) gate blocks `blocks` (0 r, 1 z, 2 n) of a (3H, H) matrix, each transposed in place. */
function transposeBlocks(w: FloatArray, H: number, blocks: readonly number[] = [0, 1, 2]): FloatArray {
  const out = w.slice();
  for (const g of blocks) out.set(transpose(w.subarray(g * H * H, (g + 1) * H * H), H, H), g * H * H);
  return out;
}

/** A row-major (3H, K) buffer reinterpreted as (K, 3H), then transposed: W.reshape(K, 3H).T. */
function reshapedNotTransposed(w: FloatArray, rows: number, cols: number): FloatArray {
  // (K, 3H) view: element [k][i] = w[k * rows + i]; its transpose [i][k] is what the port uses.
  return transpose(w, cols, rows);
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

/**
 * The backward direction started elsewhere than at each sequence's last valid step: it runs from
 * t = start(len) down to 0 and its output past the sequence's length is masked (the port knows
 * the lengths; only its reversal is wrong). The forward direction is untouched.
 */
function backwardStart(start: (len: number, T: number) => number): (r: Runner) => Runner {
  return (r) => {
    const lengthsOf = new WeakMap<LayerJob, Int32Array>();
    return eachLayer(r, {
      before: (job) => {
        const dirs = job.directions.map((d) => {
          if (!d.reverse || !d.lengths) return d;
          lengthsOf.set(job, d.lengths);
          return { ...d, lengths: Int32Array.from(d.lengths, (len) => Math.max(0, Math.min(d.seqLen, start(len, d.seqLen) + 1))) };
        });
        const j = { ...job, directions: dirs };
        lengthsOf.set(j, lengthsOf.get(job) ?? new Int32Array(0));
        return j;
      },
      after: (job) => {
        const lengths = lengthsOf.get(job);
        for (const d of reverseDirections(job)) {
          if (!lengths || lengths.length === 0) continue;
          const { seqLen: T, batchSize: B, hiddenSize: H, output } = d;
          const F = d.numDirections * H;
          for (let b = 0; b < B; b++) for (let t = lengths[b]!; t < T; t++) output.fill(0, (t * B + b) * F + d.direction * H, (t * B + b) * F + (d.direction + 1) * H);
        }
      },
    });
  };
}

/** h_n (or h0) rows permuted: the state of (layer l, direction d) at row `to(l, d)`. */
function permuteStates(s: FloatArray, c: GruCase, to: (l: number, d: number) => number): Float64Array {
  const L = c.params.numLayers;
  const per = s.length / (L * D(c));
  const out = new Float64Array(s.length);
  for (let l = 0; l < L; l++) for (let d = 0; d < D(c); d++) out.set(s.subarray((l * D(c) + d) * per, (l * D(c) + d + 1) * per), to(l, d) * per);
  return out;
}

/** Weights, input and h0 rounded as a port storing them in a narrower type would have them. */
function stored(c: GruCase, round: (x: number) => number): Pick<VariantPlan, 'params' | 'h0' | 'input'> {
  const r = (a: FloatArray): Float32Array => Float32Array.from(a, round);
  return {
    params: mapParams(c.params, (d) => ({ ...d, weightIh: r(d.weightIh), weightHh: r(d.weightHh), ...(d.biasIh ? { biasIh: r(d.biasIh) } : {}), ...(d.biasHh ? { biasHh: r(d.biasHh) } : {}) })),
    h0: Float64Array.from(c.h0, round),
    input: (run) => ({ ...run, input: r(run.input) }),
  };
}

/** The five wrong gate orders, named in the layout's own block order. */
function gateOrders(c: GruCase): Variant[] {
  const t = TERMS[c.config.layout];
  if (c.config.layout === 'pytorch') {
    return ['rnz', 'zrn', 'znr', 'nrz', 'nzr'].map((perm) => ({
      name: `gate-order:${perm}`,
      family: 'gate-order',
      fix: `reorder gate blocks r|z|n -> ${perm.split('').join('|')}: the port reads block 0 as ${perm[0]}, 1 as ${perm[1]}, 2 as ${perm[2]}, but PyTorch stacks r|z|n`,
      plan: (c) => ({ math: { gateOrder: perm } }),
    }));
  }
  // The file stacks z|r|n (ONNX, Keras); blocks reach the engine as r|z|n. A port reading the
  // file's blocks 0, 1, 2 as q[0], q[1], q[2] reads the engine's r block (file block 1) as q[1].
  return ['rzn', 'znr', 'rnz', 'nzr', 'nrz'].map((q) => {
    const named = q.replace('n', t.n);
    return {
      name: `${c.config.layout}-gate-order-${q}`,
      family: 'gate-order',
      fix: `read ${t.wih}, ${t.whh} and the biases as ${c.config.layout === 'onnx' ? 'ONNX' : 'Keras'} stacks them, ${t.order}: the port reads block 0 as ${q[0] === 'n' ? t.n : q[0]}, 1 as ${q[1] === 'n' ? t.n : q[1]}, 2 as ${q[2] === 'n' ? t.n : q[2]} (${named.split('').join('|')}${q === 'rzn' ? ", PyTorch's order" : ''})`,
      plan: (c) => ({ math: { gateOrder: `${q[1]}${q[0]}${q[2]}` } }),
    };
  });
}

function resetPlacement(c: GruCase): Variant[] {
  const lbr = c.math.linearBeforeReset;
  const t = TERMS[c.config.layout];
  if (c.config.layout === 'onnx') {
    return [{
      name: 'onnx-linear-before-reset',
      family: 'reset',
      fix: lbr
        ? `the node has linear_before_reset=1: apply r after the recurrent product, h~ = tanh(X W_h^T + r ⊙ (H R_h^T + Rb_h) + Wb_h); the port computes linear_before_reset=0's tanh(X W_h^T + (r ⊙ H) R_h^T + Rb_h + Wb_h)`
        : `the node has linear_before_reset=0: apply r before the recurrent product, h~ = tanh(X W_h^T + (r ⊙ H) R_h^T + Rb_h + Wb_h); the port computes linear_before_reset=1's tanh(X W_h^T + r ⊙ (H R_h^T + Rb_h) + Wb_h)`,
      plan: (c) => ({ math: { linearBeforeReset: !lbr } }),
    }];
  }
  if (c.config.layout === 'keras') {
    return [{
      name: 'keras-reset-after',
      family: 'reset',
      fix: lbr
        ? 'the layer has reset_after=True: apply r after the recurrent product, h~ = tanh(x W_h + b_h + r ⊙ (h U_h + b_rh))'
        : 'the layer has reset_after=False: apply r before the recurrent product, h~ = tanh(x W_h + (r ⊙ h) U_h + b_h)',
      plan: (c) => ({ math: { linearBeforeReset: !lbr } }),
    }];
  }
  if (!lbr) return [];
  return [{
    name: 'reset-before-matmul',
    family: 'reset',
    fix: `apply the reset gate after the recurrent matmul: n = tanh(W_in x + b_in + r * (W_hn h + ${t.bhn})) (ONNX: set linear_before_reset=1; Keras: reset_after=True)`,
    plan: (c) => ({ math: { linearBeforeReset: false } }),
  }];
}

/** Every variant that can exist (or show) in this case, named in its layout's terms. */
export function variantsFor(c: GruCase): Variant[] {
  // A GRUCell's initial state is its hx.
  const t = c.config.cell ? { ...TERMS.pytorch, h0: 'hx' } : TERMS[c.config.layout];
  const H = c.params.hiddenSize;
  const L = c.params.numLayers;
  const squareIh = c.params.layers.flatMap((dirs, k) => (dirs[0]!.inputSize === H ? [k] : []));
  const lbr = c.math.linearBeforeReset;
  const out: Variant[] = [...gateOrders(c), ...resetPlacement(c)];
  const add = (v: Variant, when = true): void => void (when && out.push(v));
  add({
    name: 'b_hn-outside-reset',
    family: 'bias',
    fix: `put ${t.bhn} inside the reset product: n = tanh(W_in x + b_in + r * (W_hn h + ${t.bhn}))`,
    plan: (c) => ({ math: { bHnOutsideReset: true } }),
  }, c.params.bias && lbr);
  add({
    name: 'b_hh-dropped',
    family: 'bias',
    fix: `add ${t.bhh}: the port leaves the recurrent biases out of all three gates`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, biasHh: zerosLike(d.biasHh!) })) }),
  }, c.params.bias);
  add({
    name: 'biases-summed-rz',
    family: 'bias',
    fix: `keep ${t.bhn}: fusing ${t.wih}'s and ${t.whh}'s biases is right for r and z only; the candidate gate needs ${t.bhn} ${lbr ? 'inside the reset product' : 'in its recurrent sum'}, and the port drops it`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, biasHh: zerosLike(d.biasHh!, 0, 2 * H) })) }),
  }, c.params.bias);
  add({
    name: 'biases-swapped',
    family: 'bias',
    fix: `swap the two bias rows back: Keras's reset_after=True bias is [input bias, recurrent bias] = [bias_ih, bias_hh] (each in z|r|h order); the port holds them the other way round, which moves ${t.bhn} out of the reset product`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, biasIh: d.biasHh!, biasHh: d.biasIh! })) }),
  }, c.params.bias && lbr && c.params.layers.some((dirs) => dirs.some((d) => d.biasIh!.some((v, i) => i >= 2 * H && v !== d.biasHh![i]))));
  add({
    name: 'h0-ignored',
    family: 'h0',
    fix: `pass the initial hidden state ${t.h0} to the GRU instead of starting from zeros`,
    plan: (c) => ({ h0: new Float64Array(c.h0.length) }),
  }, c.h0Given && hasNonZero(c.h0));
  add({
    name: 'w_hh-transposed',
    family: 'w_hh-layout',
    fix: `transpose ${t.whh}'s gate blocks back: use it as (3H, H) with h on the right (W_hh @ h), not h @ W_hh`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: transposeBlocks(d.weightHh, H) })) }),
  });
  for (const [g, letter] of ['r', 'z', 'n'].entries()) {
    add({
      name: `w_hh-block-transposed:${letter}`,
      family: 'w_hh-layout',
      fix: `read the ${letter === 'n' ? t.n : letter} block of ${t.whh} as stored: the port transposes that (H, H) block only`,
      plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: transposeBlocks(d.weightHh, H, [g]) })) }),
    });
  }
  add({
    name: 'w_hh-reshaped',
    family: 'w_hh-layout',
    fix: `transpose ${t.whh}, don't reshape it: the port reinterprets the row-major (3H, H) buffer as (H, 3H) (a reshape where a transpose was needed)`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightHh: reshapedNotTransposed(d.weightHh, 3 * H, H) })) }),
  });
  if (squareIh.length > 0) {
    const fromLayer = squareIh[0]!;
    add({
      name: 'w_ih-transposed',
      family: 'w_ih-layout',
      touches: { fromLayer },
      fix: `transpose ${t.wih}'s gate blocks back: use it as (3H, I) with x on the right (W_ih @ x), not x @ W_ih`,
      plan: (c) => ({ params: mapParams(c.params, (d) => (d.inputSize === H ? { ...d, weightIh: transposeBlocks(d.weightIh, H) } : d)) }),
    });
    for (const [g, letter] of ['r', 'z', 'n'].entries()) {
      add({
        name: `w_ih-block-transposed:${letter}`,
        family: 'w_ih-layout',
        touches: { fromLayer },
        fix: `read the ${letter === 'n' ? t.n : letter} block of ${t.wih} as stored: the port transposes that (H, ${H}) block only (layers with input size ${H})`,
        plan: (c) => ({ params: mapParams(c.params, (d) => (d.inputSize === H ? { ...d, weightIh: transposeBlocks(d.weightIh, H, [g]) } : d)) }),
      });
    }
  }
  add({
    name: 'w_ih-reshaped',
    family: 'w_ih-layout',
    fix: `transpose ${t.wih}, don't reshape it: the port reinterprets the row-major (3H, I) buffer as (I, 3H) (a reshape where a transpose was needed)`,
    plan: (c) => ({ params: mapParams(c.params, (d) => ({ ...d, weightIh: reshapedNotTransposed(d.weightIh, 3 * H, d.inputSize) })) }),
  });
  add({
    name: 'update-gate-inverted',
    family: 'update',
    fix: "swap the update gate's roles: h' = (1 - z) * n + z * h",
    plan: (c) => ({ math: { update: 'inverted' } }),
  });
  add({
    name: 'hard-sigmoid',
    family: 'activation',
    fix: 'use the logistic sigmoid for r and z, not Keras 2\'s hard_sigmoid clip(0.2x + 0.5) (Keras: recurrent_activation="sigmoid")',
    plan: (c) => ({ math: { f: { name: 'HardSigmoid', alpha: 0.2, beta: 0.5 } } }),
  }, c.math.f.name === 'Sigmoid');
  add({
    name: 'hard-sigmoid-keras3',
    family: 'activation',
    fix: 'use the logistic sigmoid for r and z: in Keras 3, recurrent_activation="hard_sigmoid" is relu6(x + 3) / 6, not sigmoid; build the layer with recurrent_activation="sigmoid" (the default)',
    plan: (c) => ({ math: { f: { name: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 } } }),
  }, c.math.f.name === 'Sigmoid');
  add({
    name: 'reverse-not-rereversed',
    family: 'backward-order',
    // Only the layer's output moves: its own h_n is right, the next layer's is not.
    touches: { fromLayer: L > 1 ? 1 : 0 },
    fix: "flip the backward direction's outputs back to input time order before concatenating",
    plan: (c) => ({ decorate: (r) => afterEachLayer(r, leaveInProcessingOrder) }),
  }, hasReverse(c));
  add({
    name: 'directions-swapped',
    family: 'direction-order',
    touches: { fromLayer: L > 1 ? 1 : 0 },
    fix: 'concatenate directions forward first: output[..., :H] is the forward pass, output[..., H:] the backward one',
    plan: (c) => ({ decorate: (r) => afterEachLayer(r, swapDirections) }),
  }, c.params.bidirectional);
  add({
    name: 'reverse-h_n-from-last-step',
    family: 'backward-state',
    touches: { backwardOnly: true, hnOnly: true },
    fix: "take the backward direction's h_n after it reaches t = 0 (its last step), not after its first step at t = T-1",
    plan: (c) => ({ decorate: (r) => afterEachLayer(r, reverseHnFromFirstStep) }),
  }, hasReverse(c));
  if (someShorter(c)) {
    add({
      name: 'lengths-ignored',
      family: 'lengths',
      touches: { shortSequencesOnly: true },
      fix: 'honour the sequence lengths: pack the batch (pack_padded_sequence) or stop each sequence at its length; the port runs every sequence over all T steps, padding included',
      plan: (c) => ({ input: (run) => ({ ...run, lengths: undefined }) }),
    });
    if (hasReverse(c)) {
      add({
        name: 'lengths-ignored-backward',
        family: 'lengths',
        touches: { shortSequencesOnly: true, backwardOnly: true },
        fix: 'start the backward direction at each sequence\'s last valid step (t = length-1), not at t = T-1: reverse each sequence within its length, not the padded batch',
        plan: (c) => ({ decorate: backwardStart((_len, T) => T - 1) }),
      });
      add({
        name: 'backward-off-by-one:late',
        family: 'lengths',
        touches: { shortSequencesOnly: true, backwardOnly: true },
        fix: 'start the backward direction at t = length-1: the port starts one step late, at t = length (x[length::-1] where x[length-1::-1] was meant)',
        plan: (c) => ({ decorate: backwardStart((len, T) => Math.min(len, T - 1)) }),
      });
      add({
        name: 'backward-off-by-one:early',
        family: 'lengths',
        touches: { backwardOnly: true },
        fix: 'start the backward direction at t = length-1: the port starts one step early, at t = length-2, and skips the last valid step',
        plan: (c) => ({ decorate: backwardStart((len) => len - 2) }),
      });
    }
    add({
      name: 'padded-steps-carried',
      family: 'padded-steps',
      touches: { shortSequencesOnly: true },
      fix: 'nothing is wrong on the valid steps: past each sequence\'s end the port carries its last valid output forward (Keras masking) where PyTorch writes zeros; check with --padded-steps ignore, or zero those steps in the port (multiply the output by the mask)',
      plan: () => ({ decorate: fillPaddedSteps('carried') }),
    });
    add({
      name: 'padded-steps-carried:h0',
      family: 'padded-steps',
      touches: { shortSequencesOnly: true },
      fix: 'nothing is wrong on the valid steps: past each sequence\'s end the port carries the last valid output forward, and a backward layer its initial state (Keras masking on the JAX backend, go_backwards=True), where PyTorch writes zeros; check with --padded-steps ignore, or zero those steps in the port (multiply the output by the mask)',
      plan: () => ({ decorate: fillPaddedSteps('carried-h0') }),
    }, hasReverse(c));
    add({
      name: 'padded-steps-computed',
      family: 'padded-steps',
      touches: { shortSequencesOnly: true },
      fix: 'nothing is wrong on the valid steps: past each sequence\'s end the port runs the recurrence on over the padding (Flax nn.RNN(seq_lengths=...)), returning the state at the end, where PyTorch writes zeros; check with --padded-steps ignore, or zero those steps in the port',
      plan: () => ({ decorate: fillPaddedSteps('computed') }),
    });
  }
  add({
    name: 'h_n-directions-swapped',
    family: 'state-order',
    touches: { hnOnly: true },
    fix: 'save each layer\'s final states forward first: Keras\'s Bidirectional(return_state=True) returns [output, forward_h, backward_h]; the port stores (backward_h, forward_h)',
    plan: (c) => ({ finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => l * 2 + (1 - d)) }) }),
  }, D(c) === 2);
  if (L > 1 && D(c) === 2) {
    add({
      name: 'h_n-direction-major',
      family: 'state-order',
      touches: { hnOnly: true },
      fix: 'stack h_n layer-major, as PyTorch does: the state of (layer l, direction d) goes to row l*2 + d, not d*num_layers + l',
      plan: (c) => ({ finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => d * L + l) }) }),
    });
    add({
      name: 'state-direction-major',
      family: 'state-order',
      fix: `index ${t.h0} and h_n layer-major, as PyTorch does: row l*2 + d holds (layer l, direction d); the port reads and writes them direction-major (d*num_layers + l)`,
      plan: (c) => {
        // The port reads row d*L + l of h0 as (l, d): the inverse of writing (l, d) there.
        const rows = L * 2;
        const per = c.h0.length / rows;
        const h0 = new Float64Array(c.h0.length);
        for (let l = 0; l < L; l++) for (let d = 0; d < 2; d++) h0.set(c.h0.subarray((d * L + l) * per, (d * L + l + 1) * per), (l * 2 + d) * per);
        return { h0, finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => d * L + l) }) };
      },
    }, c.h0Given && hasNonZero(c.h0));
  }
  add({
    name: 'h_n-layers-reversed',
    family: 'state-order',
    touches: { hnOnly: true },
    fix: 'stack h_n bottom layer first, as PyTorch does: row l*D + d holds layer l; the port writes the top layer first',
    plan: (c) => ({ finish: (r) => ({ ...r, hN: permuteStates(r.hN, c, (l, d) => (L - 1 - l) * D(c) + d) }) }),
  }, L > 1);
  add({
    name: 'batch-time-swapped',
    family: 'axes',
    mixesSequences: true,
    fix: 'swap the batch and time axes of input and output (a batch_first mismatch: check the layout the port assumes)',
    plan: (c) => ({
      input: (run) => ({ ...run, input: swapFirstAxes(run.input, run.seqLen, run.batchSize, run.params.inputSize), seqLen: run.batchSize, batchSize: run.seqLen, lengths: undefined }),
      finish: (r, run) => ({ ...r, output: swapFirstAxes(r.output, run.seqLen, run.batchSize, r.output.length / (run.seqLen * run.batchSize)) }),
    }),
  }, c.config.batched && !c.config.cell && c.seqLen === c.batchSize);
  // Precision: emulated, judged statistically when the emulation cannot match exactly.
  if (c.config.dtype !== 'float16') {
    add({
      name: 'fp16-storage',
      family: 'precision',
      judge: 'statistical',
      fix: 'keep the weights, input and h0 in float32 (the port stores them as float16: its error is float16 rounding, about 1e-3 relative); or, if float16 is intended, gate it with a float16 tolerance (--port-precision fp16)',
      plan: (c) => ({ ...stored(c, f16round), precision: 'f32' }),
    });
    add({
      name: 'fp16-compute',
      family: 'precision',
      judge: 'statistical',
      fix: 'compute in float32 (the port computes in float16: its error is float16 arithmetic, about 1e-3 relative, spread over every element); or, if float16 is intended, gate it with a float16 tolerance (--port-precision fp16)',
      plan: (c) => ({ ...stored(c, f16round), precision: 'f16' }),
    });
  }
  add({
    name: 'f32-compute',
    family: 'precision',
    judge: 'statistical',
    fix: 'compute in float64 as the model does: the port rounds weights, input and state to float32 (its error is float32 rounding, about 1e-7 relative)',
    plan: (c) => ({ ...stored(c, Math.fround), precision: 'f32' }),
  }, c.config.dtype === 'float64');
  return out;
}

/** The case's math with a variant's changes, per direction when the case has per-direction math. */
export function variantMath(c: GruCase, change: Partial<GateMath> | undefined): GateMath | readonly GateMath[] {
  const base = c.directionMath ?? c.math;
  if (!change) return base;
  return Array.isArray(base) ? (base as readonly GateMath[]).map((m) => withMath(m, change)) : withMath(base as GateMath, change);
}

/**
 * Two mistakes at once, as one variant (`a+b`): b's plan is made on the case as a left it, math
 * changes merged, decorators, input and final changes composed. Undefined when they cannot
 * combine (same family, or a precision emulation); its plan throws when both set one math field.
 */
export function pairOf(a: Variant, b: Variant): Variant | undefined {
  // Precision emulations are judged on statistics, which a second mistake would swamp.
  if (a.family === b.family || a.mixesSequences || b.mixesSequences || a.judge || b.judge) return undefined;
  const touches = {
    hnOnly: !!a.touches?.hnOnly && !!b.touches?.hnOnly,
    backwardOnly: !!a.touches?.backwardOnly && !!b.touches?.backwardOnly,
    shortSequencesOnly: !!a.touches?.shortSequencesOnly && !!b.touches?.shortSequencesOnly,
    fromLayer: Math.min(a.touches?.fromLayer ?? 0, b.touches?.fromLayer ?? 0),
  };
  const pair: Variant = {
    name: `${a.name}+${b.name}`,
    family: `${a.family}+${b.family}`,
    fix: `${a.fix}; and ${b.fix}`,
    touches,
    plan: (c) => {
      const p = a.plan(c);
      const q = b.plan({ ...c, params: p.params ?? c.params, h0: p.h0 ?? c.h0 });
      const clash = p.math && q.math && Object.keys(q.math).some((k) => k in p.math!);
      if (clash || (p.precision && q.precision)) throw new Error(`${a.name} and ${b.name} change the same thing`);
      const plan: VariantPlan = {};
      const params = q.params ?? p.params;
      if (params) plan.params = params;
      if (p.math || q.math) plan.math = { ...p.math, ...q.math };
      const h0 = q.h0 ?? p.h0;
      if (h0) plan.h0 = h0;
      if (p.decorate || q.decorate) plan.decorate = (r) => (q.decorate ? q.decorate(p.decorate ? p.decorate(r) : r) : p.decorate!(r));
      if (p.input || q.input) plan.input = (run) => (q.input ? q.input(p.input ? p.input(run) : run) : p.input!(run));
      if (p.finish || q.finish) plan.finish = (r, run) => (q.finish ? q.finish(p.finish ? p.finish(r, run) : r, run) : p.finish!(r, run));
      const precision = q.precision ?? p.precision;
      if (precision) plan.precision = precision;
      return plan;
    },
  };
  return pair;
}
