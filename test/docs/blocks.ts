/**
 * The commands the docs show, with their output. In README.md and docs/*.md, a fenced block
 * marked `console` holds one or more `$ gru-check ...` (or `$ npx gru-check ...`) lines, each
 * followed by what it prints: stdout, then stderr, then `(exit N)` when N is not 0. The docs test
 * (test/docs.test.ts) runs each command in this process's CLI and compares; `npm run docs`
 * (test/docs/update.ts) rewrites the blocks from fresh runs.
 *
 * Runs are made as a reader would see them in a 100-column terminal without colour, from the
 * repository's root, with `--engine reference` added when the command names no engine: the fast
 * engine's last digits depend on the CPU's kernel build, the reference loops' do not. Timings
 * (JSON's milliseconds, JUnit's time attributes) show as 0.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli } from '../helpers.js';

export interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The text between the fences, as written. */
  body: string;
  /** Offsets of the body in the file's text. */
  start: number;
  end: number;
}

/** Every doc file the test covers: the README and docs/*.md. */
export function docFiles(): string[] {
  const docs = join(ROOT, 'docs');
  const pages = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f)) : [];
  return ['README.md', ...pages];
}

export function consoleBlocks(file: string, text = readFileSync(join(ROOT, file), 'utf8')): Block[] {
  const out: Block[] = [];
  const fence = /^```console\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(fence)) {
    const start = m.index! + '```console\n'.length;
    out.push({ file, line: text.slice(0, m.index).split('\n').length, body: m[1]!, start, end: start + m[1]!.length });
  }
  return out;
}

/** The commands of a block: each `$ ` line's words (no shell: words are split on spaces). */
export function commands(body: string): string[] {
  return body.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
}

const TIMING = /"(loadMs|referenceMs|compareMs|ms)": [0-9.e+-]+/g;
const JUNIT_TIME = / time="[0-9.]+"/g;

/** `a | b "x|y" | c` split at the pipes outside double quotes. */
function stages(command: string): string[] {
  const out = [''];
  let quoted = false;
  for (const ch of command) {
    if (ch === '"') quoted = !quoted;
    if (ch === '|' && !quoted) out.push('');
    else out[out.length - 1] += ch;
  }
  return out.map((x) => x.trim());
}

/** stdout through one filter stage: `head -n N`, `tail -n N` or `grep -E "regex"`. */
function filter(stage: string, text: string): string {
  const lines = text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined);
  const ht = /^(head|tail) -n (\d+)$/.exec(stage);
  const grep = /^grep -E "(.*)"$/.exec(stage) ?? /^grep ([\w-]+)$/.exec(stage);
  let kept: string[];
  if (ht) kept = ht[1] === 'head' ? lines.slice(0, Number(ht[2])) : lines.slice(-Number(ht[2]));
  else if (grep) kept = lines.filter((l) => new RegExp(grep[1]!).test(l));
  else throw new Error(`docs: unsupported pipe stage: ${stage}`);
  return kept.length > 0 ? `${kept.join('\n')}\n` : '';
}

/** Does a command need ONNX Runtime (an optional dependency)? */
export const needsOrt = (command: string): boolean => / --onnx /.test(` ${command} `);

/**
 * What one command prints, in the block's format. A command may end with `2>/dev/null` (stderr
 * left out) or `2>&1 >/dev/null` (stderr alone) and pipe that through `head -n N`, `tail -n N`,
 * `grep WORD` or `grep -E "regex"`, as a shell would run it; a pipeline's exit code is its last
 * stage's, so it is not shown.
 */
export async function run(command: string): Promise<string> {
  const [first, ...pipes] = stages(command);
  let cmd = first!;
  // `2>/dev/null`: stderr left out; `2>&1 >/dev/null`: only stderr goes on (to the pipe).
  const quiet = cmd.endsWith(' 2>/dev/null');
  const errOnly = cmd.endsWith(' 2>&1 >/dev/null');
  if (quiet) cmd = cmd.slice(0, -' 2>/dev/null'.length);
  if (errOnly) cmd = cmd.slice(0, -' 2>&1 >/dev/null'.length);
  const words = cmd.split(' ').filter(Boolean);
  if (words[0] === 'npx') words.shift();
  if (words[0] !== 'gru-check') throw new Error(`docs: not a gru-check command: ${command}`);
  const args = words.slice(1);
  if ((args[0] === 'run' || args[0] === 'diagnose') && !args.includes('--engine')) args.push('--engine', 'reference');
  const r = await cli(args, { COLUMNS: '100' });
  const piped = pipes.reduce((t, st) => filter(st, t), errOnly ? r.stderr : r.stdout);
  const text = `${piped}${quiet || errOnly ? '' : r.stderr}`.replace(TIMING, '"$1": 0').replace(JUNIT_TIME, ' time="0"');
  return `${text}${r.code === 0 || pipes.length > 0 ? '' : `(exit ${r.code})\n`}`;
}

/** The block as fresh runs of its commands make it. */
export async function regenerate(body: string): Promise<string> {
  let out = '';
  for (const c of commands(body)) out += `$ ${c}\n${await run(c)}`;
  return out;
}
