/**
 * The command line: the only file that knows commander. Parses flags, loads files through io/,
 * runs the pure core (check, diagnose, inspect), renders, writes to stdout/stderr and returns the
 * exit code (the launcher sets it). Errors are one line on stderr,
 * `gru-check: error: <file>: <what> (<hint>)`, exit 2.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { escapeControls as term, oneLine, showName } from '../io/text.js';
import { readBoundedText } from '../io/json.js';
import { checkTarget, writeAtomic } from '../io/write.js';
import { readBaselineFile, saveBaselineFile } from '../suite/baseline-file.js';
import { suitePathResolver } from '../suite/paths.js';
import { PREWARM_BYTES } from './early.js';
import { GruCheckError, formatError } from '../errors.js';
import { loadArrays } from '../io/load.js';
import type { ArrayBundle } from '../io/types.js';
import type { CaseOptions } from '../model/case.js';
import { caseError, checkCase, prepareCase, type CheckOptions } from '../check.js';
import type { CaseResult, RunSummary } from '../result.js';
import { readCandidate } from '../candidate/read.js';
import { parseOnnxMap } from '../candidate/onnx-runtime.js';
import { prewarmFastEngine } from '../engine/fast.js';
import { diagnoseCase } from '../diagnose/diagnose.js';
import { inspectBundle } from '../inspect.js';
import { applyBaseline, parseBaseline } from '../baseline.js';
import { EXIT_INPUT_ERROR, EXIT_MISMATCH, EXIT_PASS, exitCode, summarize } from '../summary.js';
import { renderJson } from '../report/json.js';
import { renderTable } from '../report/table.js';
import { diagnoseCommand as diagnoseCommandLine } from './next.js';
import { renderJunit } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderHtml } from '../report/html.js';
import { renderDiagnosisJson, renderDiagnosisTable } from '../report/diagnosis.js';
import { renderInspectJson, renderInspectTable } from '../report/inspect.js';
import { colorLevel } from './color.js';
import { parseSuite, parseShard, shardOf, type SuiteSettings } from '../suite/suite.js';
import { presetOverrides } from '../compare/tolerance.js';
import { DEFAULT_MAX_BYTES, OPTIONS, PROVENANCE_KEYS, libraryRules, type OptionRow, type OptionValues, type Provenance } from '../options.js';
import { addOptions, optionValues } from './flags.js';
import { Progress, type ProgressSink } from './progress.js';
import { now } from '../clock.js';

const NO_SINK: ProgressSink = { isTTY: false, write: () => {} };

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** Where the progress bar goes (stderr); it draws only on a terminal. */
  progress?: ProgressSink;
  /** stdout's width when it is a terminal. */
  columns?: number | undefined;
}

/** What the table output fits in: the terminal's width, else COLUMNS, else 100 (a log, a pipe). */
function outputWidth(io: CliIO): number {
  const env = Number(io.env.COLUMNS);
  const w = io.columns ?? (Number.isInteger(env) && env > 0 ? env : 100);
  return Math.max(40, w);
}

const defaultIO: CliIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
  progress: { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns, write: (s) => void process.stderr.write(s) },
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

type RunFormat = 'table' | 'json' | 'junit' | 'markdown' | 'html';

/** The flags of a command (or a suite case's settings over them), as the option table's values. */
type Flags = OptionValues & {
  /** Who set a setting whose source the report names, when not its flag (a suite). */
  from?: Provenance;
};

/** The library's options of `scope` among the flags, as they are (paths and the ONNX model apart). */
function pickLibrary(flags: Flags, scope: 'case' | 'check'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(libraryRules(scope))) {
    const v = (flags as Record<string, unknown>)[k];
    if (v !== undefined && k !== 'weights' && k !== 'candidate' && k !== 'onnx') out[k] = v;
  }
  return out;
}

/** The case options every command takes from the flags (validated against the layout in model/). */
function caseOptions(flags: Flags): CaseOptions {
  return pickLibrary(flags, 'case') as CaseOptions;
}

const errorLine = (e: GruCheckError): string => `gru-check: error: ${formatError(e)}\n`;
/** `gru-check: warning: <file>: <what>`, one line, whatever the file put in the message, clipped. */
const warningLine = (file: string, message: string): string => `gru-check: warning: ${oneLine(`${showName(file, 300)}: ${message}`)}\n`;

/** commander's "error: ..." as our one line, with where to look; a 700 KB flag value is clipped. */
function usageError(str: string, write: (s: string) => void): void {
  write(`gru-check: ${oneLine(str.trim().replace(/\s*\n\s*/g, ' '))} (see gru-check --help)\n`);
}

