/**
 * Owns reading Keras 3 weight files into named arrays: a `.weights.h5` (model.save_weights) and a
 * `.keras` archive (model.save: a zip of `config.json`, `metadata.json` and `model.weights.h5`).
 *
 * Keras 3 stores a layer's variables by the object path it walks when saving, e.g.
 *   layers/gru/cell/vars/0, 1, 2                        kernel, recurrent_kernel, bias
 *   layers/bidirectional/forward_layer/cell/vars/0..2   a Bidirectional's two GRUs
 *   layers/bidirectional/backward_layer/cell/vars/0..2
 * where `gru`, `gru_1`, `bidirectional` are the class name in snake case with a counter (not the
 * layer's own name, which is the `name` attribute of `<layer>/vars`). A GRU is recognised by its
 * shapes, not by names: vars/0 [I, 3H] and vars/1 [H, 3H] (an LSTM has 4H, a SimpleRNN H), vars/2
 * [2, 3H] or [3H] when it has a bias. Its arrays are named like the Keras layout's npz names, the
 * path without its `layers/` steps: `gru/kernel`, `bidirectional/forward_layer/recurrent_kernel`.
 * Only these arrays are read; nothing else in the file is.
 *
 * What config.json says of each GRU layer (found by the layer's name) travels with the bundle in
 * `ArrayBundle.keras`, for model/keras.ts to read reset_after, use_bias and the activations from.
 *
 * Throws only GruCheckError.
 */
import { GruCheckError } from '../errors.js';
import { openHdf5, type Hdf5Contents } from './hdf5.js';
import { readZipMember, type ZipArchive } from './npz.js';
import { showName } from './text.js';
import type { KerasGruLayer, KerasModelInfo, NdArray } from './types.js';

/** config.json of a real model is kilobytes; this bounds what JSON.parse is handed. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MAX_CONFIG_DEPTH = 64;

export interface KerasWeights {
  arrays: Map<string, NdArray>;
  keras: KerasModelInfo;
}

/** A `.weights.h5` file's bytes. */
export function readKerasWeightsH5(bytes: Uint8Array): KerasWeights {
  return fromHdf5(openHdf5(bytes, 'HDF5 file'), { container: 'weights.h5' });
}

/** A `.keras` archive, already opened (openZip checked its directory and sizes). */
export function readKerasArchive(zip: ZipArchive): KerasWeights {
  const entry = (name: string) => zip.entries.find((e) => e.name === name);
  const weights = entry('model.weights.h5');
  if (!weights) {
    throw new GruCheckError('BAD_MEMBER', `.keras archive without model.weights.h5 (members: ${zip.entries.slice(0, 8).map((e) => showName(e.name, 40)).join(', ')}${zip.entries.length > 8 ? ', ...' : ''})`, {
      hint: 'save the model with model.save("model.keras") in Keras 3',
    });
  }
  const configEntry = entry('config.json');
  if (!configEntry) throw new GruCheckError('BAD_MEMBER', '.keras archive without config.json', { hint: 'save the model with model.save("model.keras") in Keras 3' });
  if (configEntry.size > MAX_CONFIG_BYTES) {
    throw new GruCheckError('TOO_LARGE', `member 'config.json': ${configEntry.size} bytes, more than the ${MAX_CONFIG_BYTES} a model config is read up to`);
  }
  const config = parseJsonObject(readZipMember(zip, configEntry), 'config.json');
  let kerasVersion: string | undefined;
  const meta = entry('metadata.json');
  if (meta && meta.size <= 65536) {
    try {
      const m = JSON.parse(new TextDecoder().decode(readZipMember(zip, meta))) as unknown;
      const v = m && typeof m === 'object' ? (m as Record<string, unknown>).keras_version : undefined;
      if (typeof v === 'string') kerasVersion = v.slice(0, 40);
    } catch {
      // metadata.json only tells the Keras version; without it, Keras 3 is assumed.
    }
  }
  const h5 = openHdf5(readZipMember(zip, weights), "member 'model.weights.h5'");
  return fromHdf5(h5, { container: 'keras', config, ...(kerasVersion !== undefined ? { kerasVersion } : {}) });
}

function parseJsonObject(bytes: Uint8Array, member: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    // V8's message quotes the text near the error: say only where it is.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new GruCheckError('BAD_CONFIG', `member '${member}': not valid JSON${at !== undefined ? ` (at byte ${at})` : ''}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GruCheckError('BAD_CONFIG', `member '${member}': expected a JSON object (a Keras model config)`);
  }
  return parsed as Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every layer config in a model config, by the layer's name (nested models included). */
function layerConfigs(config: Obj): Map<string, Obj[]> {
  const byName = new Map<string, Obj[]>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > MAX_CONFIG_DEPTH) throw new GruCheckError('BAD_CONFIG', `member 'config.json': nested more than ${MAX_CONFIG_DEPTH} deep`);
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (!isObj(v)) return;
    const cfg = v.config;
    if (typeof v.class_name === 'string' && isObj(cfg) && typeof cfg.name === 'string') {
      const list = byName.get(cfg.name) ?? [];
      list.push(v);
      byName.set(cfg.name, list);
    }
    for (const x of Object.values(v)) if (x !== null && typeof x === 'object') walk(x, depth + 1);
  };
  walk(config, 0);
  return byName;
}

