// Compiles wasm/compare.wat (compare's element passes) and wasm/gemm.wat to WebAssembly with wabt (a
// devDependency: pure JS/wasm, works offline), each twice: compare.wasm with SIMD and
// compare-plain.wasm without (its SIMD blocks dropped); gemm.wasm with baseline SIMD (a multiply-add
// is f32x4.mul + f32x4.add) and gemm-fma.wasm with relaxed SIMD's f32x4.relaxed_madd, a fused
// multiply-add where the CPU has one. Both .wat files are templates expanded here (gemm.wat's
// `(TILE R)`, `(MADD $x $w $s)` and KB_BYTES; compare.wat's, listed at its head). Every binary is
// copied next to their compiled loader in dist/wasm/ (src/wasm/load.ts) so a packed dist/ finds them. Run by
// `npm run build` before tsc.
// The binaries are never committed: the .wat is the source.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * float32 terms summed before a block is widened into the float64 sums (see gemm.wat). 64, not 32:
 * fewer widenings make the large products faster, and the fast engine stays well inside the 1e-6
 * of the reference the engine tests hold it to. 128 is faster still but comes too near that bound
 * (the 400-step test included). Figures in bench/README.md.
 */
export const KB = 64;

const MADD = /\(MADD \$(\w+) \$(\w+) \$(\w+)\)/g;

/** Steps of k per trip round a tile's inner loop (GRU_CHECK_UNROLL overrides it, for measuring). */
export const UNROLL = Number(process.env.GRU_CHECK_UNROLL ?? 4);

/**
 * gemm.wat's `(TILE R)`: the function $tileR, R rows of A (R = 4: packed, pack4; R = 1: one row of A
 * in place) against one panel of 8 columns. Each output column of each row is one float32 chain of
 * multiply-adds over a block of KB consecutive k, then widened and added into its float64 C entry:
 * the same order for every row whatever R, so which tile computes a row never changes its result.
 *
 * Written for what V8's optimizing compiler does with it (read from its x64 code, --perf-prof):
 *   - it emits a loop body's memory loads, in order, before the arithmetic that uses them, so the
 *     loaded values are all live at once: 2 weight vectors and 4 broadcast rows per step of k fit
 *     the registers next to 8 accumulators, two steps' worth do not (it spills). $tile4 therefore
 *     loads the four rows' values at one k as one vector and broadcasts each with a shuffle
 *     (vpshufd, not a load), which V8 places next to its multiply-adds: 3 loads per step, not 6;
 *   - a trip round the loop does `unroll` steps of k, the pointers moving once per trip, with an exit
 *     after each step but the last (a KB block may end anywhere). The exits are what keep the next
 *     step's loads below this step's multiply-adds, whose results are live on them. 1 step per trip
 *     pays a stack check, two zero-extending moves and two pointer adds per two steps (V8 unrolls
 *     by two itself); 4 steps per trip with the shuffles take fewer cycles per step of $tile4.
 */