/** Loads a path, naming it as the file of any error; a progress bar for a long load on a terminal. */
async function load(path: string, maxBytes: number, io: CliIO): Promise<ArrayBundle> {
  const bar = new Progress(io.progress ?? NO_SINK, `loading ${path}`);
  try {
    return await loadArrays(path, { maxBytes, onProgress: (d, t) => bar.update(d, t) });
  } catch (e) {
    if (e instanceof GruCheckError && !e.file) e.file = path;
    throw e;
  } finally {
    bar.end();
  }
}

async function checkOptions(flags: Flags, io: CliIO, loadFile: (path: string, maxBytes: number) => Promise<ArrayBundle> = (p, m) => load(p, m, io)): Promise<CheckOptions> {
  const o: CheckOptions = {
    ...(pickLibrary(flags, 'check') as CheckOptions),
    onnx: flags.onnx === undefined ? undefined : { model: flags.onnx, map: flags.onnxMap === undefined ? undefined : parseOnnxMap(flags.onnxMap) },
    from: flags.from,
    equalNan: flags.equalNan ?? false,
    // Which thread ran which piece, and when, in the JSON timings (the bench reads it).
    trace: io.env.GRU_CHECK_TRACE === '1',
  };
  const maxBytes = flags.maxBytes ?? DEFAULT_MAX_BYTES;
  if (flags.weights !== undefined) o.weights = await loadFile(flags.weights, maxBytes);
  if (flags.candidate !== undefined) o.candidate = readCandidate(await loadFile(flags.candidate, maxBytes));
  return o;
}

/**
 * Starts the fast engine's workers now, while the case loads, for a run that may use a second
 * thread: --threads above 1, or a case (file or --weights) of at least PREWARM_BYTES. They are then
 * warm when the GRU starts (the fast engine takes only warm workers by default). Smaller cases never
 * start one: on a small sample a worker's start costs more than the whole run.
 */
function maybePrewarm(paths: string[], flags: Flags): void {
  if (flags.engine !== 'fast' || flags.threads === 1) return;
  const size = (p: string): number => {
    try {
      const st = statSync(p);
      return st.isDirectory() ? PREWARM_BYTES : st.size;
    } catch {
      return 0;
    }
  };
  // Unref'd workers: a run that needs none exits as usual.
  if (flags.threads !== undefined || [...paths, ...(flags.weights ? [flags.weights] : [])].some((p) => size(p) >= PREWARM_BYTES)) prewarmFastEngine(flags.threads);
}

const REPORT_FORMATS: Record<string, RunFormat> = { '.json': 'json', '.xml': 'junit', '.md': 'markdown', '.html': 'html', '.htm': 'html' };

function render(format: RunFormat, s: RunSummary, flags: Flags, io: CliIO, next?: (string | undefined)[]): string {
  switch (format) {
    case 'json': return renderJson(s);
    case 'junit': return renderJunit(s);
    case 'markdown': return renderMarkdown(s);
    case 'html': return renderHtml(s);
    default: return renderTable(s, { colorLevel: colorLevel(flags.color ?? true, io.env), width: outputWidth(io), ...(next ? { next } : {}) });
  }
}

/** One case of a run: its path, an optional label (from a suite) and the flags in force for it. */
interface PlannedCase {
  path: string;
  name?: string;
  flags: Flags;
}

/**
 * Suite settings over the CLI's flags: each key the suite sets replaces the flag whole, and clears
 * the one it cannot be given with (a case's candidate, the defaults' onnx); `from` names the suite
 * as the source of the settings the report attributes.
 */
function withSettings(flags: Flags, s: SuiteSettings, from: string): Flags {
  const f: Record<string, unknown> = { ...flags };
  const set = s as Record<string, unknown>;
  for (const r of OPTIONS as readonly OptionRow[]) {
    if (!r.suite || set[r.key] === undefined) continue;
    f[r.key] = set[r.key];
    if (r.cli?.conflicts) f[r.cli.conflicts] = undefined;
    for (const o of OPTIONS as readonly OptionRow[]) if (o.cli?.conflicts === r.key) f[o.key] = undefined;
  }
  const named = PROVENANCE_KEYS.filter((k) => set[k] !== undefined);
  if (named.length > 0) f.from = { ...flags.from, ...Object.fromEntries(named.map((k) => [k, from])) };
  return f as Flags;
}

