// The built CLI, second half (see cli.test.ts): the layout and ONNX attribute flags
// (cli/layouts.ts), --equal-nan, float16 tolerances and colour (cli/checks.ts), golden outputs
// (cli/golden.ts), inspect (cli/inspect.ts), baselines (cli/baseline.ts).
import './cli/layouts.js';
import './cli/checks.js';
import './cli/golden.js';
import './cli/inspect.js';
import './cli/baseline.js';
