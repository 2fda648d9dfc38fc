// The built CLI as a user runs it (bin/gru-check.js, colour off unless a test says otherwise), in
// two processes so they run side by side (node --test starts one per file, ~0.45 s each here):
// this one has the run command's exit codes, outputs and input errors (cli/run.ts) and SIGINT and
// closed pipes (cli/signals.ts); cli-flags.test.ts the rest.
// One of them alone: node --import tsx --test test/cli/golden.ts
import './cli/run.js';
import './cli/signals.js';