export function tile(R, unroll = UNROLL) {
  const L = (n) => `(local.get $${n})`;
  const rows = [...Array(R).keys()];
  const zero = '(v128.const i64x2 0 0)';
  const shuffled = R === 4;
  // row r's value broadcast to the four lanes: bytes 4r..4r+3 of $a, four times
  const lane = (r) => Array(4).fill([0, 1, 2, 3].map((b) => 4 * r + b).join(' ')).join(' ');
  const step = (u) => [
    `(local.set $w0 (v128.load offset=${32 * u} ${L('p')}))`,
    `(local.set $w1 (v128.load offset=${32 * u + 16} ${L('p')}))`,
    ...(shuffled ? [`(local.set $a (v128.load offset=${16 * u} ${L('ap')}))`] : []),
    ...rows.flatMap((r) => [
      shuffled
        ? `(local.set $x (i8x16.shuffle ${lane(r)} ${L('a')} ${L('a')}))`
        : `(local.set $x (v128.load32_splat offset=${4 * (u * R + r)} ${L('ap')}))`,
      `(local.set $s${r}0 (MADD $x $w0 $s${r}0))`,
      `(local.set $s${r}1 (MADD $x $w1 $s${r}1))`,
    ]),
  ];
  const advance = (u) => [
    `(local.set $ap (i32.add ${L('ap')} (i32.const ${4 * R * u})))`,
    `(local.set $p (i32.add ${L('p')} (i32.const ${32 * u})))`,
  ];
  const half = (s, hi) => hi
    ? `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${L(s)} ${L(s)}))`
    : `(f64x2.promote_low_f32x4 ${L(s)})`;
  const flush = rows.flatMap((r) => [0, 1].flatMap((j) => [0, 1].map((hi) => {
    const o = 32 * j + 16 * hi;
    return `(v128.store offset=${o} ${L(`c${r}`)} (f64x2.add (v128.load offset=${o} ${L(`c${r}`)}) ${half(`s${r}${j}`, hi)}))`;
  })));
  const mids = [...Array(unroll - 1).keys()];
  // The k loop of one block, p < bend on entry. Leaving after step u of a trip (block $midU), the
  // pointers still move by the u + 1 steps done; $bendV = bend - 32·V ends the block after step V - 1.
  const inner = [
    ...mids.map((u) => `(local.set $bend${u + 1} (i32.sub ${L('bend')} (i32.const ${32 * (u + 1)})))`),
    '(block $kdone',
    ...mids.map((u) => `(block $mid${u}`),
    '(loop $kk',
    ...[...Array(unroll).keys()].flatMap((u) => [
      ...step(u),
      ...(u < unroll - 1 ? [`(br_if $mid${u} (i32.ge_u ${L('p')} ${L(`bend${u + 1}`)}))`] : []),
    ]),
    ...advance(unroll),
    `(br_if $kk (i32.lt_u ${L('p')} ${L('bend')})))`,
    '(br $kdone))',
    ...mids.reverse().map((u) => [...advance(u + 1), '(br $kdone))'].join(' ')),
  ];
  return [
    `(func $tile${R} (param $ap i32) (param $k i32) (param $p i32) (param $c0 i32) (param $ldcb i32) (param $accum i32)`,
    ...rows.slice(1).map((r) => `(local $c${r} i32)`),
    '(local $end i32) (local $bend i32) (local $w0 v128) (local $w1 v128) (local $x v128) (local $a v128)',
    ...mids.map((u) => `(local $bend${u + 1} i32)`),
    ...rows.map((r) => `(local $s${r}0 v128) (local $s${r}1 v128)`),
    ...rows.slice(1).map((r) => `(local.set $c${r} (i32.add ${L(`c${r - 1}`)} ${L('ldcb')}))`),
    `(if (i32.eqz ${L('accum')}) (then`,
    ...rows.flatMap((r) => [0, 16, 32, 48].map((o) => `(v128.store offset=${o} ${L(`c${r}`)} ${zero})`)),
    '))',
    `(local.set $end (i32.add ${L('p')} (i32.shl ${L('k')} (i32.const 5))))`,
    '(block $done (loop $blocks',
    `(br_if $done (i32.ge_u ${L('p')} ${L('end')}))`,
    // KB steps of k per float32 block (KB * 32 bytes of panel)
    `(local.set $bend (select ${L('end')} (i32.add ${L('p')} (i32.const KB_BYTES)) (i32.lt_u (i32.sub ${L('end')} ${L('p')}) (i32.const KB_BYTES))))`,
    ...rows.flatMap((r) => [0, 1].map((j) => `(local.set $s${r}${j} ${zero})`)),
    ...inner,
    ...flush,
    '(br $blocks))))',
  ].join('\n    ');
}

