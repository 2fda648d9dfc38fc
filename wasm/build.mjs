// Compiles wasm/gemm.wat to wasm/gemm.wasm with wabt (a devDependency: pure JS/wasm, works
// offline), and copies it next to the compiled engine in dist/engine/ so a packed dist/ finds it
// too. Run by `npm run build` before tsc. The binary is never committed: the .wat is the source.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildWasm() {
  const wabt = await (await import('wabt')).default();
  const src = join(here, 'gemm.wat');
  const mod = wabt.parseWat(src, readFileSync(src, 'utf8'), { simd: true });
  try {
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
    const out = [join(here, 'gemm.wasm'), join(here, '..', 'dist', 'engine', 'gemm.wasm')];
    for (const file of out) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, buffer);
    }
    return out;
  } finally {
    mod.destroy();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildWasm();
  process.stderr.write(`wasm: wrote ${out.join(', ')}\n`);
}