interface GruVars {
  owner: string; // 'layers/gru'
  vars: string; // 'layers/gru/cell/vars'
  bias: boolean;
}

/** Layers whose cell vars have another recurrent layer's shapes, for the "no GRU" message. */
function recurrentKind(h5: Hdf5Contents, vars: string): 'gru' | 'lstm' | 'simple_rnn' | undefined {
  const k = h5.datasets.get(`${vars}/0`)?.shape;
  const r = h5.datasets.get(`${vars}/1`)?.shape;
  if (!k || !r || k.length !== 2 || r.length !== 2 || r[0] === 0 || k[1] !== r[1]) return undefined;
  const blocks = r[1]! / r[0]!;
  return blocks === 3 ? 'gru' : blocks === 4 ? 'lstm' : blocks === 1 ? 'simple_rnn' : undefined;
}

function fromHdf5(h5: Hdf5Contents, from: { container: 'weights.h5' | 'keras'; config?: Obj; kerasVersion?: string }): KerasWeights {
  const cells: GruVars[] = [];
  const others: string[] = [];
  for (const g of h5.groups) {
    if (!g.endsWith('/cell/vars')) continue;
    const owner = g.slice(0, -'/cell/vars'.length);
    const kind = recurrentKind(h5, g);
    if (kind === 'gru') cells.push({ owner, vars: g, bias: h5.datasets.has(`${g}/2`) });
    else if (kind) others.push(`${stripLayers(owner)} (${kind === 'lstm' ? 'LSTM' : 'SimpleRNN'})`);
  }
  if (cells.length === 0) {
    const keras3 = h5.groups.includes('layers') || h5.groups.includes('vars');
    throw new GruCheckError('MISSING_ARRAY', `no Keras GRU layer in this HDF5 file${others.length ? `: its recurrent layers are ${others.slice(0, 5).map((o) => showName(o, 60)).join(', ')}` : keras3 ? '' : ' (and no Keras 3 layout: expected groups like layers/gru/cell/vars)'}`, {
      hint: keras3 ? 'gru-check checks GRU layers: kernel [input_dim, 3*units], recurrent_kernel [units, 3*units]' : 'save the model in Keras 3 with model.save_weights("model.weights.h5") or model.save("model.keras")',
    });
  }
  const configs = from.config ? layerConfigs(from.config) : undefined;
  const arrays = new Map<string, NdArray>();
  const layers: KerasGruLayer[] = [];
  const owners = new Set(cells.map((c) => c.owner));
  for (const c of cells) {
    const prefix = stripLayers(c.owner);
    const read = (i: number, name: string): void => {
      const full = `${prefix}/${name}`;
      if (arrays.has(full)) throw new GruCheckError('BAD_HDF5', `two GRU layers map to the same name '${showName(full)}'`);
      arrays.set(full, h5.read(`${c.vars}/${i}`, full));
    };
    read(0, 'kernel');
    read(1, 'recurrent_kernel');
    if (c.bias) read(2, 'bias');
    // A Bidirectional's directions are read above as two GRUs; the wrapper is described once.
    const m = /^(.*)\/(forward|backward)_layer$/s.exec(c.owner);
    if (m && owners.has(`${m[1]}/forward_layer`) && owners.has(`${m[1]}/backward_layer`)) {
      if (m[2] === 'backward') continue;
      const wrapper = m[1]!;
      const name = h5.groupAttr(`${wrapper}/vars`, 'name');
      const layer: KerasGruLayer = { prefix: stripLayers(wrapper), path: wrapper, bidirectional: true };
      if (name !== undefined) layer.name = name;
      const cfg = name !== undefined ? uniqueConfig(configs, name, 'Bidirectional') : undefined;
      if (cfg) {
        if (isObj(cfg.layer) && isObj(cfg.layer.config)) layer.config = cfg.layer.config;
        if (isObj(cfg.backward_layer) && isObj(cfg.backward_layer.config)) layer.backwardConfig = cfg.backward_layer.config;
        if ('merge_mode' in cfg) layer.mergeMode = cfg.merge_mode;
      }
      layers.push(layer);
      continue;
    }
    const name = h5.groupAttr(`${c.owner}/vars`, 'name');
    const layer: KerasGruLayer = { prefix, path: c.owner, bidirectional: false };
    if (name !== undefined) layer.name = name;
    const cfg = name !== undefined ? uniqueConfig(configs, name, 'GRU') : undefined;
    if (cfg) layer.config = cfg;
    layers.push(layer);
  }
  const keras: KerasModelInfo = { container: from.container, hasConfig: from.config !== undefined, layers };
  if (from.kerasVersion !== undefined) keras.kerasVersion = from.kerasVersion;
  return { arrays, keras };
}

/** The config of the one layer called `name` of class `cls`; undefined when none or several. */
function uniqueConfig(configs: Map<string, Obj[]> | undefined, name: string, cls: string): Obj | undefined {
  const found = configs?.get(name)?.filter((l) => l.class_name === cls) ?? [];
  return found.length === 1 && isObj(found[0]!.config) ? found[0]!.config : undefined;
}

/** `layers/sequential/layers/gru` -> `sequential/gru`: the path without Keras's container steps. */
function stripLayers(path: string): string {
  return path.split('/').filter((p) => p !== 'layers').join('/');
}
