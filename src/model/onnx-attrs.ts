/**
 * One ONNX GRU node's attributes, validated as the ONNX spec (Operators.md, GRU-22; `layout` since
 * GRU-14) defines them, into plain settings. Validated once here; every reader of a node (the
 * ONNX-layout case with --weights model.onnx, the PyTorch-layout stack from a model) takes these.
 *
 *   direction            STRING  "forward" | "reverse" | "bidirectional"   (default "forward")
 *   hidden_size          INT     > 0                                        (checked against R)
 *   linear_before_reset  INT     0 | 1                                      (default 0)
 *   clip                 FLOAT   finite and > 0                             (default: none)
 *   activations          STRINGS ONNX RNN activation names (any case, as ONNX Runtime reads them)
 *   activation_alpha     FLOATS  finite
 *   activation_beta      FLOATS  finite
 *   layout               INT     0 | 1                                      (default 0)
 *
 * An attribute of another type, another name, or out of its range is UNSUPPORTED_ONNX naming the
 * node and the attribute: ONNX Runtime refuses most such models, and reads lbr=5 as 1; computing
 * them anyway would check a GRU nobody can run. Names come from the file: callers escape.
 */
import { GruCheckError } from '../errors.js';
import type { OnnxAttribute, OnnxNode } from '../io/types.js';
import { ACTIVATIONS } from './math.js';
import { activationName } from './activations.js';

export type OnnxDirection = 'forward' | 'reverse' | 'bidirectional';

export interface OnnxNodeSettings {
  direction: OnnxDirection;
  hiddenSize: number | undefined;
  linearBeforeReset: boolean;
  clip: number | null;
  /** As the node lists them; undefined when the attribute is absent. */
  activations: string[] | undefined;
  activationAlpha: number[] | undefined;
  activationBeta: number[] | undefined;
  layout: 0 | 1;
  /** Which attributes the node sets (ONNX names), for messages. */
  set: string[];
}

const TYPE_NAMES: Record<OnnxAttribute['type'], string> = { float: 'FLOAT', int: 'INT', string: 'STRING', floats: 'FLOATS', ints: 'INTS', strings: 'STRINGS', tensor: 'TENSOR', other: 'another type' };

/** The GRU attributes and their ONNX types. */
const SCHEMA: Record<string, OnnxAttribute['type']> = {
  direction: 'string',
  hidden_size: 'int',
  linear_before_reset: 'int',
  clip: 'float',
  activations: 'strings',
  activation_alpha: 'floats',
  activation_beta: 'floats',
  layout: 'int',
};

/**
 * A FLOAT attribute as the number the exporter meant: ONNX stores float32, so clip=0.3 arrives as
 * 0.30000001192092896; the shortest decimal that rounds to the same float32 (0.3) is what the
 * user wrote and what messages show. The two differ by under one float32 ulp.
 */
export function float32Decimal(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === Math.fround(x)) return d;
  }
  return x;
}

export const showNode = (n: OnnxNode): string => n.name || `(unnamed ${n.opType} -> ${n.outputs[0] ?? '?'})`;

export function onnxNodeSettings(node: OnnxNode, file: string): OnnxNodeSettings {
  const where = `GRU node ${showNode(node)}`;
  const bad = (name: string, why: string): never => {
    throw new GruCheckError('UNSUPPORTED_ONNX', `${where}: attribute ${name} ${why}`, { file, hint: 'ONNX Runtime refuses such a node too: fix the exporter or the model (onnx.checker.check_model names it)' });
  };
  const a = node.attributes;
  for (const [name, v] of Object.entries(a)) {
    const want = SCHEMA[name];
    if (!want) bad(`'${name}'`, `is not an attribute of ONNX's GRU (it has ${Object.keys(SCHEMA).join(', ')})`);
    if (v.type !== want) bad(name, `must be ${TYPE_NAMES[want!]}, got ${TYPE_NAMES[v.type]}`);
  }
  const get = <T>(name: string): T | undefined => (a[name] as unknown as { value: T } | undefined)?.value;

  const direction = get<string>('direction') ?? 'forward';
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    bad('direction', `must be "forward", "reverse" or "bidirectional", got ${JSON.stringify(direction)}`);
  }
  const hiddenSize = get<number>('hidden_size');
  if (hiddenSize !== undefined && !(Number.isInteger(hiddenSize) && hiddenSize > 0)) bad('hidden_size', `must be a positive integer, got ${hiddenSize}`);
  const lbr = get<number>('linear_before_reset') ?? 0;
  if (lbr !== 0 && lbr !== 1) bad('linear_before_reset', `must be 0 or 1, got ${lbr}`);
  const clip0 = get<number>('clip');
  const clip = clip0 === undefined ? undefined : float32Decimal(clip0);
  if (clip !== undefined && !(Number.isFinite(clip) && clip > 0)) bad('clip', `must be a finite number > 0 (the bound of [-clip, clip]), got ${clip}`);
  const layout = get<number>('layout') ?? 0;
  if (layout !== 0 && layout !== 1) bad('layout', `must be 0 (X [seq, batch, input]) or 1 (X [batch, seq, input]), got ${layout}`);
  const activations = get<string[]>('activations');
  for (const n of activations ?? []) {
    if (!activationName(n)) bad('activations', `names ${JSON.stringify(n)}, not an ONNX RNN activation (${ACTIVATIONS.join(', ')})`);
  }
  const nums = (name: string): number[] | undefined => {
    const v = get<number[]>(name)?.map(float32Decimal);
    if (v?.some((x) => !Number.isFinite(x))) bad(name, `must hold finite numbers, got [${v.join(', ')}]`);
    return v;
  };
  return {
    direction: direction as OnnxDirection,
    hiddenSize,
    linearBeforeReset: lbr === 1,
    clip: clip ?? null,
    activations,
    activationAlpha: nums('activation_alpha'),
    activationBeta: nums('activation_beta'),
    layout: layout as 0 | 1,
    set: Object.keys(a),
  };
}
