// `npm run docs`: rewrites every console block of README.md and docs/*.md from fresh runs of its
// commands (test/docs/blocks.ts says how they are run). Review the diff before committing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { closeFastEngine } from '../../src/engine/fast.js';
import { consoleBlocks, docFiles, regenerate } from './blocks.js';

for (const file of docFiles()) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  let out = '';
  let at = 0;
  let changed = 0;
  for (const b of consoleBlocks(file, text)) {
    const fresh = await regenerate(b.body);
    if (fresh !== b.body) changed++;
    out += text.slice(at, b.start) + fresh;
    at = b.end;
  }
  out += text.slice(at);
  if (out !== text) writeFileSync(join(ROOT, file), out);
  process.stdout.write(`${file}: ${consoleBlocks(file, text).length} block(s), ${changed} rewritten\n`);
}
await closeFastEngine();
