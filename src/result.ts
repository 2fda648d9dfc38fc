/**
 * The result contract: every type a check, a diagnosis or a run reports, and nothing else (types
 * only, no code, no imports). Producers (check.ts, compare/, diagnose/, baseline.ts, summary.ts)
 * and renderers (report/, cli/) import these from here, so the top of the import graph has one
 * root instead of circles through whoever first needed a type.
 *
 * `--format json` prints a RunSummary (run) or a DiagnosisReport (diagnose): schema/result.schema.json
 * is generated from this file (schema/make-result-schema.mjs) and every sample's JSON output is
 * validated against it (test/result-schema.test.ts).
 */

// ---- The case as reported -------------------------------------------------------------------

/** Weight naming and tensor layout of the dump: PyTorch state_dict, ONNX GRU node, Keras GRU layer. */
export type Layout = 'pytorch' | 'onnx' | 'keras';

export type FloatDType = 'float16' | 'float32' | 'float64';
export type Precision = 'f32' | 'f64';

/** Where batch_first came from, for the report. */
export type LayoutSource = 'flag' | 'config' | 'shapes' | 'unbatched' | 'layout';

export interface GruConfig {
  layout: Layout;
  /** For the ONNX layout, batchFirst is onnx_layout 1 (X [B, T, I], Y [B, T, D, H]). */
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  batchFirst: boolean;
  batched: boolean;
  dtype: FloatDType;
  /** An nn.GRUCell case (model/cell.ts): one call or a trace of calls, each one step from its own hx. */
  cell?: CellCalls;
}

/** The calls of a GRUCell case: h is (calls, batch, H), without the axes that are absent. */
export interface CellCalls {
  /** A trace of recorded calls (config "trace": true): calls is its leading axis. */
  trace: boolean;
  calls: number;
  batch: number;
  /** The calls had a batch axis. */
  batched: boolean;
}

/** ONNX's activation functions (model/math.ts ACTIVATIONS lists them for run-time checks). */
export type ActivationName =
  | 'Sigmoid' | 'Tanh' | 'Relu' | 'HardSigmoid' | 'Affine' | 'LeakyRelu' | 'ThresholdedRelu' | 'ScaledTanh' | 'Elu' | 'Softsign' | 'Softplus';

export interface Activation {
  name: ActivationName;
  /** Used by HardSigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, Elu; else 0. */
  alpha: number;
  /** Used by HardSigmoid, Affine, ScaledTanh; else 0. */
  beta: number;
}

/** The gate math of one GRU step as plain data; the equations are in model/math.ts. */
export interface GateMath {
  linearBeforeReset: boolean;
  /** The gate activation, for r and z. */
  f: Activation;
  /** The candidate activation, for n. */
  g: Activation;
  /** Pre-activations are clipped to [-clip, clip]; null: no clip. */
  clip: number | null;
  update: 'standard' | 'inverted';
  bHnOutsideReset: boolean;
  /** Order in which the weights' stacked gate blocks are read; PyTorch's is 'rzn'. */
  gateOrder: string;
}

// ---- Warnings and problems ------------------------------------------------------------------

/** What gru-check read but did not use or had to assume: data, escaped by each output for itself. */
export interface CaseWarning {
  /** Stable: 'CONFIG_UNKNOWN_KEY', 'CONFIG_DTYPE', 'ONNX_DEFAULT_DIFFERS', 'ONNX_EXTRA_ALPHA', ... */
  code: string;
  /** One sentence; names from the file are not escaped here (every output escapes for itself). */
  message: string;
}

// ---- One comparison -------------------------------------------------------------------------

/** How a check decides pass: isclose on every element, or one statistic of the error. */
export type ErrorStat = 'elemwise' | 'max' | 'mean' | 'median' | 'quantile';

/** A port's precision preset (compare/tolerance.ts PORT_PRESETS). */
export type PortPrecision = 'fp16' | 'bf16' | 'int8';

/** The criteria one check was held to, each with where it came from. */
export interface Tolerance {
  rtol: number;
  atol: number;
  /** Where each came from, for the report: 'default for float32', '--atol h_n', ... */
  rtolSource: string;
  atolSource: string;
  /** How the check decides pass; absent: 'elemwise'. */
  checkErrorStat?: ErrorStat;
  checkErrorStatSource?: string;
  /** absent: 0.99. */
  errorQuantile?: number;
  minCosine?: number;
  minCosineSource?: string;
  maxRelL2?: number;
  maxRelL2Source?: string;
  /** The preset in force for this check (candidate checks only). */
  preset?: PortPrecision;
}

