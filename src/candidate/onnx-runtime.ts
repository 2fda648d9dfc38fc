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
 *
 * ONNX Runtime is kept in its box: it runs in a child process (so Ctrl-C is handled at once), its
 * loggers at FATAL and its output discarded (nothing of its own on stderr), its telemetry off
 * (nothing under $HOME), its errors one escaped line. The model is first read by gru-check's own
 * reader (io/, every weight included, under the run's --max-bytes), so a model too large, or
 * external data that points out of the model's folder, is refused before ONNX Runtime opens it.
 * Outputs:
 * float32/float64 as they are, float16 decoded from its bits, bfloat16 (which onnxruntime-node
 * cannot return) and integer outputs exit 2 naming the output.
 */
import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';
import { GruCheckError } from '../errors.js';
import { decodeElements } from '../io/dtypes.js';
import { loadArrays } from '../io/load.js';
import { showName } from '../io/text.js';
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

/** A tensor as it crosses to and from the worker: plain data, structured-cloned. */
interface WireTensor {
  type: string;
  dims: number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/**
 * The child process that holds ONNX Runtime. ONNX Runtime's run blocks the thread it is called on
 * (no timer fires until it returns), so in the CLI's own thread a Ctrl-C would wait for it and then
 * be lost when the rest of the run finishes without another turn of the event loop: the report and
 * baseline written, and exit 0. A worker thread is not enough: process.exit while
 * ONNX Runtime runs in one aborts the process (SIGABRT, "terminate called after throwing an
 * instance of 'Napi::Error'"). In a child process the CLI only waits for a message, its SIGINT
 * handler exits 130 at once, and the child is killed on the way out. The child's stdout and stderr
 * go nowhere and both its loggers are at FATAL: ONNX Runtime's own records (coloured, one per
 * unused initializer, the model's names in them) never reach the terminal; its errors come back
 * as exceptions and become one escaped line. Its environment turns telemetry off: ONNX Runtime
 * 1.29+ otherwise writes a device id and a store under $HOME/.cache (ORT_DISABLE_TELEMETRY is what
 * 1.30 reads; ORT_TELEMETRY_DISABLED what later releases do).
 */
const CHILD_SOURCE = `
const ort = require(process.env.GRU_CHECK_ORT);
ort.env.logLevel = 'fatal';
let session;
const wire = (t) => ({ type: t.type, dims: Array.from(t.dims), data: t.data });
process.on('disconnect', () => process.exit(0));
process.on('message', async (m) => {
  try {
    if (m.kind === 'open') {
      session = await ort.InferenceSession.create(m.model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 4, logVerbosityLevel: 0 });
      process.send({ kind: 'opened', inputs: Array.from(session.inputNames), outputs: Array.from(session.outputNames) });
    } else {
      const feeds = {};
      for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, t.data, t.dims);
      const out = await session.run(feeds, m.outputs);
      const res = {};
      for (const k of m.outputs) res[k] = wire(out[k]);
      process.send({ kind: 'ran', outputs: res });
    }
  } catch (e) {
    process.send({ kind: 'error', stage: m.kind, message: String((e && e.message) || e) });
  }
});
`;

function resolveOrt(): string {
  try {
    // require.resolve, not import(): the CLI bundle is run by vm.Script (bin/load-cli.cjs), where
    // import() has no loader; onnxruntime-node is a CommonJS package either way.
    return createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch (e) {
    throw new GruCheckError('USAGE', `--onnx runs the model in ONNX Runtime, which is not installed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      hint: 'npm install --no-save --ignore-scripts onnxruntime-node@1.30.0: the CPU build it ships, without its install script (which fetches GPU files) or an edit to package.json',
    });
  }
}

/** ONNX Runtime in its child process: one model, opened once, run once. */
class OrtBox {
  private readonly child: ChildProcess;
  private pending: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  private readonly kill = (): void => void this.child.kill('SIGKILL');

  constructor(ortPath: string) {
    this.child = spawn(process.execPath, ['-e', CHILD_SOURCE], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, GRU_CHECK_ORT: ortPath, ORT_DISABLE_TELEMETRY: '1', ORT_TELEMETRY_DISABLED: '1' },
    });
    // Whatever ends this process (Ctrl-C's exit 130, an error) ends ONNX Runtime's run with it.
    process.on('exit', this.kill);
    this.child.on('message', (m: Record<string, unknown>) => {
      const p = this.pending;
      this.pending = undefined;
      if (m.kind === 'error') p?.reject(new Error(String(m.message)));
      else p?.resolve(m);
    });
    const fail = (e: Error): void => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    this.child.on('error', fail);
    this.child.on('exit', (code, signal) => fail(new Error(`ONNX Runtime's process ended (${signal ?? `exit ${code}`})`)));
  }

  ask(m: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(m);
    });
  }

  close(): void {
    process.off('exit', this.kill);
    if (this.child.connected) this.child.disconnect();
  }
}

/**
 * ONNX Runtime's message, its source location prefix dropped and clipped; whole, not cut at its
 * first newline (a name from the model may hold one): formatError escapes it into one line.
 */
function ortMessage(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/\/onnxruntime_src\/\S+:\d+ [^)]*\) ?/, '').trim().slice(0, 600);
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

