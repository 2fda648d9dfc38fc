// The published types (dist/*.d.ts, reached through package.json's exports) type-check in a plain
// TypeScript project: no @types/node, no skipLibCheck. A type from a dependency (chalk) or from
// Node leaking into the public API fails here. The project sets skipDefaultLibCheck, which skips
// only TypeScript's own lib.*.d.ts (a third of the suite's slowest test, with nothing of ours in
// them); every .d.ts of gru-check and its dependencies is still checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

test('the published types type-check in a project without @types/node or skipLibCheck', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'test', 'fixtures', 'types-consumer', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