/** The cases of this run: the positional ones or a suite's, then this job's shard of them. */
function planCases(cases: string[], flags: Flags, io: CliIO): { plan: PlannedCase[]; shard?: RunSummary['shard'] } {
  let plan: PlannedCase[];
  if (flags.suite !== undefined) {
    if (cases.length > 0) throw new GruCheckError('USAGE', `--suite ${flags.suite} and case paths (${cases.join(' ')}) both name the cases`, { hint: 'list the cases in the suite, or drop --suite' });
    if (flags.candidate !== undefined) throw new GruCheckError('USAGE', `--candidate ${flags.candidate} with --suite would be checked against every case`, { hint: 'give each case its own "candidate" in the suite' });
    const suite = parseSuite(readBoundedText(flags.suite, 'suite'), flags.suite, suitePathResolver(flags.suite, flags.allowOutsideSuite === true));
    if (suite.defaults.candidate !== undefined && suite.cases.length > 1) {
      throw new GruCheckError('BAD_CONFIG', 'defaults.candidate: a candidate is the output of one case; give each case its own', { file: flags.suite });
    }
    for (const s of [suite.defaults, ...suite.cases]) if (s.onnxMap !== undefined) parseOnnxMap(s.onnxMap);
    const base = withSettings(flags, suite.defaults, 'suite defaults');
    plan = suite.cases.map((e) => ({ path: e.case, ...(e.name ? { name: e.name } : {}), flags: withSettings(base, e, 'suite case') }));
  } else {
    if (cases.length === 0) throw new GruCheckError('USAGE', 'run needs a case (an .npz file or a folder of .npy files) or --suite FILE.json', { hint: 'e.g. gru-check run samples/bidir_2layer.npz' });
    if (flags.candidate !== undefined && cases.length > 1) {
      throw new GruCheckError('USAGE', `--candidate ${flags.candidate} would be checked against all ${cases.length} cases`, { hint: 'pair each case with its own candidate in a suite file: gru-check run --suite suite.json' });
    }
    plan = cases.map((path) => ({ path, flags }));
  }
  if (flags.shard === undefined) return { plan };
  const [index, count] = parseShard(flags.shard);
  const mine = shardOf(plan, index, count);
  if (mine.length === 0) io.stderr(`gru-check: warning: shard ${index}/${count} holds no case (${plan.length} case${plan.length === 1 ? '' : 's'} in all): this job checks nothing\n`);
  return { plan: mine, shard: { index, count, total: plan.length } };
}

/** Reads each file once however many cases name it. */
function memo<T>(f: (path: string) => T): (path: string) => T {
  const seen = new Map<string, T>();
  return (path) => {
    if (!seen.has(path)) seen.set(path, f(path));
    return seen.get(path)!;
  };
}

