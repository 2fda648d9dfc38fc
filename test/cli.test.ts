// The built CLI as a user runs it (bin/gru-check.js, colour off unless a test says otherwise):
// one process for every CLI test, in test/cli/: the run command's exit codes, outputs and input
// errors (run.ts), the layout and ONNX attribute flags (layouts.ts), --equal-nan, float16
// tolerances and colour (checks.ts), golden outputs (golden.ts), inspect (inspect.ts), baselines
// (baseline.ts), SIGINT and closed pipes (signals.ts). (node --test starts a process with the
// TypeScript loader per test file, ~0.45 s each here; these tests mostly wait on the CLI.)
// One of them alone: node --import tsx --test test/cli/golden.ts
import './cli/run.js';
import './cli/layouts.js';
import './cli/checks.js';
import './cli/golden.js';
import './cli/inspect.js';
import './cli/baseline.js';
import './cli/signals.js';