/**
 * One of the model's outputs as a candidate tensor: float32 and float64 as they are, float16 from
 * its bits (onnxruntime-node hands float16 over as raw Uint16 bits). Anything else is not a GRU's
 * output: exit 2 naming it.
 */
function candidateTensor(name: string, t: WireTensor, path: string): Tensor {
  const shape = [...t.dims];
  if (t.type === 'float32') return { shape, dtype: 'float32', data: Float32Array.from(t.data as ArrayLike<number>) };
  if (t.type === 'float64') return { shape, dtype: 'float64', data: Float64Array.from(t.data as ArrayLike<number>) };
  if (t.type === 'float16') {
    const bits = Uint16Array.from(t.data as ArrayLike<number>);
    return { shape, dtype: 'float16', data: decodeElements(new Uint8Array(bits.buffer), 'float16', bits.length) as Float32Array };
  }
  throw new GruCheckError('UNSUPPORTED_DTYPE', `the model's output '${showName(name)}' is ${t.type}: a GRU's output and final state are floating point`, {
    file: path,
    hint: 'name the float outputs with --onnx-map output=NAME,h_n=NAME',
  });
}

export async function runOnnxModel(path: string, c: GruCase, map: Partial<Record<OnnxRole, string>>, warnings: CaseWarning[], maxBytes?: number): Promise<CandidateTensors> {
  const ortPath = resolveOrt();
  // Read by gru-check's own reader first, under the run's --max-bytes: a model that does not
  // decode, is too large, or whose external data points out of its folder, is refused here (one
  // line) before ONNX Runtime opens anything.
  const { onnx: graph } = await loadArrays(path, maxBytes !== undefined ? { maxBytes } : {});
  // onnxruntime-node cannot hand a bfloat16 tensor over ("Unsupported data type: 16"), and refuses
  // to open a model with such an output at all: say which output, before it tries.
  const bf16 = (graph?.outputs ?? []).filter((o) => o.elemType === 'BFLOAT16').map((o) => o.name);
  if (bf16.length > 0) {
    const outNames = (graph?.outputs ?? []).map((o) => o.name);
    const pick = (role: OnnxRole): string | undefined => map[role] ?? DEFAULT_NAMES[role].find((n) => outNames.includes(n));
    const name = [pick('output'), pick('h_n')].find((n) => n !== undefined && bf16.includes(n)) ?? bf16[0]!;
    throw new GruCheckError('UNSUPPORTED_DTYPE', `the model's output '${showName(name)}' is bfloat16, which onnxruntime-node cannot hand over (it refuses to open such a model)`, { file: path, hint: 'add a Cast to float32 after it (exact for bfloat16), or dump the outputs from Python with samples/gru_dump.py dump_onnx_outputs and pass them as --candidate' });
  }
  const box = new OrtBox(ortPath);
  try {
    let opened: Record<string, unknown>;
    try {
      opened = await box.ask({ kind: 'open', model: path });
    } catch (e) {
      throw new GruCheckError('BAD_ONNX', `ONNX Runtime cannot load the model: ${ortMessage(e)}`, { file: path });
    }
    const inputNames = opened.inputs as string[];
    const outputNames = opened.outputs as string[];
    const find = (role: OnnxRole, names: readonly string[]): string | undefined => {
      if (map[role] !== undefined) {
        if (!names.includes(map[role]!)) {
          throw new GruCheckError('USAGE', `--onnx-map ${role}=${map[role]}: the model has no such ${role === 'output' || role === 'h_n' ? 'output' : 'input'} (it has ${names.map((n) => showName(n)).join(', ')})`, { file: path });
        }
        return map[role];
      }
      return DEFAULT_NAMES[role].find((n) => names.includes(n));
    };
    const inName = find('input', inputNames);
    if (!inName) {
      throw new GruCheckError('USAGE', `the model's inputs are ${inputNames.map((n) => showName(n)).join(', ')}: none is named input or X`, { file: path, hint: 'say which with --onnx-map input=NAME' });
    }
    const h0Name = find('h0', inputNames);
    const lenName = find('lengths', inputNames);
    const unknown = inputNames.filter((n) => n !== inName && n !== h0Name && n !== lenName);
    if (unknown.length > 0) {
      throw new GruCheckError('USAGE', `the model takes inputs gru-check cannot feed: ${unknown.map((n) => showName(n)).join(', ')}`, { file: path, hint: 'name their roles with --onnx-map (input, h0, lengths)' });
    }
    const outName = find('output', outputNames);
    const hnName = find('h_n', outputNames);
    if (!outName && !hnName) {
      throw new GruCheckError('USAGE', `the model's outputs are ${outputNames.map((n) => showName(n)).join(', ')}: none is named output, h_n, Y or Y_h`, { file: path, hint: 'say which with --onnx-map output=NAME,h_n=NAME' });
    }
    const wanted = [outName, hnName].filter((n): n is string => n !== undefined);
    const { input, h0 } = caseInputs(c);
    const f = (x: Float32Array | Float64Array, dims: number[]): WireTensor => ({ type: x instanceof Float64Array ? 'float64' : 'float32', data: x, dims });
    const feeds: Record<string, WireTensor> = { [inName]: f(input.data, input.dims) };
    if (h0Name) feeds[h0Name] = f(h0.data, h0.dims);
    if (lenName) {
      if (!c.lengths) throw new GruCheckError('USAGE', `the model takes sequence lengths (${showName(lenName)}) and the case has none`, { file: path });
      feeds[lenName] = lenName === 'sequence_lens' ? { type: 'int32', data: Int32Array.from(c.lengths), dims: [c.batchSize] } : { type: 'int64', data: BigInt64Array.from(c.lengths, BigInt), dims: [c.batchSize] };
    } else if (c.lengths) {
      warnings.push({ code: 'ONNX_NO_LENGTHS', message: `the ONNX model takes no sequence lengths: it ran every sequence over all ${c.seqLen} steps, so steps past a sequence's length are compared as it computed them` });
    }
    let out: Record<string, WireTensor>;
    try {
      out = (await box.ask({ kind: 'run', feeds, outputs: wanted })).outputs as Record<string, WireTensor>;
    } catch (e) {
      throw new GruCheckError('BAD_ONNX', `ONNX Runtime refused the case's inputs: ${ortMessage(e)}`, { file: path, hint: 'a model exported with fixed shapes runs only on the shapes it was traced with: export with dynamic_axes, or dump the case with the same shapes' });
    }
    const cand: CandidateTensors = { source: path, names: wanted };
    if (outName) cand.output = candidateTensor(outName, out[outName]!, path);
    if (hnName) cand.h_n = candidateTensor(hnName, out[hnName]!, path);
    return cand;
  } finally {
    box.close();
  }
}
