/**
 * Suites: many cases in one run, each with its own candidate (or ONNX model), weights, prefix,
 * layout, tolerances and baseline (`gru-check run --suite FILE.json`), and shards to split a list of
 * cases across CI jobs. The file format is schema/suite.schema.json; this module validates a suite
 * once, at the boundary, naming the first wrong key by its path (`cases[2].rtol: ...`), and resolves
 * every path relative to the suite file. An unknown key is refused: a misspelt "candiate" would
 * otherwise check a case without its port and pass.
 *
 * Pure: the caller reads the file (io/json.ts readBoundedText) and hands the text; the text is parsed
 * as bounded JSON (depth, finite numbers, no `__proto__` keys). Messages quote the suite's own keys
 * and values, clipped, and only once the file has said it is a suite ("gruCheckSuite": 1): a path
 * that names some other JSON file gets no line of its content printed.
 */
import { GruCheckError } from '../errors.js';
import { parseBoundedJson } from '../io/json.js';
import { clip } from '../io/text.js';
import { SUITE_OPTIONS, type Kind, type SuiteSettings } from '../options.js';

export type { SuiteSettings } from '../options.js';

export interface SuiteEntry extends SuiteSettings {
  /** The case: an .npz, a .npy folder, ... */
  case: string;
  /** A label for reports (default: the case path). */
  name?: string;
}

export interface Suite {
  file: string;
  defaults: SuiteSettings;
  cases: SuiteEntry[];
}

const str = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

/** Every key a suite entry may hold (the option table's suite rows), with what its value must be. */
const SETTINGS: Readonly<Record<string, Kind<unknown>>> = Object.fromEntries(SUITE_OPTIONS.map((r) => [r.key, r.value]));
/** Keys that hold paths: resolved relative to the suite file. */
const PATH_KEYS = SUITE_OPTIONS.filter((r) => r.suite!.path).map((r) => r.key);

/** A value from the suite as a message shows it: JSON, clipped to a few words. */
const shown = (v: unknown): string => clip(JSON.stringify(v) ?? String(v), 60);
/** A key from the suite as a message shows it. */
const shownKey = (k: string): string => clip(k, 60);

function settings(o: unknown, where: string, file: string, extra: string[]): SuiteSettings & Record<string, unknown> {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new GruCheckError('BAD_CONFIG', `${where}: expected an object, got ${shown(o)}`, { file });
  for (const [k, v] of Object.entries(o)) {
    if (extra.includes(k)) continue;
    // Own keys only: "toString" must be "not a suite key", not Object.prototype's function.
    const rule = Object.prototype.hasOwnProperty.call(SETTINGS, k) ? SETTINGS[k] : undefined;
    if (!rule) {
      throw new GruCheckError('BAD_CONFIG', `${where}.${shownKey(k)}: not a suite key`, { file, hint: `keys: ${[...extra, ...Object.keys(SETTINGS)].join(', ')} (schema/suite.schema.json)` });
    }
    if (!rule.is(v)) throw new GruCheckError('BAD_CONFIG', `${where}.${k}: expected ${rule.expected}, got ${shown(v)}`, { file });
  }
  return o as SuiteSettings & Record<string, unknown>;
}

/**
 * Parses and validates a suite. `resolve(path, where)` turns a path written in the suite into one
 * the caller can open (relative to the suite file's folder), or throws; `where` names the key
 * (`cases[2].baseline`) for its message.
 */
export function parseSuite(text: string, file: string, resolve: (p: string, where: string) => string): Suite {
  const doc = parseBoundedJson(text, 'suite', file);
  // First of all: is this a suite? Until it says so, nothing of it is quoted.
  const version = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as { gruCheckSuite?: unknown }).gruCheckSuite : undefined;
  if (version === undefined) throw new GruCheckError('BAD_CONFIG', 'not a gru-check suite: expected an object with "gruCheckSuite": 1', { file, hint: 'see schema/suite.schema.json' });
  if (version !== 1) throw new GruCheckError('BAD_CONFIG', `suite: gruCheckSuite must be 1, got ${shown(version)}`, { file, hint: 'see schema/suite.schema.json' });
  const d = settings(doc, 'suite', file, ['gruCheckSuite', 'defaults', 'cases', '$schema', 'description']);
  for (const k of Object.keys(SETTINGS)) {
    if (k in d) throw new GruCheckError('BAD_CONFIG', `suite.${k}: settings go in "defaults" or in a case`, { file });
  }
  /** Settings the option table says exclude each other (the schema's `not required` pairs), in one object. */
  const apart = (s: object, where: string): void => {
    for (const r of SUITE_OPTIONS) {
      const other = r.cli?.conflicts;
      if (other !== undefined && r.key in s && other in s) throw new GruCheckError('BAD_CONFIG', `${where}: ${other} and ${r.key} both name the port: keep one`, { file });
    }
  };
  const defaults = d.defaults === undefined ? {} : settings(d.defaults, 'defaults', file, []);
  apart(defaults, 'defaults');
  if (!Array.isArray(d.cases) || d.cases.length === 0) throw new GruCheckError('BAD_CONFIG', 'suite.cases: expected a non-empty list of cases', { file });
  const fix = <T extends SuiteSettings>(s: T, where: string): T => {
    const out: Record<string, unknown> = { ...(s as Record<string, unknown>) };
    for (const k of PATH_KEYS) if (typeof out[k] === 'string') out[k] = resolve(out[k] as string, `${where}.${k}`);
    return out as T;
  };
  const cases = (d.cases as unknown[]).map((c, i) => {
    const e = settings(c, `cases[${i}]`, file, ['case', 'name']);
    if (!str(e.case)) throw new GruCheckError('BAD_CONFIG', `cases[${i}].case: expected the path of a case, got ${shown(e.case)}`, { file });
    if (e.name !== undefined && !str(e.name)) throw new GruCheckError('BAD_CONFIG', `cases[${i}].name: expected a label, got ${shown(e.name)}`, { file });
    const entry = fix(e as unknown as SuiteEntry, `cases[${i}]`);
    entry.case = resolve(e.case as string, `cases[${i}].case`);
    apart(entry, `cases[${i}]`);
    return entry;
  });
  return { file, defaults: fix(defaults, 'defaults'), cases };
}

/** `K/N` -> [K, N] with 1 <= K <= N. */
export function parseShard(text: string): [number, number] {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new GruCheckError('USAGE', `--shard expects K/N with 1 <= K <= N, got '${text}'`, { hint: 'e.g. --shard 2/4 runs the second of four shards' });
  return [k, n];
}

/**
 * Shard K of N: items i with i % N == K - 1, in order. Deterministic for a given list, every item
 * in exactly one shard, sizes within one of each other.
 */
export function shardOf<T>(items: readonly T[], k: number, n: number): T[] {
  return items.filter((_, i) => i % n === k - 1);
}
