#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli/main.ts, compiled to dist/ by `npm install` (prepare).
// An unexpected crash still ends in one line and exit 2, never a stack trace, unless
// GRU_CHECK_DEBUG is set.
import { loadCli } from './load-cli.js';

let main;
try {
  // The CLI bundled into one file (src/cli/entry.ts), loaded with its code cache (load-cli.js).
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
// A reader that goes away (`gru-check run ... | head -1`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (process.env.GRU_CHECK_DEBUG) throw e;
  process.stderr.write(`gru-check: error: internal error: ${String(e?.message ?? e).split('\n')[0]} (set GRU_CHECK_DEBUG=1 for a stack trace and report it)\n`);
  process.exitCode = 2;
}
