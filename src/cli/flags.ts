/**
 * The option table (src/options.ts) as commander options: each command's flags, in the table's
 * order, and commander's parsed flags as the table's values (words such as `--onnx-layout 1`
 * become the value 1, `--seq-first` becomes batchFirst false), so suites and the library see one
 * kind of value whatever gave it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { GruCheckError } from '../errors.js';
import { OPTIONS, flagName, type Command as CommandName, type OptionRow, type OptionValues } from '../options.js';

const ROWS = OPTIONS as readonly OptionRow[];

/** A core parser as a commander argument parser: its GruCheckError becomes commander's one-line usage error. */
function viaCore<T>(parse: (value: string, flag: string) => T, flag: string) {
  return (value: string): T => {
    try {
      return parse(value, flag);
    } catch (e) {
      if (!(e instanceof GruCheckError)) throw e;
      throw new InvalidArgumentError(`${e.message}${e.hint ? ` (${e.hint})` : ''}`);
    }
  };
}

const takesValue = (flag: string): boolean => flag.includes('<');

/** The table's options for `name`, added to `cmd` in the table's order. */
export function addOptions(cmd: Command, name: CommandName): Command {
  for (const r of ROWS) {
    const c = r.cli;
    if (!c || !c.commands.includes(name)) continue;
    const o = new Option(c.flag, c.help);
    // The row's key is the suite key and the library option: commander must store the flag under it.
    if (o.attributeName() !== r.key) throw new Error(`options.ts: ${c.flag} is stored as ${o.attributeName()}, not ${r.key}`);
    if (takesValue(c.flag)) {
      const words = c.words ? Object.keys(c.words) : r.value.values?.map(String);
      if (words) o.choices(words);
      else if (r.value.parse) o.argParser(viaCore(r.value.parse, flagName(c.flag)));
    }
    if (c.default !== undefined) o.default(c.default, c.defaultText);
    const off = c.off ? new Option(c.off.flag, c.off.help) : undefined;
    if (off) o.conflicts(off.attributeName());
    if (c.conflicts) o.conflicts(c.conflicts);
    cmd.addOption(o);
    if (off) cmd.addOption(off);
  }
  return cmd;
}

/** commander's flags for `name` as the table's values (absent: not given and no default). */
export function optionValues(opts: Record<string, unknown>, name: CommandName): OptionValues {
  const out: Record<string, unknown> = {};
  for (const r of ROWS) {
    const c = r.cli;
    if (!c || !c.commands.includes(name)) continue;
    let v = opts[r.key];
    if (v === undefined && c.off && opts[new Option(c.off.flag).attributeName()] === true) v = false;
    if (v !== undefined && c.words) v = c.words[v as string];
    if (v !== undefined) out[r.key] = v;
  }
  return out as OptionValues;
}
