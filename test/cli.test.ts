// The built CLI as a user runs it (bin/gru-check.cjs, colour off unless a test says otherwise): the
// run command's exit codes, outputs and input errors (cli/run.ts), SIGINT and closed pipes
// (cli/signals.ts), the layout and ONNX attribute flags (cli/layouts.ts), --equal-nan, float16
// tolerances and colour (cli/checks.ts), golden outputs (cli/golden.ts), inspect (cli/inspect.ts),
// baselines (cli/baseline.ts), suites and shards (cli/suite.ts), --port-precision on real mixed-precision ports (cli/precision.ts) and Keras weight files (cli/keras-files.ts). One process for all of them:
// node --test starts one per file, and each loads src/ through tsx (about 1.2 s of CPU apiece, on
// 2 cores shared by the whole suite). One of them alone: node --import tsx --test test/cli/golden.ts
import './cli/run.js';
import './cli/signals.js';
import './cli/layouts.js';
import './cli/checks.js';
import './cli/golden.js';
import './cli/inspect.js';
import './cli/baseline.js';
import './cli/suite.js';
import './cli/precision.js';
import './cli/safety.js';
import './cli/keras-files.js';