export function expand(text, fma, kb = KB) {
  const madd = fma
    ? (_, x, w, s) => `(f32x4.relaxed_madd (local.get $${x}) (local.get $${w}) (local.get $${s}))`
    : (_, x, w, s) => `(f32x4.add (local.get $${s}) (f32x4.mul (local.get $${x}) (local.get $${w})))`;
  return constantTable(inlineExp(text.replace(/\(TILE (\d+)\)/g, (_, r) => tile(Number(r)))
    .replace(MADD, madd).replaceAll('KB_BYTES', String(32 * kb))));
}

/** The index just past the parenthesis that closes the one at `open`. */
function closing(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i + 1;
  }
  throw new Error('gemm.wat: unbalanced parentheses');
}

/**
 * gemm.wat's $exp written in place of each (call $exp x): a block that sets the renamed parameter
 * and ends with the function's result; the callers declare the renamed locals where they say
 * (EXP_LOCALS), and the function itself is dropped.
 */
function inlineExp(text) {
  const head = '(func $exp (param $x v128) (result v128)';
  const at = text.indexOf(head);
  if (at < 0) throw new Error('gemm.wat: no $exp to inline');
  const end = closing(text, at);
  const fn = text.slice(at + head.length, end - 1);
  const names = [...fn.matchAll(/\(local \$(\w+) v128\)/g)].map((m) => m[1]);
  const rename = (s) => s.replace(/\$(\w+)/g, (m, n) => (n === 'x' || names.includes(n) ? `$exp_${n}` : m));
  const body = rename(fn.replace(/\(local \$\w+ v128\)/g, ''));
  let out = text.slice(0, at) + text.slice(end);
  for (let i = out.indexOf('(call $exp '); i >= 0; i = out.indexOf('(call $exp ')) {
    const close = closing(out, i);
    const arg = out.slice(i + '(call $exp '.length, close - 1);
    out = `${out.slice(0, i)}(block (result v128) (local.set $exp_x ${arg}) ${body})${out.slice(close)}`;
  }
  const locals = ['x', ...names].map((n) => `(local $exp_${n} v128)`).join(' ');
  return out.replaceAll('(EXP_LOCALS)', locals);
}

/** A wat float literal (decimal, or hexadecimal as 0x1.8p52) as a number. */
export function watFloat(lit) {
  const hex = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(lit);
  if (!hex) return Number(lit);
  const [, sign, int, frac = '', exp] = hex;
  // Exact: at most 13 fraction digits (52 bits) in the literals used here.
  const m = Number.parseInt(int || '0', 16) + (frac ? Number.parseInt(frac, 16) / 16 ** frac.length : 0);
  return (sign === '-' ? -1 : 1) * m * 2 ** Number(exp);
}

const SPLAT = /\((f64x2|i64x2)\.splat \((f64|i64)\.const ([^)\s]+)\)\)/g;

/**
 * gemm.wat's splat constants moved to a table at the start of memory (see CONSTANTS there): each
 * distinct one gets 16 bytes, a data segment holds them, and every use becomes a v128.load from
 * its slot. heap_base, exported, is where allocation may start.
 */
