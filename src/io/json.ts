/**
 * Bounded JSON for the files gru-check reads as settings (suites, baselines): a regular file only,
 * at most `maxBytes`, parsed by a small parser of our own rather than JSON.parse so that
 *  - nesting deeper than `maxDepth` is a data error, not "Maximum call stack size exceeded";
 *  - `__proto__`, `constructor` and `prototype` keys are refused by name (they would reach
 *    Object.prototype lookups in the validators: "rule[0] is not a function");
 *  - every number is finite (`1e999` is Infinity in JSON.parse, and an infinite baseline error
 *    would let any drift pass);
 *  - a syntax error says line and column and what was expected, never the text there: V8's
 *    message quotes the file, and a suite path may point at a file that is not ours to print.
 */
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { GruCheckError } from '../errors.js';

export interface JsonLimits {
  /** Refuse a file larger than this (bytes). */
  maxBytes?: number;
  /** Refuse objects/arrays nested deeper than this. */
  maxDepth?: number;
}

/** 16 MiB: a suite of thousands of cases, a baseline of tens of thousands of entries. */
export const JSON_MAX_BYTES = 16 * 2 ** 20;
export const JSON_MAX_DEPTH = 64;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads a settings file: a regular file (not a FIFO, device or /dev/zero), opened once and its size
 * read from the open descriptor, at most `maxBytes`, valid UTF-8. `what` names it in messages
 * ("suite", "baseline").
 */
export function readBoundedText(path: string, what: string, maxBytes = JSON_MAX_BYTES): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang the run before the check refuses it.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GruCheckError(code === 'ENOENT' ? 'NOT_FOUND' : 'UNREADABLE', code === 'ENOENT' ? 'no such file or directory' : `cannot read the ${what}: ${code ?? 'error'}`, { file: path });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new GruCheckError('UNREADABLE', `the ${what} is ${kind}: only a regular file is read`, { file: path });
    }
    if (st.size > maxBytes) throw new GruCheckError('TOO_LARGE', `the ${what} is ${st.size} bytes, more than the limit of ${maxBytes}`, { file: path });
    // Read one byte past the size fstat gave: a file growing while read is cut at the cap, not read on.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > maxBytes) throw new GruCheckError('TOO_LARGE', `the ${what} grew past the limit of ${maxBytes} bytes while being read`, { file: path });
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      throw new GruCheckError('BAD_CONFIG', `the ${what} is not UTF-8 text`, { file: path });
    }
  } finally {
    closeSync(fd);
  }
}

/** Parses `text` as JSON within the limits; errors are BAD_CONFIG naming line and column. */
export function parseBoundedJson(text: string, what: string, file: string, limits: JsonLimits = {}): unknown {
  const maxDepth = limits.maxDepth ?? JSON_MAX_DEPTH;
  if (limits.maxBytes !== undefined && text.length > limits.maxBytes) {
    throw new GruCheckError('TOO_LARGE', `the ${what} is ${text.length} characters, more than the limit of ${limits.maxBytes}`, { file });
  }
  const p = new JsonParser(text, what, file, maxDepth);
  // A BOM some editors write is not an error.
  if (text.charCodeAt(0) === 0xfeff) p.i = 1;
  const v = p.value(0);
  p.ws();
  if (p.i < text.length) p.fail('unexpected text after the JSON value');
  return v;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A recursive-descent JSON parser over `text`, at position i: one method per kind of value. */
class JsonParser {
  i = 0;
  constructor(readonly text: string, readonly what: string, readonly file: string, readonly maxDepth: number) {}

  fail(why: string, at = this.i): never {
    const text = this.text;
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    throw new GruCheckError('BAD_CONFIG', `${this.what} is not valid JSON: ${why} at line ${line}, column ${col}`, { file: this.file });
  }

  ws(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else return;
    }
  }

  describe(): string {
    return this.i >= this.text.length ? 'unexpected end of text' : 'unexpected character';
  }

  value(depth: number): unknown {
    this.ws();
    const text = this.text;
    const c = text[this.i];
    if (c === '{' || c === '[') {
      if (depth >= this.maxDepth) this.fail(`nested deeper than ${this.maxDepth} levels`);
      this.i++;
      this.ws();
      return c === '[' ? this.array(depth) : this.object(depth);
    }
    if (c === '"') return this.str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.num();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(this.describe());
  }

  /** The elements of an array whose `[` and the space after it are read. */
  array(depth: number): unknown[] {
    const text = this.text;
    const arr: unknown[] = [];
    if (text[this.i] === ']') {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      if (text[this.i] === ',') this.i++;
      else if (text[this.i] === ']') {
        this.i++;
        return arr;
      } else this.fail(`${this.describe()} (expected , or ])`);
    }
  }

  /** The members of an object whose `{` and the space after it are read. */
  object(depth: number): Record<string, unknown> {
    const text = this.text;
    // A plain object is safe here: the one key that would reach its prototype is refused below.
    const obj: Record<string, unknown> = {};
    if (text[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (text[this.i] !== '"') this.fail(`${this.describe()} (expected a key in double quotes)`);
      const keyAt = this.i;
      const key = this.str();
      if (FORBIDDEN_KEYS.has(key)) this.fail(`the key "${key}" is not allowed`, keyAt);
      if (Object.prototype.hasOwnProperty.call(obj, key)) this.fail('a key repeated in one object', keyAt);
      this.ws();
      if (text[this.i] !== ':') this.fail(`${this.describe()} (expected :)`);
      this.i++;
      obj[key] = this.value(depth + 1);
      this.ws();
      if (text[this.i] === ',') this.i++;
      else if (text[this.i] === '}') {
        this.i++;
        return obj;
      } else this.fail(`${this.describe()} (expected , or })`);
    }
  }

  str(): string {
    const text = this.text;
    const start = this.i;
    this.i++; // opening quote
    let out = '';
    let from = this.i;
    for (;;) {
      if (this.i >= text.length) this.fail('unterminated string', start);
      const c = text.charCodeAt(this.i);
      if (c === 34) {
        out += text.slice(from, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in a string');
      if (c === 92) {
        out += text.slice(from, this.i) + this.escape();
        from = this.i;
      } else this.i++;
    }
  }

  /** The escape at i (a backslash and what follows), read past. */
  escape(): string {
    const text = this.text;
    const e = text[this.i + 1];
    if (e !== undefined && e in ESCAPES) {
      this.i += 2;
      return ESCAPES[e]!;
    }
    if (e !== 'u') this.fail('bad escape in a string');
    const hex = text.slice(this.i + 2, this.i + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
    this.i += 6;
    return String.fromCharCode(parseInt(hex, 16));
  }

  num(): number {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.text);
    if (!m || m[0] === '-') this.fail('bad number');
    const v = Number(m![0]);
    if (!Number.isFinite(v)) this.fail('a number too large for a float64 (JSON numbers here must be finite)');
    this.i += m![0].length;
    return v;
  }
}