async function runCommand(cases: string[], flags: Flags, io: CliIO): Promise<number> {
  const reportFormat = flags.report !== undefined ? REPORT_FORMATS[extname(flags.report).toLowerCase()] : undefined;
  if (flags.report !== undefined && !reportFormat) {
    throw new GruCheckError('USAGE', `--report: cannot tell the format from the extension of '${flags.report}'`, { hint: 'use .xml (JUnit), .md, .html or .json' });
  }
  const { plan, shard } = planCases(cases, flags, io);
  // Outputs are checked, and a baseline to merge into is read, before the first case runs.
  checkOutputs(plan, flags);
  maybePrewarm(plan.map((p) => p.path), flags);
  const baselineOf = memo((path: string) => {
    const b = parseBaseline(readBoundedText(path, 'baseline'), path);
    if (b.gruCheckBaseline === 1) {
      io.stderr(`gru-check: warning: ${term(path)}: a version 1 baseline, keyed by the path as typed: entries are looked up by path; re-save it with --save-baseline to key them by content\n`);
    }
    return b;
  });
  // Every baseline is read (and refused if bad) before the first case runs.
  for (const p of plan) if (p.flags.baseline !== undefined) baselineOf(p.flags.baseline);
  // Per-step errors feed the table's sparkline and the HTML plots, error maps only the HTML.
  const formats = [flags.format, reportFormat];
  const details = {
    fingerprint: plan.some((p) => p.flags.baseline !== undefined) || flags.saveBaseline !== undefined,
    stepErrors: formats.includes('table') || formats.includes('html') || formats.includes('markdown'),
    errorMaps: formats.includes('html'),
    // The |error| histogram: the line under a failing check (table, markdown), the HTML's plot.
    histograms: formats.includes('table') || formats.includes('html') || formats.includes('markdown'),
  };
  // What an explicit setting replaced of a preset's, and a preset with no candidate to judge:
  // said once each, on stderr.
  const said = new Set<string>();
  for (const p of plan) {
    const lines = presetOverrides(p.flags).map((l) => `gru-check: note: ${l}\n`);
    if (p.flags.portPrecision !== undefined && p.flags.candidate === undefined && p.flags.onnx === undefined) {
      lines.push(`gru-check: warning: --port-precision ${p.flags.portPrecision} applies to a port's checks, and ${term(p.name ?? p.path)} has no --candidate or --onnx: its reference is checked at the defaults\n`);
    }
    for (const l of lines.map((l) => `${oneLine(l.trimEnd())}\n`)) if (!said.has(l)) said.add(l) && io.stderr(l);
  }
  const loaded = new Map<string, Promise<ArrayBundle>>();
  const loadOnce = (path: string, maxBytes: number): Promise<ArrayBundle> => {
    if (!loaded.has(path)) loaded.set(path, load(path, maxBytes, io));
    return loaded.get(path)!;
  };
  const results: CaseResult[] = [];
  /** For each case, the diagnose command to try next when a check failed. */
  const next: (string | undefined)[] = [];
  for (const { path, name, flags: f } of plan) {
    const t0 = now();
    const label = name ?? path;
    const bars = { load: new Progress(io.progress ?? NO_SINK, `loading ${term(label)}`), compute: new Progress(io.progress ?? NO_SINK, `computing ${term(label)}`) };
    try {
      const options = await checkOptions(f, io, loadOnce);
      let r = await checkCase(path, { ...options, ...details, onProgress: (d, t, phase) => bars[phase].update(d, t) });
      if (name !== undefined) r = { ...r, case: name, path };
      r = clipMessages(r);
      for (const w of r.warnings ?? []) io.stderr(warningLine(label, w.message));
      if (f.baseline !== undefined) r = applyBaseline(summarize([r]), baselineOf(f.baseline), f.baselineFactor ?? 2).cases[0]!;
      // A check that failed (not only a baseline's growth) is what diagnose explains.
      next[results.length] = r.checks.some((k) => !k.pass) ? diagnoseCommandLine(path, f) : undefined;
      results.push(r);
    } catch (e) {
      if (!(e instanceof GruCheckError)) throw e;
      e.file ??= path;
      io.stderr(errorLine(e));
      results.push({ ...caseError(label, e, now() - t0), ...(name !== undefined ? { path } : {}) });
    } finally {
      bars.load.end();
      bars.compute.end();
    }
  }
  const summary: RunSummary = { ...summarize(results), ...(shard ? { shard } : {}) };
  if (flags.saveBaseline !== undefined) await saveBaseline(flags.saveBaseline, summary, io);
  if (flags.report !== undefined) writeAtomic(flags.report, render(reportFormat!, summary, flags, io));
  // A lone unreadable case has nothing to tabulate beyond the error line already on stderr.
  if (flags.format !== 'table' || !(results.length === 1 && results[0]!.error !== undefined)) {
    io.stdout(render(flags.format ?? 'table', summary, flags, io, next));
  }
  return exitCode(summary);
}

/** Warnings and notes as every output shows them: one bounded line each (the error is already, by formatError). */
function clipMessages(r: CaseResult): CaseResult {
  const out = { ...r };
  if (r.warnings) out.warnings = r.warnings.map((w) => ({ ...w, message: oneLine(w.message) }));
  if (r.notes) out.notes = r.notes.map((n) => oneLine(n));
  return out;
}

/**
 * Before anything runs: every output (--report, --save-baseline) is a path gru-check will write
 * (io/write.ts checkTarget: no symlink, a regular file in an existing folder, not one of this run's
 * inputs by device and inode), the two are not one file, and an existing --save-baseline file is a
 * baseline (its entries are merged, so a file that is not one is refused rather than replaced).
 * (It is read again under the lock at the end: another shard may have saved meanwhile.)
 */
function checkOutputs(plan: PlannedCase[], flags: Flags): void {
  const outputs: [string, string][] = [];
  if (flags.report !== undefined) outputs.push(['--report', flags.report]);
  if (flags.saveBaseline !== undefined) outputs.push(['--save-baseline', flags.saveBaseline]);
  if (outputs.length === 0) return;
  const inputs: [string, string][] = [];
  if (flags.suite !== undefined) inputs.push(['the suite', flags.suite]);
  for (const p of plan) {
    inputs.push(['the case', p.path]);
    const f = p.flags;
    if (f.weights !== undefined) inputs.push(['the weights', f.weights]);
    if (f.candidate !== undefined) inputs.push(['the candidate', f.candidate]);
    if (f.onnx !== undefined) inputs.push(['the ONNX model', f.onnx]);
    if (f.baseline !== undefined) inputs.push(['the baseline', f.baseline]);
  }
  for (const [flag, path] of outputs) checkTarget(path, flag, inputs);
  if (flags.report !== undefined && flags.saveBaseline !== undefined) {
    // Not yet written, they may still be one file: compare their resolved paths too.
    if (resolve(flags.report) === resolve(flags.saveBaseline)) throw new GruCheckError('USAGE', `--report and --save-baseline name one file`, { file: flags.report, hint: 'write them to two files' });
    checkTarget(flags.saveBaseline, '--save-baseline', [['the --report file', flags.report]]);
  }
  if (flags.saveBaseline !== undefined) readBaselineFile(flags.saveBaseline);
}

