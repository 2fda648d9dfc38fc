/**
 * `--onnx MODEL.onnx`: run the port itself. The model runs in ONNX Runtime (onnxruntime-node, an
 * optional dependency loaded only here) on the case's input and h0, and what it returns is the
 * candidate, read like any other (align.ts). Inputs and outputs are found by name: `input` / `h0`
 * -> `output` / `h_n` (what torch.onnx.export names them from samples/gru_dump.py's names),
 * `X` / `initial_h` -> `Y` / `Y_h` (a bare ONNX GRU node), or as --onnx-map says.
 *
 * Inputs are fed in the case's own layout (a batch_first case's input as [B, T, I], as the
 * exported module took it). A model with a lengths input (`lengths` or `sequence_lens`) gets the
 * case's lengths; one without runs every sequence over all T steps, and a warning says so.
 */
import { createRequire } from 'node:module';
import { GruCheckError } from '../errors.js';
import type { GruCase, Tensor } from '../model/types.js';
import { swapFirstAxes } from '../model/arrays.js';
import type { CaseWarning } from '../model/config.js';
import type { CandidateTensors } from './align.js';

export type OnnxRole = 'input' | 'h0' | 'lengths' | 'output' | 'h_n';

/** Names tried for each role, in order, when --onnx-map does not name it. */
const DEFAULT_NAMES: Record<OnnxRole, string[]> = {
  input: ['input', 'X', 'x', 'inputs'],
  h0: ['h0', 'initial_h', 'hx', 'h'],
  lengths: ['lengths', 'sequence_lens', 'seq_lens'],
  output: ['output', 'Y', 'y', 'outputs'],
  h_n: ['h_n', 'Y_h', 'hn', 'h_out'],
};

/** `input=X,h0=initial_h,output=Y,h_n=Y_h` -> a role map; throws USAGE on anything else. */
export function parseOnnxMap(text: string): Partial<Record<OnnxRole, string>> {
  const out: Partial<Record<OnnxRole, string>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(input|h0|lengths|output|h_n)=(.+)$/.exec(part);
    if (!m) throw new GruCheckError('USAGE', `--onnx-map: '${part}' is not role=name`, { hint: 'roles: input, h0, lengths, output, h_n, e.g. --onnx-map input=X,output=Y' });
    out[m[1] as OnnxRole] = m[2]!;
  }
  return out;
}

interface OrtTensor {
  dims: readonly number[];
  type: string;
  data: ArrayLike<number> | ArrayLike<bigint>;
}
interface OrtModule {
  Tensor: new (type: string, data: Float32Array | Float64Array | BigInt64Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(path: string, options?: object): Promise<{ inputNames: readonly string[]; outputNames: readonly string[]; run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }> };
}

