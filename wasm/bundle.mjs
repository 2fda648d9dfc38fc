// Bundles the CLI (dist/cli/entry.js, compiled by tsc) into one CommonJS file,
// dist/engine/cli-bundle.cjs, with esbuild (see src/cli/entry.ts for why one file), then writes
// V8's code cache for it (bin/load-cli.cjs explains the cache) after a warm-up: the CLI run
// in-process on a sample, text and JSON, so every function such a run compiles is in the cache.
// CommonJS because that is what vm.Script, which takes a code cache on Node 20, runs. The sources
// are ES modules: import.meta.url becomes the bundle's own file URL (kernels and the worker are
// found relative to it, as from the unbundled engine); "use strict" keeps their strict mode.
// Run by `npm run build` after tsc.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'dist', 'cli', 'entry.js')],
  outfile: join(root, 'dist', 'engine', 'cli-bundle.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['onnx-proto'],
  define: { 'import.meta.url': '__gruCheckUrl' },
  banner: { js: "'use strict'; var __gruCheckUrl = require('node:url').pathToFileURL(__filename).href;" },
  // The one other use of import.meta, import.meta.resolve in engine/pool.ts, runs only under tsx
  // (tests), never in the bundle.
  logOverride: { 'empty-import-meta': 'silent' },
  logLevel: 'warning',
  plugins: [lazyChildProcess()],
});

/**
 * commander requires node:child_process when it loads, for executable subcommands, which gru-check
 * has none of; loading it (and node:net under it) is a noticeable part of every run's start. In
 * the bundle commander gets an object that requires it on first use instead.
 */
function lazyChildProcess() {
  return {
    name: 'lazy-child-process',
    setup(b) {
      b.onResolve({ filter: /^node:child_process$/ }, (args) =>
        (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
        contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
        loader: 'js',
      }));
    },
  };
}

const sample = join(root, 'samples', 'bidir_2layer.npz');
if (existsSync(sample)) {
  const { loadCli } = createRequire(import.meta.url)('../bin/load-cli.cjs');
  const { cli, writeCache } = loadCli();
  const io = { stdout: () => {}, stderr: () => {}, env: {} };
  for (const extra of [[], ['--format', 'json']]) {
    const code = await cli.main(['run', sample, ...extra], io);
    if (code !== 0) throw new Error(`bundle: the warm-up run on ${sample} exited ${code}`);
  }
  if (!writeCache()) process.stderr.write('bundle: no code cache (zlib.crc32 needs Node >= 20.15)\n');
} else {
  process.stderr.write(`bundle: no code cache (${sample} is missing)\n`);
}