/**
 * |a - e| per octave, from the smallest occupied octave to the largest (subnormal values count in
 * the octave of 2^-1023); exact zeros apart.
 */
export interface ErrorHistogram {
  /** Elements whose difference is exactly 0. */
  zeros: number;
  minExp: number;
  counts: number[];
}

/** Set with --baseline: the recorded error and whether this run regressed past factor × it. */
export interface BaselineVerdict {
  /** null: this check has no entry in the baseline. */
  recorded: number | null;
  factor: number;
  limit: number | null;
  regressed: boolean;
  /** Why the check failed against the baseline, one sentence; absent when it did not. */
  reason?: string;
}

/** One tensor compared with another (compare/isclose.ts compareTensors). */
export interface CheckResult {
  tensor: 'output' | 'h_n';
  subject: 'reference' | 'candidate';
  against: 'expected' | 'reference';
  pass: boolean;
  shape: number[];
  total: number;
  mismatched: number;
  /** null when the check could not be made element by element (see problem). */
  maxAbsError: number | null;
  maxAbsIndex: number[] | null;
  maxRelError: number | null;
  maxRelIndex: number[] | null;
  meanAbsError: number | null;
  atol: number;
  rtol: number;
  /** Smallest atol that passes at this rtol; null when no atol can (NaN/inf mismatches). */
  requiredAtol: number | null;
  /** First index along the time axis with a mismatch (output only); null if none. */
  firstMismatchStep: number | null;
  /** Mismatches where a or e is NaN or infinite. */
  nonFiniteMismatched: number;
  /**
   * Elements left out of maxRelError because the expected value is 0 (or so small that the relative
   * error overflows to infinity) and the difference is not.
   */
  zeroExpected: number;
  /**
   * Error statistics, set by compareTensors on every check (null where the check has a problem or
   * no element has a finite difference). Medians and quantiles are np.median / np.quantile
   * ('linear'); `Rel` ones are of |a - e| / |e| over the relCount elements with e != 0 (elements
   * with e == 0 are left out whatever a is).
   */
  medianAbsError?: number | null;
  /** np.quantile(|a - e|, errorQuantile). */
  quantileAbsError?: number | null;
  medianRelError?: number | null;
  quantileRelError?: number | null;
  /** Elements in the relative statistics: e != 0 and a finite ratio. */
  relCount?: number;
  /** The q of quantileAbsError / quantileRelError (and of checkErrorStat 'quantile'). */
  errorQuantile?: number;
  /** ||a - e||_2 / ||e||_2; null when ||e|| = 0. */
  relL2?: number | null;
  /** a.e / (||a||_2 ||e||_2); null when either norm is 0. */
  cosine?: number | null;
  /** How pass was decided: 'elemwise' (isclose on every element) or a statistic (statError...). */
  checkErrorStat?: ErrorStat;
  /** With a statistic: STAT(|a - e|), STAT(|e|), and the bound atol + rtol * STAT(|e|) it was held to. */
  statError?: number | null;
  statExpected?: number | null;
  statLimit?: number | null;
  /** Extra pass criteria in force (CompareOptions.minCosine / maxRelL2). */
  minCosine?: number;
  maxRelL2?: number;
  /** |a - e| per octave (compare/stats.ts), for the histograms; not in --format json. */
  errorHistogram?: ErrorHistogram;
  /** Max |a - e| per time step (output only), for the drift sparkline. */
  stepMaxAbs?: number[];
  /**
   * Max |a - e| over every axis but two, for the heatmap: output -> rows = time steps, cols =
   * features (D*H); h_n -> rows = layer*direction, cols = hidden units. values is row-major.
   */
  errorMap?: { rows: number; cols: number; rowLabel: string; colLabel: string; values: number[] };
  /**
   * Set when the check could not be made element by element: "shape mismatch: expected [..], got
   * [..]". Then pass is false, every element counts as mismatched and the error metrics are null.
   */
  problem?: string;
  /** Set when the check covers part of the tensor: 'last layer' (a candidate's final states of the last layer only). */
  part?: string;
  /** The tensor's own name when not `tensor`'s: 'h', a GRUCell's output (checked as `output`). */
  label?: string;
  /** Set with --baseline: the recorded error and whether this run regressed past factor × it. */
  baseline?: BaselineVerdict;
}