function constantTable(text) {
  const slots = new Map();
  const out = text.replace(SPLAT, (_, shape, type, lit) => {
    const key = `${type} ${lit}`;
    if (!slots.has(key)) slots.set(key, { type, lit, at: 16 * slots.size });
    return `(v128.load offset=${slots.get(key).at} (i32.const 0))`;
  });
  const bytes = new DataView(new ArrayBuffer(16 * slots.size));
  for (const { type, lit, at } of slots.values()) {
    for (const lane of [0, 8]) {
      if (type === 'f64') bytes.setFloat64(at + lane, watFloat(lit), true);
      else bytes.setBigInt64(at + lane, BigInt(lit), true);
    }
  }
  const data = [...new Uint8Array(bytes.buffer)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  const heapBase = Math.ceil(bytes.byteLength / 64) * 64 + 64;
  const marker = '  ;; CONSTANTS:';
  if (!out.includes(marker)) throw new Error('gemm.wat: no CONSTANTS marker for the constant table');
  return out.replace(marker, `  (data (i32.const 0) "${data}")\n  (global (export "heap_base") i32 (i32.const ${heapBase}))\n${marker}`);
}

const TYPED = /;; ---- typed ----\n([\s\S]*);; ---- end typed ----\n/;

/** Element i at byte address p of a float32 ('f') or float64 ('d') array, as a float64. */
const load = (kind, p, i) => kind === 'f'
  ? `(f64.promote_f32 (f32.load (i32.add (local.get $${p}) (i32.shl (local.get $${i}) (i32.const 2)))))`
  : `(f64.load (i32.add (local.get $${p}) (i32.shl (local.get $${i}) (i32.const 3))))`;

/** Elements i and i + 1 at byte address p of a float32 ('f') or float64 ('d') array, as an f64x2. */
const load2 = (kind, p, i) => kind === 'f'
  ? `(f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $${p}) (i32.shl (local.get $${i}) (i32.const 2)))))`
  : `(v128.load (i32.add (local.get $${p}) (i32.shl (local.get $${i}) (i32.const 3))))`;

/** compare.wat's SIMD blocks, between these marks: dropped for the build without SIMD. */
const PAIR = /[ \t]*;; ---- pair ----\n[\s\S]*?;; ---- end pair ----\n/g;

/** gather's plan entry: lo0 hi0 lo1 hi1 (f64), buf0 buf1, fill0 fill1 (i32). */
const plan = (k, p) => `(if (local.get $${p}) (then ` +
  ['lo0', 'hi0', 'lo1', 'hi1'].map((f, j) => `(local.set $${k}_${f} (f64.load offset=${8 * j} (local.get $${p})))`).join(' ') + ' ' +
  ['b0', 'b1', 'f0', 'f1'].map((f, j) => `(local.set $${k}_${f} (i32.load offset=${32 + 4 * j} (local.get $${p})))`).join(' ') +
  `) (else (local.set $${k}_lo0 (f64.const inf)) (local.set $${k}_hi0 (f64.const -inf)) (local.set $${k}_lo1 (f64.const inf)) (local.set $${k}_hi1 (f64.const -inf))))`;
const unplan = (k, p) => `(if (local.get $${p}) (then (i32.store offset=40 (local.get $${p}) (local.get $${k}_f0)) (i32.store offset=44 (local.get $${p}) (local.get $${k}_f1))))`;
const offerTo = (k, x, r) => `(then (f64.store (i32.add (local.get $${k}_b${r}) (i32.shl (local.get $${k}_f${r}) (i32.const 3))) (local.get $${x})) (local.set $${k}_f${r} (i32.add (local.get $${k}_f${r}) (i32.const 1))))`;
const inRange = (k, x, r) => `(i32.and (f64.ge (local.get $${x}) (local.get $${k}_lo${r})) (f64.lt (local.get $${x}) (local.get $${k}_hi${r})))`;
const offer = (k, x) => `(if ${inRange(k, x, 0)} ${offerTo(k, x, 0)} (else (if ${inRange(k, x, 1)} ${offerTo(k, x, 1)})))`;

/** scan's keep entry: table, buf, fill (i32). */
const KEEP_FIELDS = ['t', 'b', 'f'];
const keepLoad = (k, p) => `(if (local.get $${p}) (then ` +
  KEEP_FIELDS.map((f, j) => `(local.set $${k}_${f} (i32.load offset=${4 * j} (local.get $${p})))`).join(' ') + '))';
const keepStore = (k, p) => `(if (local.get $${p}) (then (i32.store offset=8 (local.get $${p}) (local.get $${k}_f))))`;
/**
 * x into the keep buffer when its bucket ($bk) is marked, with no branch on the mark: the marks of
 * neighbouring values are as good as random, and a branch on them mispredicts. x goes to the
 * buffer's next free slot either way and the fill moves on only for a marked one, so a value not
 * kept is overwritten by the next one kept or lies past the fill. One buffer for both ranges a
 * sample names (the median's and the quantile's): two, each with its own fill and a cap tested at
 * every value, hold 14 values in the loop where this holds 6, and the scan spills them.
 */
const keep = (k, x) => `(if (local.get $${k}_t) (then ` +
  `(f64.store (i32.add (local.get $${k}_b) (i32.shl (local.get $${k}_f) (i32.const 3))) (local.get $${x})) ` +
  `(local.set $${k}_f (i32.add (local.get $${k}_f) (i32.load8_u (i32.add (local.get $${k}_t) (local.get $bk)))))))`;

/**
 * compare.wat's templates (see its head): the typed functions written out for each pair of element
 * types, then the macros expanded.
 */
export function expandCompare(text, simd = true) {
  if (!simd) text = text.replace(PAIR, '');
  const typed = text.match(TYPED)[1];
  const kinds = ['ff', 'fd', 'df', 'dd'];
  text = text.replace(TYPED, kinds.map((ae) => typed.replaceAll('_AE"', `_${ae}"`)
    .replace(/\(LOADA \$(\w+) \$(\w+)\)/g, (_, p, i) => load(ae[0], p, i))
    .replace(/\(LOADE \$(\w+) \$(\w+)\)/g, (_, p, i) => load(ae[1], p, i))
    .replace(/\(LOADA2 \$(\w+) \$(\w+)\)/g, (_, p, i) => load2(ae[0], p, i))
    .replace(/\(LOADE2 \$(\w+) \$(\w+)\)/g, (_, p, i) => load2(ae[1], p, i))).join(''));
  return text
    .replace(/\(COUNT \$(\w+) \$(\w+)\)/g, (_, h, x) =>
      `(local.set $bk (i32.and (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $${x})) (local.get $shift))) (local.get $mask))) ` +
      `(local.set $at (i32.add (local.get $${h}) (i32.shl (local.get $bk) (i32.const 2)))) ` +
      '(i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))')
    .replace(/\(KEEPLOAD (\w) \$(\w+)\)/g, (_, k, p) => keepLoad(k, p))
    .replace(/\(KEEPSTORE (\w) \$(\w+)\)/g, (_, k, p) => keepStore(k, p))
    .replace(/\(KEEP (\w) \$(\w+)\)/g, (_, k, x) => keep(k, x))
    .replace(/\(PLAN (\w) \$(\w+)\)/g, (_, k, p) => plan(k, p))
    .replace(/\(UNPLAN (\w) \$(\w+)\)/g, (_, k, p) => unplan(k, p))
    .replace(/\(OFFER (\w) \$(\w+)\)/g, (_, k, x) => offer(k, x));
}

export async function buildWasm(kb = KB) {
  const wabt = await (await import('wabt')).default();
  const src = join(here, 'gemm.wat');
  const text = readFileSync(src, 'utf8');
  const cmpSrc = join(here, 'compare.wat');
  const cmp = readFileSync(cmpSrc, 'utf8');
  const out = [];
  const builds = [
    ['compare.wasm', cmpSrc, expandCompare(cmp), { simd: true }],
    ['compare-plain.wasm', cmpSrc, expandCompare(cmp, false), {}],
    ...[['gemm.wasm', false], ['gemm-fma.wasm', true]].map(([name, fma]) => [name, src, expand(text, fma, kb), { simd: true, relaxed_simd: fma }]),
  ];
  for (const [name, path, source, features] of builds) {
    const mod = wabt.parseWat(path, source, features);
    try {
      mod.validate();
      const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
      for (const file of [join(here, name), join(here, '..', 'dist', 'wasm', name)]) {
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
