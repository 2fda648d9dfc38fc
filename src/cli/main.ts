/**
 * The command line: the only file that knows commander. Parses flags, loads files through io/,
 * runs the pure check, renders, writes to stdout/stderr and returns the exit code (the launcher
 * sets it). Errors are one line on stderr, `gru-check: error: <file>: <what> (<hint>)`, exit 2.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { GruCheckError, formatError } from '../errors.js';
import { loadArrays } from '../io/load.js';
import type { ArrayBundle } from '../io/types.js';
import { caseError, checkBundle, type CaseResult, type CheckOptions } from '../check.js';
import { EXIT_INPUT_ERROR, exitCode, summarize } from '../summary.js';
import { renderJson } from '../report/json.js';
import { renderTable } from '../report/table.js';
import { colorLevel } from './color.js';

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIO: CliIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x) || x < 0) {
      throw new InvalidArgumentError(`${flag} expects a non-negative number, got '${value}'`);
    }
    return x;
  };
}

interface RunFlags {
  weights?: string;
  prefix?: string;
  batchFirst?: boolean;
  seqFirst?: boolean;
  rtol?: number;
  atol?: number;
  equalNan?: boolean;
  precision?: 'f32' | 'f64';
  format: 'table' | 'json';
  color: boolean;
}

function errorLine(e: GruCheckError): string {
  return `gru-check: error: ${formatError(e)}\n`;
}

async function runCommand(cases: string[], flags: RunFlags, io: CliIO): Promise<number> {
  let weights: ArrayBundle | undefined;
  if (flags.weights !== undefined) {
    try {
      weights = await loadArrays(flags.weights);
    } catch (e) {
      if (!(e instanceof GruCheckError)) throw e;
      if (!e.file) e.file = flags.weights;
      io.stderr(errorLine(e));
      return EXIT_INPUT_ERROR;
    }
  }
  const options: CheckOptions = {
    prefix: flags.prefix,
    batchFirst: flags.batchFirst ? true : flags.seqFirst ? false : undefined,
    weights,
    rtol: flags.rtol,
    atol: flags.atol,
    equalNan: flags.equalNan ?? false,
    precision: flags.precision,
  };
  const results: CaseResult[] = [];
  for (const path of cases) {
    const t0 = performance.now();
    let loadMs = 0;
    try {
      const bundle = await loadArrays(path);
      loadMs = performance.now() - t0;
      results.push(checkBundle(bundle, options, loadMs));
    } catch (e) {
      if (!(e instanceof GruCheckError)) throw e;
      if (!e.file) e.file = path;
      io.stderr(errorLine(e));
      results.push(caseError(path, e, loadMs));
    }
  }
  const summary = summarize(results);
  if (flags.format === 'json') io.stdout(renderJson(summary));
  // A lone unreadable case has nothing to tabulate beyond the error line already on stderr.
  else if (!(results.length === 1 && results[0]!.error !== undefined)) {
    io.stdout(renderTable(summary, { colorLevel: colorLevel(flags.color, io.env) }));
  }
  return exitCode(summary);
}

/** commander's "error: ..." as our one line, with where to look. */
function usageError(str: string, write: (s: string) => void): void {
  write(`gru-check: ${str.trim().replace(/\s*\n\s*/g, ' ')} (see gru-check --help)\n`);
}

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('gru-check');
  program
    .description('Check that a GRU matches PyTorch: recompute nn.GRU from dumped weights and compare output and h_n.')
    .version(version(), '-V, --version')
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: usageError,
    })
    .exitOverride();

  program
    .command('run')
    .description('recompute the GRU of each case and compare it with the dumped output and h_n')
    .argument('<case...>', '.npz file or directory of .npy files')
    .option('--weights <file>', 'take the weights from this .npz / .npy directory instead of the case')
    .option('--prefix <prefix>', 'module prefix of the GRU weights when the file holds several (e.g. encoder.rnn)')
    .addOption(new Option('--batch-first', 'input and output are (batch, seq, feature)').conflicts('seqFirst'))
    .addOption(new Option('--seq-first', 'input and output are (seq, batch, feature)'))
    .option('--rtol <r>', 'relative tolerance (default: torch.testing.assert_close\'s for the dtype)', nonNegative('--rtol'))
    .option('--atol <a>', 'absolute tolerance (default: torch.testing.assert_close\'s for the dtype)', nonNegative('--atol'))
    .option('--equal-nan', 'count NaN == NaN as a match')
    .addOption(new Option('--precision <p>', 'f32: round the state to float32 each step; f64: keep float64 (default: f64 for float64 dumps, else f32)').choices(['f32', 'f64']))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--no-color', 'no colours in the table (also NO_COLOR=1)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: usageError })
    .action(async (cases: string[], flags: RunFlags) => {
      setExit(await runCommand(cases, flags, io));
    });
  return program;
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    if (argv.length === 0) {
      io.stdout(program.helpInformation());
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; every usage error is exit 2.
      return e.exitCode === 0 ? 0 : EXIT_INPUT_ERROR;
    }
    if (e instanceof GruCheckError) {
      io.stderr(errorLine(e));
      return EXIT_INPUT_ERROR;
    }
    throw e;
  }
}
