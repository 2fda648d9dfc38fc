#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli/main.ts, compiled to dist/ by `npm install` (prepare).
// An unexpected crash still ends in one line and exit 2, never a stack trace, unless
// GRU_CHECK_DEBUG is set. CommonJS, for the reason bin/load-cli.cjs gives.
'use strict';
const { loadCli } = require('./load-cli.cjs');

let main;
try {
  // The CLI bundled into one file (src/cli/entry.ts), loaded with its code cache (load-cli.cjs).
  // For a run on the fast engine the kernel is compiled and the workers of a big run started right
  // away, so their start overlaps loading the case (src/cli/early.ts, which also owns the V8 flags).
  const { cli } = loadCli();
  cli.startEngine(process.argv.slice(2));
  main = cli.main;
} catch (e) {
  process.stderr.write(`gru-check: error: cannot load the compiled CLI (${e.code ?? e.message}); run 'npm install' or 'npm run build' in the gru-check folder\n`);
  process.exit(2);
}
// Ctrl-C: both engines keep the event loop turning during long runs, so this runs promptly.
// 130 = 128 + SIGINT, what a shell reports for an interrupted command.
process.on('SIGINT', () => {
  // On a terminal, start a fresh line after the ^C echo (or a progress bar).
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}gru-check: interrupted (SIGINT)\n`);
  process.exit(130);
});
// The run settles before the process ends. Were the event loop ever to run dry first (a bug:
// nothing left to wait on), an ES module launcher's unsettled top-level await would exit 13; here
// the exit would be 0, a silent pass for a CI gate, so it becomes exit 2 with one line.
let settled = false;
process.on('exit', (code) => {
  if (settled || code !== 0) return;
  process.stderr.write('gru-check: error: internal error: the run ended before it finished (report it)\n');
  process.exitCode = 2;
});
// A reader that goes away (`gru-check run ... | head -1`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') {
    settled = true;
    process.exit(process.exitCode ?? 0);
  }
  throw e;
});
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (e) => {
    settled = true;
    if (process.env.GRU_CHECK_DEBUG) throw e;
    process.stderr.write(`gru-check: error: internal error: ${String(e?.message ?? e).split('\n')[0]} (set GRU_CHECK_DEBUG=1 for a stack trace and report it)\n`);
    process.exitCode = 2;
  },
);
