/**
 * What a caller may tell buildCase about a case beyond its arrays (flags, suite keys, the library's
 * options), in one place the layout readers (pytorch, onnx, keras, cell) share with case.ts.
 */
import type { ArrayBundle } from '../io/types.js';
import type { Layout } from '../result.js';

export interface CaseOptions {
  /** Module prefix of the GRU's weights (`encoder.rnn`), when the file holds several. PyTorch and Keras layouts. */
  prefix?: string | undefined;
  /** From --batch-first / --seq-first; overrides config and shapes. On an ONNX case: onnx_layout 1 / 0. */
  batchFirst?: boolean | undefined;
  /** Weights from a separate file (--weights); then the case's own weights are ignored. */
  weights?: ArrayBundle | undefined;
  /** Weight names and tensor layout; default: config.layout, else recognised from the array names. */
  layout?: Layout | undefined;
  /** ONNX: linear_before_reset (default: config, else 0 as in ONNX). Keras: must agree with reset_after. */
  linearBeforeReset?: boolean | undefined;
  /** Refuse (TOO_LARGE) a case whose computation would need more memory than this. */
  maxBytes?: number | undefined;
  /** false: a case without expected tensors is fine (a candidate will be checked against the reference). */
  requireExpected?: boolean | undefined;
  /** ONNX only: direction (default: config, else from W's first dim: 1 forward, 2 bidirectional). */
  direction?: OnnxDirection | undefined;
  /** ONNX only: the node's layout attribute (0: X [T, B, I]; 1: X [B, T, I]). */
  onnxLayout?: 0 | 1 | undefined;
  /** ONNX only: clip threshold for the gate pre-activations. */
  clip?: number | undefined;
  /** ONNX only: f, g (and f, g for the reverse direction) by ONNX name. */
  activations?: string[] | undefined;
  activationAlpha?: number[] | undefined;
  activationBeta?: number[] | undefined;
  /** Weights from an .onnx model holding several GRUs: any node of the GRU (chain) to check. */
  node?: string | undefined;
  /** ONNX only: the order of the gate blocks in W, R and B ('zrn', ONNX's; 'rzn', as WebNN may store them). */
  gateOrder?: 'zrn' | 'rzn' | undefined;
}

export type OnnxDirection = 'forward' | 'reverse' | 'bidirectional';

/** The CaseOptions that decide how arrays become a case: meaningless once a case is built. */
export const BUILD_OPTIONS = ['prefix', 'batchFirst', 'weights', 'layout', 'linearBeforeReset', 'direction', 'onnxLayout', 'clip', 'activations', 'activationAlpha', 'activationBeta', 'node', 'gateOrder'] as const satisfies readonly (keyof CaseOptions)[];
