/**
 * Longer fuzzing than `npm test` does: the properties of test/fuzz.test.ts (test/fuzz/props.ts)
 * with many more runs and a random seed, printed first so a failure can be replayed.
 *
 *   node --import tsx test/fuzz/run-fuzz.ts [runs] [--seed N] [--only NAME]
 *
 * `runs` (default 5000) is the run count of the cheapest property; the slower ones get a share of
 * it. Exit 0 when every property held, 1 with the counterexample otherwise.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { tmp } from '../helpers.js';
import {
  PWNED,
  npyHeaderProperty,
  npyHugeClaimProperty,
  npzLieProperty,
  npzMutationProperty,
  runPathBytesProperty,
  runPathEditProperty,
  runPathResizeProperty,
} from './props.js';
import {
  PICKLE_PWNED,
  onnxMutationProperty,
  outcomes,
  pickleMutationProperty,
  pickleStreamProperty,
  safetensorsHeaderProperty,
  safetensorsMutationProperty,
  tensorViewProperty,
  torchZipMutationProperty,
} from './format-props.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const runs = Number(positional[0] ?? 5000);
const seed = flag('--seed') !== undefined ? Number(flag('--seed')) : (Math.random() * 2 ** 31) | 0;
const only = flag('--only');
if (!Number.isSafeInteger(runs) || runs <= 0 || !Number.isSafeInteger(seed)) {
  process.stderr.write('usage: run-fuzz.ts [runs] [--seed N] [--only NAME]\n');
  process.exit(2);
}

const dir = tmp();
rmSync(PWNED, { force: true });
rmSync(PICKLE_PWNED, { force: true });
process.stdout.write(`gru-check fuzz: seed ${seed}, base runs ${runs} (replay: node --import tsx test/fuzz/run-fuzz.ts ${runs} --seed ${seed})\n`);

/** name, property, share of `runs`. */
const props: Array<[string, () => fc.IRawProperty<never>, number]> = [
  ['npy-header', npyHeaderProperty as () => fc.IRawProperty<never>, 1],
  ['npy-huge-claim', npyHugeClaimProperty as () => fc.IRawProperty<never>, 0.2],
  ['npz-mutation', npzMutationProperty as () => fc.IRawProperty<never>, 0.5],
  ['npz-lies', npzLieProperty as () => fc.IRawProperty<never>, 0.5],
  ['run-edits', (() => runPathEditProperty(dir)) as () => fc.IRawProperty<never>, 0.3],
  ['run-resize', (() => runPathResizeProperty(dir)) as () => fc.IRawProperty<never>, 0.03],
  ['run-bytes', (() => runPathBytesProperty(dir)) as () => fc.IRawProperty<never>, 0.2],
  ['torch-zip', torchZipMutationProperty as () => fc.IRawProperty<never>, 0.3],
  ['pickle-mutation', pickleMutationProperty as () => fc.IRawProperty<never>, 0.5],
  ['pickle-stream', pickleStreamProperty as () => fc.IRawProperty<never>, 1],
  ['tensor-view', tensorViewProperty as () => fc.IRawProperty<never>, 0.5],
  ['safetensors-header', safetensorsHeaderProperty as () => fc.IRawProperty<never>, 1],
  ['safetensors-mutation', safetensorsMutationProperty as () => fc.IRawProperty<never>, 0.3],
  ['onnx-mutation', onnxMutationProperty as () => fc.IRawProperty<never>, 0.5],
];

let failed = 0;
for (const [i, [name, make, share]] of props.entries()) {
  if (only !== undefined && name !== only) continue;
  const numRuns = Math.max(10, Math.round(runs * share));
  const t0 = performance.now();
  const details = await fc.check(make(), { seed: seed + i, numRuns });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  if (details.failed) {
    failed++;
    process.stdout.write(`FAIL ${name}: ${numRuns} runs, seed ${seed + i}, ${s} s\n${fc.defaultReportMessage(details)}\n`);
    if (details.errorInstance instanceof Error) process.stdout.write(`${details.errorInstance.message}\n`);
  } else {
    const o = outcomes[name];
    process.stdout.write(`ok   ${name}: ${details.numRuns} runs in ${s} s${o ? ` (${o.read} read, ${o.refused} refused)` : ''}\n`);
  }
}
rmSync(dir, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