/** --save-baseline (suite/baseline-file.ts): a case that could not be checked keeps its old entry, and is named on stderr. */
async function saveBaseline(path: string, summary: RunSummary, io: CliIO): Promise<void> {
  const m = await saveBaselineFile(path, summary);
  for (const c of m.notChecked) io.stderr(warningLine(path, `${c} could not be checked: its entry, if it had one, is kept as it was`));
  if (m.droppedV1 > 0) io.stderr(warningLine(path, `was a version 1 baseline (keyed by path): its ${m.droppedV1} entr${m.droppedV1 === 1 ? 'y' : 'ies'} could not be merged and were replaced by this run's`));
}

async function diagnoseCommand(path: string, flags: Flags, io: CliIO): Promise<number> {
  maybePrewarm([path], flags);
  const checked = await checkOptions(flags, io);
  const bundle = await load(path, flags.maxBytes ?? DEFAULT_MAX_BYTES, io);
  const { case: c, options } = await prepareCase(bundle, checked);
  for (const w of c.warnings) io.stderr(warningLine(path, w.message));
  const bar = new Progress(io.progress ?? NO_SINK, `diagnosing ${term(path)}`);
  const result = await diagnoseCase(c, { ...options, onProgress: (d, t) => bar.update(d, t) }).finally(() => bar.end());
  io.stdout(flags.format === 'json' ? renderDiagnosisJson(result) : renderDiagnosisTable(result, { colorLevel: colorLevel(flags.color ?? true, io.env), width: outputWidth(io) }));
  return result.pass ? EXIT_PASS : EXIT_MISMATCH;
}

async function inspectCommand(path: string, flags: Flags, io: CliIO): Promise<number> {
  const bundle = await load(path, flags.maxBytes ?? DEFAULT_MAX_BYTES, io);
  const weights = flags.weights !== undefined ? await load(flags.weights, flags.maxBytes ?? DEFAULT_MAX_BYTES, io) : undefined;
  const r = inspectBundle(bundle, { ...caseOptions(flags), weights });
  io.stdout(flags.format === 'json' ? renderInspectJson(r) : renderInspectTable(r, { colorLevel: colorLevel(flags.color ?? true, io.env) }));
  return EXIT_PASS;
}

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const out = { writeOut: io.stdout, writeErr: io.stderr, outputError: usageError };
  const program = new Command('gru-check');
  program
    .description('Check that a GRU matches PyTorch: recompute nn.GRU from dumped weights and compare output and h_n.')
    .version(version(), '-V, --version')
    .configureOutput(out)
    .exitOverride();

  addOptions(program.command('run'), 'run')
    .description('recompute the GRU of each case and compare it with the dumped output and h_n (and a port\'s, with --candidate)')
    .argument('[case...]', '.npz file or directory of .npy files')
    .exitOverride()
    .configureOutput(out)
    .action(async (cases: string[], opts: Record<string, unknown>) => setExit(await runCommand(cases, optionValues(opts, 'run'), io)));

  addOptions(program.command('diagnose'), 'diagnose')
    .description('name the porting mistake: re-run the reference under each known mistake and rank them by how well they reproduce the tensors under test (the candidate, else the expected ones)')
    .argument('<case>', '.npz file or directory of .npy files')
    .exitOverride()
    .configureOutput(out)
    .action(async (path: string, opts: Record<string, unknown>) => setExit(await diagnoseCommand(path, optionValues(opts, 'diagnose'), io)));

  addOptions(program.command('inspect'), 'inspect')
    .description('list every array (dtype, shape, min/max/mean, NaN/Inf) and the GRU configuration inferred from them')
    .argument('<file>', '.npz file, .npy file or directory of .npy files')
    .exitOverride()
    .configureOutput(out)
    .action(async (path: string, opts: Record<string, unknown>) => setExit(await inspectCommand(path, optionValues(opts, 'inspect'), io)));
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
