// schema/result.schema.json is what src/result.ts says (regenerated here and compared), and every
// real `--format json` output holds to it: `run` on every sample and fixture case, `diagnose` on
// every sample and on every port of test/fixtures/diagnose. The CLI runs in-process (cli/main.ts
// main) on the reference engine, as the JSON snapshots of refactors do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT } from './helpers.js';
import { main } from '../src/cli/main.js';
import { closeFastEngine } from '../src/engine/fast.js';
// @ts-expect-error: a plain ES module script without types
import { resultSchemaText } from '../schema/make-result-schema.mjs';

test.after(() => closeFastEngine());

const schemaText = readFileSync(join(ROOT, 'schema', 'result.schema.json'), 'utf8');

test('schema/result.schema.json is the one schema/make-result-schema.mjs generates from src/result.ts', () => {
  assert.equal(schemaText, (resultSchemaText as () => string)(), 'run `node schema/make-result-schema.mjs` and commit the schema');
});

function npzFiles(dir: string, acc: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) npzFiles(p, acc);
    else if (name.endsWith('.npz')) acc.push(relative(ROOT, p));
  }
  return acc;
}

async function json(args: string[]): Promise<{ code: number; doc: unknown }> {
  let out = '';
  const code = await main([...args, '--format', 'json', '--engine', 'reference', '--no-color'], { stdout: (s) => (out += s), stderr: () => {}, env: {} });
  return { code, doc: out ? JSON.parse(out) : undefined };
}

test('every run and diagnose --format json output of the samples and fixtures validates against the schema', async () => {
  const schema = JSON.parse(schemaText) as { $id: string };
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  const whole = ajv.compile(schema);
  // `run` prints a RunSummary, `diagnose` a DiagnosisReport: each is held to its own definition too, so
  // a failure names the member at fault rather than the anyOf.
  const own = { run: ajv.getSchema(`${schema.$id}#/$defs/RunSummary`)!, diagnose: ajv.getSchema(`${schema.$id}#/$defs/DiagnosisReport`)! };
  const samples = npzFiles(join(ROOT, 'samples'));
  const jobs: string[][] = [...samples, ...npzFiles(join(ROOT, 'test', 'fixtures'))].map((f) => ['run', join(ROOT, f)]);
  for (const f of samples) jobs.push(['diagnose', join(ROOT, f)]);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'diagnose', 'manifest.json'), 'utf8')) as { candidates: { base: string; file: string }[] };
  for (const c of manifest.candidates) jobs.push(['diagnose', join(ROOT, 'test/fixtures/diagnose', c.base), '--candidate', join(ROOT, 'test/fixtures/diagnose', c.file)]);
  const invalid: string[] = [];
  let documents = 0;
  for (const args of jobs) {
    const { doc } = await json(args);
    if (doc === undefined) continue; // an input error before any result: nothing on stdout
    documents++;
    const validate = own[args[0] as 'run' | 'diagnose'];
    if (!validate(doc) || !whole(doc)) invalid.push(`${args.map((a) => relative(ROOT, a) || a).join(' ')}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
  assert.ok(documents > 300, `only ${documents} JSON documents`);
  assert.deepEqual(invalid, []);
});
