/**
 * Longer fuzzing than `npm test` does: the properties of test/fuzz/fixed-seeds.ts (test/fuzz/props.ts)
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
  kerasArchiveMutationProperty,
  kerasH5DimsProperty,
  kerasH5MutationProperty,
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

/** Runs a property (sync or async) with fast-check, keeping its generic type inside. */
type Check = (params: { seed: number; numRuns: number }) => Promise<fc.RunDetails<unknown>>;
const check = <Ts>(make: () => fc.IRawProperty<Ts>): Check => async (params) => (await fc.check(make(), params)) as fc.RunDetails<unknown>;

/** name, property, share of `runs`. */
const props: Array<[string, Check, number]> = [
  ['npy-header', check(npyHeaderProperty), 1],
  ['npy-huge-claim', check(npyHugeClaimProperty), 0.2],
  ['npz-mutation', check(npzMutationProperty), 0.5],
  ['npz-lies', check(npzLieProperty), 0.5],
  ['run-edits', check(() => runPathEditProperty(dir)), 0.3],
  ['run-resize', check(() => runPathResizeProperty(dir)), 0.03],
  ['run-bytes', check(() => runPathBytesProperty(dir)), 0.2],
  ['torch-zip', check(torchZipMutationProperty), 0.3],
  ['pickle-mutation', check(pickleMutationProperty), 0.5],
  ['pickle-stream', check(pickleStreamProperty), 1],
  ['tensor-view', check(tensorViewProperty), 0.5],
  ['safetensors-header', check(safetensorsHeaderProperty), 1],
  ['safetensors-mutation', check(safetensorsMutationProperty), 0.3],
  ['onnx-mutation', check(onnxMutationProperty), 0.5],
  ['keras-h5-mutation', check(kerasH5MutationProperty), 0.3],
  ['keras-h5-dims', check(kerasH5DimsProperty), 0.3],
  ['keras-archive-mutation', check(kerasArchiveMutationProperty), 0.2],
];

let failed = 0;
for (const [i, [name, make, share]] of props.entries()) {
  if (only !== undefined && name !== only) continue;
  const numRuns = Math.max(10, Math.round(runs * share));
  const t0 = performance.now();
  const details = await make({ seed: seed + i, numRuns });
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
