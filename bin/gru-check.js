#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli/main.ts, compiled to dist/ by `npm install` (prepare).
// An unexpected crash still ends in one line and exit 2, never a stack trace, unless
// GRU_CHECK_DEBUG is set.
import { setFlagsFromString } from 'node:v8';

// V8 flags are process-wide, so the launcher sets them, never the library. Node 20 has wasm relaxed
// SIMD (the engine's fused multiply-add kernel, wasm/gemm.wat) only behind a flag; Node 22 has it
// on. A 37-byte module holding one f32x4.relaxed_madd tells which: the flag is set only where it
// is missing.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);
if (!WebAssembly.validate(RELAXED_PROBE)) setFlagsFromString('--experimental-wasm-relaxed-simd');
setFlagsFromString('--no-liftoff');

let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
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
