/**
 * The case's `config` (a 0-d numpy unicode string holding a JSON object) and the flags that may
 * override it, read so that nothing passes silently: every key a layout reader uses is taken from
 * here (`take`), informational keys are recognised, and every key left at the end becomes a warning
 * naming it. A key that would change the math but cannot be computed is an error, raised by the
 * reader that knows the key.
 *
 * Warnings are data ({code, message}); each output escapes them for itself.
 */
import type { CaseWarning } from '../result.js';

export type { CaseWarning } from '../result.js';
import { GruCheckError } from '../errors.js';
import type { NdArray } from '../io/types.js';
import { shapeInBrackets } from './arrays.js';

/** Keys that describe the dump and change nothing: recognised, never warned about. */
export const INFORMATIONAL_KEYS = ['description', 'torch_version', 'onnx_version', 'seed', 'source', 'dtype', 'generator', 'expected_from'] as const;

export class CaseConfig {
  private readonly used = new Set<string>();

  constructor(
    readonly raw: Readonly<Record<string, unknown>>,
    readonly file: string,
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.raw, key);
  }

  /**
   * The value of `key`, marked as used, or undefined when absent. `parse` returns undefined for a
   * value it does not accept: then BAD_CONFIG "config: key must be <want>, got <value>".
   */
  take<T>(key: string, parse: (v: unknown) => T | undefined, want: string): T | undefined {
    if (!this.has(key)) return undefined;
    this.used.add(key);
    const v = parse(this.raw[key]);
    if (v === undefined) throw new GruCheckError('BAD_CONFIG', `config: ${key} must be ${want}, got ${JSON.stringify(this.raw[key])}`, { file: this.file });
    return v;
  }

  /** Marks a key as read without parsing it (e.g. checked elsewhere). */
  touch(key: string): void {
    if (this.has(key)) this.used.add(key);
  }

  /** Keys nobody took: each a warning. */
  unused(): string[] {
    return Object.keys(this.raw).filter((k) => !this.used.has(k));
  }
}

export const asBool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
export const asBit = (v: unknown): boolean | undefined => (v === 0 || v === false ? false : v === 1 || v === true ? true : undefined);
export const asPositiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
export const asPositive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
export const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const asStrings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
export const asNumbers = (v: unknown): number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : undefined);
export const oneOf = <T extends string>(...allowed: T[]) => (v: unknown): T | undefined => (allowed.includes(v as T) ? (v as T) : undefined);

export function readConfig(a: NdArray | undefined, file: string): CaseConfig {
  if (!a) return new CaseConfig({}, file);
  if (a.dtype !== 'unicode' || a.shape.length !== 0) {
    throw new GruCheckError('BAD_CONFIG', `config: expected a 0-d unicode string holding JSON, got ${a.dtype} of shape ${shapeInBrackets(a.shape)}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse((a.data as string[])[0] ?? '');
  } catch (e) {
    throw new GruCheckError('BAD_CONFIG', `config: not valid JSON (${(e as Error).message})`, { file });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GruCheckError('BAD_CONFIG', 'config: expected a JSON object', { file });
  }
  const c = new CaseConfig(parsed as Record<string, unknown>, file);
  for (const k of INFORMATIONAL_KEYS) if (k !== 'dtype') c.touch(k);
  return c;
}

/** One warning per key nobody used. */
export function unusedKeyWarnings(c: CaseConfig, layout: string): CaseWarning[] {
  return c.unused().map((k) => ({
    code: 'CONFIG_UNKNOWN_KEY',
    message: `config key "${k}" is not one gru-check reads for the ${layout} layout: ignored (if it changes the GRU's math, this check does not know it)`,
  }));
}