async function loadOrt(): Promise<OrtModule> {
  try {
    // require, not import(): the CLI bundle is run by vm.Script (bin/load-cli.cjs), where import()
    // has no loader; onnxruntime-node is a CommonJS package either way.
    return createRequire(import.meta.url)('onnxruntime-node') as OrtModule;
  } catch (e) {
    throw new GruCheckError('USAGE', `--onnx runs the model in ONNX Runtime, which is not installed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      hint: 'npm install onnxruntime-node (with onnxruntime-node-install=skip in .npmrc to skip its GPU download)',
    });
  }
}

/** The case's input and h0 as the port took them: the case's own layout. */
function caseInputs(c: GruCase): { input: { data: Float32Array | Float64Array; dims: number[] }; h0: { data: Float32Array | Float64Array; dims: number[] } } {
  const { seqLen: T, batchSize: B } = c;
  const I = c.params.inputSize;
  const H = c.params.hiddenSize;
  const LD = c.params.numLayers * (c.params.bidirectional ? 2 : 1);
  const { layout, batched, batchFirst } = c.config;
  let input = c.input;
  let dims = [T, B, I];
  if (!batched) dims = [T, I];
  else if (batchFirst || layout === 'keras') {
    input = swapFirstAxes(c.input, T, B, I);
    dims = [B, T, I];
  }
  let h0 = c.h0;
  let h0dims = batched ? [LD, B, H] : [LD, H];
  if (layout === 'keras') h0dims = [B, H];
  if (layout === 'onnx' && batchFirst) {
    h0 = swapFirstAxes(c.h0, LD, B, H);
    h0dims = [B, LD, H];
  }
  return { input: { data: input, dims }, h0: { data: h0, dims: h0dims } };
}

export async function runOnnxModel(path: string, c: GruCase, map: Partial<Record<OnnxRole, string>>, warnings: CaseWarning[]): Promise<CandidateTensors> {
  const ort = await loadOrt();
  let session: Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new GruCheckError('BAD_ONNX', `ONNX Runtime cannot load the model: ${(e as Error).message.split('\n')[0]}`, { file: path });
  }
  const find = (role: OnnxRole, names: readonly string[]): string | undefined => {
    if (map[role] !== undefined) {
      if (!names.includes(map[role]!)) {
        throw new GruCheckError('USAGE', `--onnx-map ${role}=${map[role]}: the model has no such ${role === 'output' || role === 'h_n' ? 'output' : 'input'} (it has ${names.join(', ')})`, { file: path });
      }
      return map[role];
    }
    return DEFAULT_NAMES[role].find((n) => names.includes(n));
  };
  const inName = find('input', session.inputNames);
  if (!inName) {
    throw new GruCheckError('USAGE', `the model's inputs are ${session.inputNames.join(', ')}: none is named input or X`, { file: path, hint: 'say which with --onnx-map input=NAME' });
  }
  const h0Name = find('h0', session.inputNames);
  const lenName = find('lengths', session.inputNames);
  const unknown = session.inputNames.filter((n) => n !== inName && n !== h0Name && n !== lenName);
  if (unknown.length > 0) {
    throw new GruCheckError('USAGE', `the model takes inputs gru-check cannot feed: ${unknown.join(', ')}`, { file: path, hint: 'name their roles with --onnx-map (input, h0, lengths)' });
  }
  const { input, h0 } = caseInputs(c);
  const f = (x: Float32Array | Float64Array, dims: number[]): OrtTensor => new ort.Tensor(x instanceof Float64Array ? 'float64' : 'float32', x, dims);
  const feeds: Record<string, OrtTensor> = { [inName]: f(input.data, input.dims) };
  if (h0Name) feeds[h0Name] = f(h0.data, h0.dims);
  if (lenName) {
    if (!c.lengths) throw new GruCheckError('USAGE', `the model takes sequence lengths (${lenName}) and the case has none`, { file: path });
    feeds[lenName] = new ort.Tensor(lenName === 'sequence_lens' ? 'int32' : 'int64', lenName === 'sequence_lens' ? Int32Array.from(c.lengths) as unknown as Float32Array : BigInt64Array.from(c.lengths, BigInt), [c.batchSize]);
  } else if (c.lengths) {
    warnings.push({ code: 'ONNX_NO_LENGTHS', message: `the ONNX model takes no sequence lengths: it ran every sequence over all ${c.seqLen} steps, so steps past a sequence's length are compared as it computed them` });
  }
  let out: Record<string, OrtTensor>;
  try {
    out = await session.run(feeds);
  } catch (e) {
    throw new GruCheckError('BAD_ONNX', `ONNX Runtime refused the case's inputs: ${(e as Error).message.split('\n')[0]}`, { file: path, hint: 'a model exported with fixed shapes runs only on the shapes it was traced with: export with dynamic_axes, or dump the case with the same shapes' });
  }
  const outName = find('output', session.outputNames);
  const hnName = find('h_n', session.outputNames);
  if (!outName && !hnName) {
    throw new GruCheckError('USAGE', `the model's outputs are ${session.outputNames.join(', ')}: none is named output, h_n, Y or Y_h`, { file: path, hint: 'say which with --onnx-map output=NAME,h_n=NAME' });
  }
  const tensor = (t: OrtTensor): Tensor => ({
    shape: [...t.dims],
    dtype: t.type === 'float64' ? 'float64' : t.type === 'float16' ? 'float16' : 'float32',
    data: t.type === 'float64' ? Float64Array.from(t.data as ArrayLike<number>) : Float32Array.from(t.data as ArrayLike<number>),
  });
  const cand: CandidateTensors = { source: path, names: [outName, hnName].filter((n): n is string => n !== undefined) };
  if (outName) cand.output = tensor(out[outName]!);
  if (hnName) cand.h_n = tensor(out[hnName]!);
  return cand;
}