// ---- One case -------------------------------------------------------------------------------

export type Engine = 'fast' | 'reference';

/** --padded-steps: 'strict' compares a candidate's output at padded steps, 'ignore' does not. */
export type PaddedStepsMode = 'strict' | 'ignore';

/** What a candidate holds at padded steps (compare/padded.ts). */
export type PaddedHolds = 'zeros' | 'carried' | 'computed' | 'other';

/** A candidate's output past each sequence's end, when the case has lengths below T. */
export interface PaddedSteps {
  /** --padded-steps: 'strict' compared these steps, 'ignore' did not. */
  mode: PaddedStepsMode;
  /** Output elements at t >= lengths[b]. */
  elements: number;
  /**
   * What the candidate holds there: zeros (PyTorch's and ONNX's), carried (the last valid output
   * carried forward, Keras masking), computed (the recurrence run on over the padding,
   * Flax's nn.RNN(seq_lengths=...)), or other.
   */
  holds: PaddedHolds;
  /**
   * The candidate's valid steps and h_n pass and only the padded steps fail (strict), or would
   * (ignore: the padded steps differ from PyTorch's zeros and were left out).
   */
  onlyDifference: boolean;
}

/** When a piece of fast-engine work started, was set up and ended (ms). */
export interface PieceTimes {
  start: number;
  /** Kernel set up (weights packed), time loop about to start. */
  setup: number;
  end: number;
}

/** Who computed a piece and when: how the threads shared a run. */
export interface PieceTrace extends PieceTimes {
  layer: number;
  direction: number;
  b0: number;
  b1: number;
  thread: 'main' | 'worker';
}

export interface Timings {
  /** Loading and validating the case (0 when checkCase was given a validated case). */
  loadMs: number;
  /** Time to compute the reference GRU, with whichever engine. */
  referenceMs: number;
  compareMs: number;
  engine?: Engine;
  /** Threads that computed (1 = in-process); 1 for the reference engine. */
  threads?: number;
  /** What computed the products: 'wasm-fma' or 'wasm-simd' (the fast engine's wasm builds), 'js', or 'reference'. */
  kernel?: string;
  /**
   * With CheckOptions.trace (the CLI: GRU_CHECK_TRACE=1): each piece of fast-engine work, who ran it
   * and when, in ms from the start of the computation. How the threads shared the run.
   */
  pieces?: PieceTrace[];
}

/** One porting mistake re-enacted by `diagnose`, scored against the tensors under test. */
export interface DiagnosisEntry {
  /** Stable name, e.g. 'gate-order:zrn', 'reset-before-matmul'. */
  variant: string;
  /** The variant passes the isclose check(s) the tensors under test failed. */
  matches: boolean;
  /**
   * matches: within tolerance; likely: an emulation that cannot be exact (precision) whose error
   * has the port's size and spread; closest: explains most of the error (its max error is at most
   * a tenth of the port's own) without matching; no: none of these.
   */
  verdict: 'matches' | 'likely' | 'closest' | 'no';
  /** Greatest |variant - tested| over the tensors under test. */
  maxAbsError: number;
  /** One line: what to change in the port. */
  fix: string;
  /**
   * Set when the variant was tried only on these sequences (batch indices) and did not reproduce
   * them: it does not match, and maxAbsError is its error on them (a lower bound for the batch).
   */
  screenedOn?: number[];
  /** Set when the screen was also cut to the first steps (a forward-only GRU): how many. */
  screenedSteps?: number;
}

export type Direction = 'forward' | 'backward';

/** diagnose: where the tensors under test fail (diagnose/where.ts). */
export interface Where {
  /** The tensors with a failing element. */
  tensors: ('output' | 'h_n')[];
  /** The failure starts at this layer: every h_n row of the layers before it passes. null: h_n not checked per layer. */
  layer: number | null;
  /** Only this direction fails (h_n rows and output half); null: both, or one direction only. */
  direction: Direction | null;
  /** The failing sequences (batch indices); null when the case is unbatched. */
  sequences: number[] | null;
  /** With lengths: the failing sequences are exactly those shorter than T, and some sequence of length T passes. */
  onlyShorterThanT?: boolean;
  /** The first failing step in processing order (forward: earliest t; backward: latest t), by direction. */
  firstStep: number | null;
  firstStepByDirection: Partial<Record<Direction, number | null>>;
  /** Each h_n row's verdict, with its layer and direction (rows of a last-layer-only candidate: that layer's). */
  hnRows: { row: number; layer: number; direction: Direction; pass: boolean }[];
  /** Each half of the (last layer's) output, bidirectional only. */
  outputHalves: Partial<Record<Direction, 'pass' | 'fail'>>;
  summary: string;
}

