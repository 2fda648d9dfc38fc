// Bundles the CLI (dist/cli/entry.js, compiled by tsc) into one ES module, dist/engine/cli-bundle.mjs,
// with esbuild (see src/cli/entry.ts for why). The CommonJS dependencies bundled in (commander,
// cli-table3) call require() for Node's built-ins, which an ES module lacks: the banner gives them
// one. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'dist', 'cli', 'entry.js')],
  outfile: join(root, 'dist', 'engine', 'cli-bundle.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['onnx-proto'],
  banner: { js: "import { createRequire as __gruCheckRequire } from 'node:module'; const require = __gruCheckRequire(import.meta.url);" },
  logLevel: 'warning',
});
