// Compiles wasm/gemm.wat to WebAssembly with wabt (a devDependency: pure JS/wasm, works offline),
// twice: gemm.wasm with baseline SIMD (a multiply-add is f32x4.mul + f32x4.add) and gemm-fma.wasm
// with relaxed SIMD's f32x4.relaxed_madd, a fused multiply-add where the CPU has one. The .wat is a
// template: `(MADD $x $w $s)` and KB_BYTES are expanded here. Both binaries are copied next to the
// compiled engine in dist/engine/ so a packed dist/ finds them. Run by `npm run build` before tsc.
// The binaries are never committed: the .wat is the source.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** float32 terms summed before a block is widened into the float64 sums (see gemm.wat). */
export const KB = 32;

const MADD = /\(MADD \$(\w+) \$(\w+) \$(\w+)\)/g;

export function expand(text, fma, kb = KB) {
  const madd = fma
    ? (_, x, w, s) => `(f32x4.relaxed_madd (local.get $${x}) (local.get $${w}) (local.get $${s}))`
    : (_, x, w, s) => `(f32x4.add (local.get $${s}) (f32x4.mul (local.get $${x}) (local.get $${w})))`;
  return text.replace(MADD, madd).replaceAll('KB_BYTES', String(32 * kb));
}

export async function buildWasm(kb = KB) {
  const wabt = await (await import('wabt')).default();
  const src = join(here, 'gemm.wat');
  const text = readFileSync(src, 'utf8');
  const out = [];
  for (const [name, fma] of [['gemm.wasm', false], ['gemm-fma.wasm', true]]) {
    const mod = wabt.parseWat(src, expand(text, fma, kb), { simd: true, relaxed_simd: fma });
    try {
      mod.validate();
      const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
      for (const file of [join(here, name), join(here, '..', 'dist', 'engine', name)]) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, buffer);
        out.push(file);
      }
    } finally {
      mod.destroy();
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const kb = process.env.GRU_CHECK_KB ? Number(process.env.GRU_CHECK_KB) : KB;
  const out = await buildWasm(kb);
  process.stderr.write(`wasm: wrote ${out.join(', ')}${kb !== KB ? ` (KB=${kb})` : ''}\n`);
}
