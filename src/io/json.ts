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
  let i = 0;
  const fail = (why: string, at = i): never => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    throw new GruCheckError('BAD_CONFIG', `${what} is not valid JSON: ${why} at line ${line}, column ${col}`, { file });
  };
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else return;
    }
  };
  const describe = (): string => (i >= text.length ? 'unexpected end of text' : 'unexpected character');
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    let from = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(from, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in a string');
      if (c === 92) {
        out += text.slice(from, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else fail('bad escape in a string');
        from = i;
      } else i++;
    }
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const num = (): number => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0] === '-') fail('bad number');
    const v = Number(m![0]);
    if (!Number.isFinite(v)) fail('a number too large for a float64 (JSON numbers here must be finite)');
    i += m![0].length;
    return v;
  };
  const value = (depth: number): unknown => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      ws();
      if (c === '[') {
        const arr: unknown[] = [];
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            return arr;
          } else fail(`${describe()} (expected , or ])`);
        }
      }
      // A plain object is safe here: the one key that would reach its prototype is refused above.
      const obj: Record<string, unknown> = {};
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`${describe()} (expected a key in double quotes)`);
        const keyAt = i;
        const key = str();
        if (FORBIDDEN_KEYS.has(key)) fail(`the key "${key}" is not allowed`, keyAt);
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail('a key repeated in one object', keyAt);
        ws();
        if (text[i] !== ':') fail(`${describe()} (expected :)`);
        i++;
        obj[key] = value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail(`${describe()} (expected , or })`);
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(describe());
  };
  // A BOM some editors write is not an error.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const v = value(0);
  ws();
  if (i < text.length) fail('unexpected text after the JSON value');
  return v;
}

/** readBoundedText + parseBoundedJson. */
export function readBoundedJson(path: string, what: string, limits: JsonLimits = {}): unknown {
  return parseBoundedJson(readBoundedText(path, what, limits.maxBytes), what, path, limits);
}
