/**
 * The command a failing `run` suggests: `gru-check diagnose` on the same case with the flags that
 * decide what is checked (files, layout, attributes, tolerances), so it can be pasted as it is:
 * the options diagnose takes (src/options.ts), in the table's order, but those marked not carried
 * (engine, threads, memory, colour). run-only flags (reports, baselines, suites, pass criteria
 * beyond isclose) are left out: diagnose holds its variants to isclose.
 */
import { OPTIONS, flagName, type OptionRow, type OptionValues } from '../options.js';
import { formatKeyedSpec, type Keyed } from '../compare/tolerance.js';
import { num } from '../report/format.js';

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The words that give `v` to the option of row `r` (none: its default, or a switch left off). */
function flagWords(r: OptionRow, v: unknown): string[] {
  const c = r.cli!;
  const flag = flagName(c.flag);
  if (!c.flag.includes('<')) return v === true ? [flag] : v === false && c.off ? [flagName(c.off.flag)] : [];
  if (c.words) return [flag, Object.keys(c.words).find((w) => c.words![w] === v)!];
  if (r.value.keyed) return [flag, formatKeyedSpec(v as Keyed<unknown>, (x) => (typeof x === 'number' ? num(x) : String(x)))];
  return [flag, Array.isArray(v) ? v.join(',') : String(v)];
}

/** `gru-check diagnose CASE ...flags`, one line, every word quoted for the shell. */
export function diagnoseCommand(path: string, f: OptionValues): string {
  const words = ['gru-check', 'diagnose', path];
  for (const r of OPTIONS as readonly OptionRow[]) {
    const c = r.cli;
    const v = (f as Record<string, unknown>)[r.key];
    if (!c || !c.commands.includes('diagnose') || c.carried === false || v === undefined || v === c.default) continue;
    words.push(...flagWords(r, v));
  }
  return words.map(shellWord).join(' ');
}