/** What a case's baseline lookup found. */
export interface CaseBaseline {
  status: 'found' | 'missing';
  fingerprint: string | null;
  /** The label the entry was recorded under (may differ from this run's path). */
  label?: string;
  reason?: string;
}

/** One case checked (run) or diagnosed (diagnose). */
export interface CaseResult {
  /** The case's path, or its name in a suite (then `path` holds the path). */
  case: string;
  path?: string;
  pass: boolean;
  /** One-line description of an input error; the case was not checked. */
  error?: string;
  errorCode?: string;
  config?: GruConfig;
  /** How batch_first was decided. */
  layoutSource?: LayoutSource;
  precision?: Precision;
  /** Reset-gate placement used: true is PyTorch's (ONNX linear_before_reset=1). */
  linearBeforeReset?: boolean;
  /** The gate math computed (model/math.ts): one entry, or one per direction when they differ. */
  math?: GateMath[];
  /** ONNX direction="reverse": the single direction runs backwards. */
  reverseOnly?: boolean;
  /** Path of the candidate (port) outputs, when checked. */
  candidate?: string;
  /** How the candidate's output was read (e.g. "seq-first", "onnx, 6 of 7 steps (read as padded)"). */
  candidateLayout?: string;
  /** The candidate's least precise dtype: its tolerances apply when looser than the case's. */
  candidateDtype?: FloatDType;
  /** The candidate's final states cover only the last layer: its h_n checks compare those rows. */
  candidateStates?: 'every layer' | 'last layer';
  /** The candidate's output at padded steps (a case with lengths below T). */
  paddedSteps?: PaddedSteps;
  /** Whether h0 came from the dump (else zeros). */
  h0Given?: boolean;
  /** Module prefix of the GRU's weights, '' if none. */
  prefix?: string;
  lengths?: number[];
  tolerance?: Record<string, Tolerance>;
  /** The precision preset the candidate's checks were held to (compare/tolerance.ts PORT_PRESETS). */
  portPrecision?: PortPrecision;
  checks: CheckResult[];
  /** Set by `diagnose`: every variant tried, best first. */
  diagnosis?: DiagnosisEntry[];
  /** diagnose: where the tensors under test fail (layer, direction, sequences, first step). */
  where?: Where;
  /** What gru-check read but did not use or had to assume; [] when nothing. */
  warnings?: CaseWarning[];
  /** How something unusual but valid was read (e.g. an output trimmed to max(lengths)). */
  notes?: string[];
  /** Where the weights came from when not a state_dict (e.g. "ONNX nodes /GRU, /GRU_1"). */
  weightsFrom?: string;
  /** SHA-256 of the case's arrays (and of --weights'), with CheckOptions.fingerprint: what baselines key by. */
  fingerprint?: string;
  /** Set with --baseline: whether the case had an entry. */
  baselineCase?: CaseBaseline;
  timings: Timings;
}

// ---- One run --------------------------------------------------------------------------------

/** How many cases passed, failed, or could not be checked. */
export interface CaseCounts {
  cases: number;
  passed: number;
  failed: number;
  errors: number;
}

/** A whole run (one or several cases); `--format json` of run prints one (report/json.ts). */
export interface RunSummary {
  pass: boolean;
  summary: CaseCounts;
  cases: CaseResult[];
  /** With --shard K/N: this run checked shard `index` of `count`, `summary.cases` of `total` cases. */
  shard?: { index: number; count: number; total: number };
}

/** A variant as `diagnose --format json` prints it: maxAbsError null where it is not finite. */
export interface DiagnosisReportEntry extends Omit<DiagnosisEntry, 'maxAbsError'> {
  maxAbsError: number | null;
}

/** `diagnose --format json` (report/diagnosis.ts): the checks, where they fail, every variant tried. */
export interface DiagnosisReport {
  pass: boolean;
  case: string;
  candidate?: string;
  config?: GruConfig;
  checks: CheckResult[];
  where?: Where;
  diagnosis: DiagnosisReportEntry[];
  summary: CaseCounts;
}
