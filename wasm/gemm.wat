;; f32x4 SIMD matrix product for the fast GRU engine (src/engine/wasm.ts loads it).
;;
;;   C[m, 8*np] (= or +=) A[m, k] · P        A, P float32; C float64
;;
;; A is row-major f32 with a row stride of lda elements (the layer input rows, or the hidden
;; states). P is a weight matrix W (N x k, PyTorch's row-major (3H, I) layout) transposed and packed
;; into np "panels" of 8 output columns: panel j holds P[j][kk][c] = W[8j + c][kk] as k rows of 8
;; contiguous floats, zero-padded past N, and panels sit ps bytes apart. C is row-major f64 with a
;; row stride of ldc elements; the padding is why ldc must be a multiple of 8 (the caller pads).
;; All addresses are byte offsets. `accum` != 0 adds to C instead of overwriting it, which lets the
;; caller split k into cache-sized blocks.
;;
;; Why this shape: a panel of 8 columns by k (32*k bytes) stays in L1 while every row of A streams
;; past it, and the 4x8 register tile (8 f32x4 accumulators, 2 weight vectors, 1 broadcast) fits the
;; 16 SIMD registers V8 has on x64. Rows come packed four at a time (pack4) so one pointer walks them.
;;
;; This file is a template that wasm/build.mjs expands twice: `(MADD $x $w $s)` becomes s + x·w as
;; f32x4.mul then f32x4.add (baseline SIMD: gemm.wasm) or as one f32x4.relaxed_madd (relaxed SIMD,
;; a fused multiply-add on x64 with FMA: gemm-fma.wasm, used when the runtime validates it).
;;
;; Accuracy: float32 sums lose about sqrt(k/4) roundings on a long dot product, which over
;; thousands of recurrent steps drifted past 1e-6 from the double-accumulating reference. So the
;; float32 accumulators only ever hold KB consecutive k (KB_BYTES = 32·KB bytes of panel, set by
;; build.mjs), then are widened and added into C in float64: the long sum is a double sum, as in
;; the reference.
(module
  (memory (export "memory") 1)
  ;; CONSTANTS: build.mjs puts every f64x2.splat / i64x2.splat of a constant in
  ;; this file in a table at the start of memory, here, and loads it from there: V8 (Node 20)
  ;; rebuilds a splat constant with three instructions at each use, which bloats $exp's code.
  ;; It also exports heap_base, the first byte past the table, where allocation starts.

  ;; The register tiles, written out by wasm/build.mjs (tile() there, which says how they are built):
  ;;   (func $tileR (param $ap i32) (param $k i32) (param $p i32) (param $c0 i32) (param $ldcb i32) (param $accum i32))
  ;; R rows of A against one panel: C rows c0, c0 + ldcb, ... (f64, 64 bytes each) = or += those
  ;; rows · panel. $tile4's four rows come packed (pack4 below): ap holds, for each k, the four rows'
  ;; values side by side, so one pointer walks them with constant offsets, where a pointer per row
  ;; would spend a large share of the tile's instructions advancing them. $tile1 reads one row of A
  ;; in place. Both sum each row in the same order (one float32 chain per column over a KB block,
  ;; then into float64), so a row's result does not depend on which tile computed it — results are
  ;; the same whatever the batch split across threads.
  (TILE 4)
  (TILE 1)

  ;; pack_panels(w, row0, n, k, dst): rows [row0, row0 + n) of W (row-major f32, k columns) into
  ;; panels of 8 output columns: dst[(j*k + kk)*8 + c] = W[row0 + 8j + c][kk], zero past n (see the
  ;; top of the file). In wasm rather than JS because it runs once per layer, direction and thread,
  ;; in code a fresh worker has not optimized yet.
  (func (export "pack_panels") (param $w i32) (param $row0 i32) (param $n i32) (param $k i32) (param $dst i32)
    (local $j i32) (local $c i32) (local $kk i32) (local $row i32) (local $src i32) (local $out i32) (local $np i32)
    (local.set $np (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    (block $panels_done
      (loop $panels
        (br_if $panels_done (i32.ge_s (local.get $j) (local.get $np)))
        (local.set $c (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_s (local.get $c) (i32.const 8)))
            (local.set $row (i32.add (i32.shl (local.get $j) (i32.const 3)) (local.get $c)))
            ;; out walks column c of panel j: 32 bytes per kk
            (local.set $out (i32.add (local.get $dst)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $j) (local.get $k)) (i32.const 8)) (local.get $c)) (i32.const 2))))
            ;; rows past n are padding: zeros, and W is not read there
            (local.set $src (select
              (i32.add (local.get $w) (i32.shl (i32.mul (i32.add (local.get $row0) (local.get $row)) (local.get $k)) (i32.const 2)))
              (i32.const -1)
              (i32.lt_s (local.get $row) (local.get $n))))
            (local.set $kk (i32.const 0))
            (block $k_done
              (loop $ks
                (br_if $k_done (i32.ge_s (local.get $kk) (local.get $k)))
                (if (i32.eq (local.get $src) (i32.const -1))
                  (then (f32.store (local.get $out) (f32.const 0)))
                  (else
                    (f32.store (local.get $out) (f32.load (local.get $src)))
                    (local.set $src (i32.add (local.get $src) (i32.const 4)))))
                (local.set $out (i32.add (local.get $out) (i32.const 32)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $ks)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cols)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $panels))))

  ;; pack4(a, lda, g, k, dst): rows [0, 4g) of A (row-major f32, lda elements per row), k columns,
  ;; into groups of four rows interleaved by column: dst[(grp*k + kk)*4 + r] = A[4grp + r][kk].
  ;; What $tile4 reads; costs B·K moves against the product's B·K·N multiply-adds.
  (func (export "pack4") (param $a i32) (param $lda i32) (param $g i32) (param $k i32) (param $dst i32)
    (local $grp i32) (local $kk i32) (local $r0 i32) (local $ldab i32)
    (local.set $ldab (i32.shl (local.get $lda) (i32.const 2)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_s (local.get $grp) (local.get $g)))
        (local.set $r0 (i32.add (local.get $a) (i32.mul (i32.shl (local.get $grp) (i32.const 2)) (local.get $ldab))))
        (local.set $kk (i32.const 0))
        (block $cols
          (loop $col
            (br_if $cols (i32.ge_s (local.get $kk) (local.get $k)))
            (f32.store offset=0 (local.get $dst) (f32.load (local.get $r0)))
            (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $r0) (local.get $ldab))))
            (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $r0) (i32.shl (local.get $ldab) (i32.const 1)))))
            (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $r0) (i32.mul (local.get $ldab) (i32.const 3)))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $col)))
        (local.set $grp (i32.add (local.get $grp) (i32.const 1)))
        (br $groups))))

  ;; gemm(a, lda, ap, gs, m, k, p, ps, np, c, ldc, accum): see the top of the file. Rows in groups
  ;; of four come from the packed copy ap (pack4; gs bytes between groups, as packed over the full
  ;; K: a block of k starts inside each group), the last m % 4 rows from A itself.
  (func (export "gemm") (param $a i32) (param $lda i32) (param $ap i32) (param $gs i32) (param $m i32) (param $k i32)
        (param $p i32) (param $ps i32) (param $np i32) (param $c i32) (param $ldc i32) (param $accum i32)
    (local $j i32) (local $i i32) (local $ldab i32) (local $ldcb i32)
    (local $ar i32) (local $apr i32) (local $cr i32) (local $pp i32) (local $m4 i32)
    (local.set $ldab (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 3)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $pp (local.get $p))
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $j) (local.get $np)))
        (local.set $apr (local.get $ap))
        (local.set $cr (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 6))))
        (local.set $i (i32.const 0))
        (block $rows4done
          (loop $rows4
            (br_if $rows4done (i32.ge_s (local.get $i) (local.get $m4)))
            (call $tile4 (local.get $apr) (local.get $k) (local.get $pp)
                         (local.get $cr) (local.get $ldcb) (local.get $accum))
            (local.set $apr (i32.add (local.get $apr) (local.get $gs)))
            (local.set $cr (i32.add (local.get $cr) (i32.shl (local.get $ldcb) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $rows4)))
        (local.set $ar (i32.add (local.get $a) (i32.mul (local.get $m4) (local.get $ldab))))
        (block $rows1done
          (loop $rows1
            (br_if $rows1done (i32.ge_s (local.get $i) (local.get $m)))
            (call $tile1 (local.get $ar) (local.get $k) (local.get $pp) (local.get $cr) (local.get $ldcb) (local.get $accum))
            (local.set $ar (i32.add (local.get $ar) (local.get $ldab)))
            (local.set $cr (i32.add (local.get $cr) (local.get $ldcb)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows1)))
        (local.set $pp (i32.add (local.get $pp) (local.get $ps)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $panels))))

  ;; ---- GRU gates, in float64 ---------------------------------------------------------------------
  ;; The products above feed these: every sum, the nonlinearities and the state update are in
  ;; double, as in src/gru/cell.ts. exp is computed here rather than by Math.exp because in JS the
  ;; gate loop takes a large share of the run time: range reduction x = k·ln2 + r, |r| <= ln2/2 (ln2 split in
  ;; fdlibm's hi/lo parts), then the degree-13 Taylor polynomial (truncation < 1e-17 relative),
  ;; evaluated by Estrin's scheme because Horner's 13-long dependency chain made it latency-bound,
  ;; and 2^k built in the exponent bits. tanh(x) = 1 - 2/(e^(2x) + 1) and σ(x) = 1/(1 + e^(-x)).
  ;; test/engine/wasm.ts checks exp against Math.exp (within 1 ulp) and the gates against the
  ;; JS formulas. The passes run over a whole row with independent iterations, so the CPU overlaps
  ;; the exp latency of neighbouring pairs. $exp is a template: build.mjs writes its body in place
  ;; of every call of it, its locals renamed and declared where the caller says EXP_LOCALS, and
  ;; drops the function; V8 (Node 20) does not inline wasm calls itself.
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $kd v128) (local $r v128) (local $r2 v128) (local $r4 v128) (local $p v128)
    ;; e^709 is near the largest finite power; below -708 the result underflows to ~0 anyway.
    ;; pmin/pmax (b < a ? b : a, a < b ? b : a) are one instruction each on x64 where min/max take
    ;; seven (NaN and -0 rules); a NaN still passes through them.
    (local.set $x (f64x2.pmax (f64x2.pmin (local.get $x) (f64x2.splat (f64.const 709))) (f64x2.splat (f64.const -708))))
    ;; k = round(x / ln2) by the 1.5·2^52 shifter: its low mantissa bits then hold k as an integer,
    ;; which shifted into the exponent field gives 2^k (the shifter's own bits shift out).
    (local.set $kd (f64x2.add (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634))) (f64x2.splat (f64.const 0x1.8p52))))
    (local.set $k (f64x2.sub (local.get $kd) (f64x2.splat (f64.const 0x1.8p52))))
    (local.set $r (f64x2.sub (f64x2.sub (local.get $x)
        (f64x2.mul (local.get $k) (f64x2.splat (f64.const 0x1.62e42fee00000p-1))))
        (f64x2.mul (local.get $k) (f64x2.splat (f64.const 0x1.a39ef35793c76p-33)))))
    (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
    (local.set $p (f64x2.add
      (f64x2.add
        (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0)) (f64x2.mul (f64x2.splat (f64.const 1.0)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $r))) (local.get $r2)))
        (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.041666666666666664)) (f64x2.mul (f64x2.splat (f64.const 0.008333333333333333)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.001388888888888889)) (f64x2.mul (f64x2.splat (f64.const 0.0001984126984126984)) (local.get $r))) (local.get $r2))) (local.get $r4)))
      (f64x2.mul
        (f64x2.add
          (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-06)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-08)) (local.get $r))) (local.get $r2)))
          (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.08767569878681e-09)) (f64x2.mul (f64x2.splat (f64.const 1.6059043836821613e-10)) (local.get $r))) (local.get $r4)))
        (f64x2.mul (local.get $r4) (local.get $r4)))))
    (f64x2.mul (local.get $p)
      (i64x2.shl (i64x2.add (local.get $kd) (i64x2.splat (i64.const 1023))) (i32.const 52))))

  ;; dst[j] = σ(gi[j] + bi[j] + (gh[j] + bh[j])) for j < n, all f64; writes dst up to n rounded up
  ;; to even (dst is scratch with room for it). The r and z blocks are contiguous in gi, gh and the
  ;; biases, so one call does both gates.
  (func (export "sigmoid_pass") (param $gi i32) (param $gh i32) (param $bi i32) (param $bh i32)
        (param $dst i32) (param $n i32)
    (local $o i32) (local $end i32) (EXP_LOCALS)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $o) (local.get $end)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f64x2.div (f64x2.splat (f64.const 1))
            (f64x2.add (f64x2.splat (f64.const 1))
              (call $exp (f64x2.neg (f64x2.add
                (f64x2.add (v128.load (i32.add (local.get $gi) (local.get $o))) (v128.load (i32.add (local.get $bi) (local.get $o))))
                (f64x2.add (v128.load (i32.add (local.get $gh) (local.get $o))) (v128.load (i32.add (local.get $bh) (local.get $o))))))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $pairs))))

  ;; The state update for n hidden units, h (f32) in place:
  ;;   lbr != 0 (PyTorch):  n = tanh(gi_n + b_in + r·(gh_n + b_hn))
  ;;   lbr == 0 (ONNX):     n = tanh(gi_n + b_in + (gh_n + b_hn))   (gh_n was computed from r ⊙ h)
  ;;   h' = (1 - z)·n + z·h, rounded to float32 by the store; only valid lanes are stored.
  ;; gi, gh, bi, bh point at the n-gate blocks; r and z at f64 gate values from sigmoid_pass.
  (func (export "update_pass") (param $gi i32) (param $gh i32) (param $bi i32) (param $bh i32)
        (param $r i32) (param $z i32) (param $h i32) (param $n i32) (param $lbr i32)
    (local $j i32) (local $o i32) (local $q i32) (local $gn v128) (local $z2 v128) (local $e v128) (local $c v128) (local $hv v128) (EXP_LOCALS)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $o (i32.shl (local.get $j) (i32.const 3)))
        (local.set $q (i32.shl (local.get $j) (i32.const 2)))
        (local.set $gn (f64x2.add (v128.load (i32.add (local.get $gh) (local.get $o))) (v128.load (i32.add (local.get $bh) (local.get $o)))))
        (if (local.get $lbr)
          (then (local.set $gn (f64x2.mul (v128.load (i32.add (local.get $r) (local.get $o))) (local.get $gn)))))
        (local.set $gn (f64x2.add
          (f64x2.add (v128.load (i32.add (local.get $gi) (local.get $o))) (v128.load (i32.add (local.get $bi) (local.get $o))))
          (local.get $gn)))
        (local.set $e (call $exp (f64x2.add (local.get $gn) (local.get $gn))))
        (local.set $c (f64x2.sub (f64x2.splat (f64.const 1))
          (f64x2.div (f64x2.splat (f64.const 2)) (f64x2.add (local.get $e) (f64x2.splat (f64.const 1))))))
        (local.set $z2 (v128.load (i32.add (local.get $z) (local.get $o))))
        (local.set $hv (f32x4.demote_f64x2_zero (f64x2.add
          (f64x2.mul (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $z2)) (local.get $c))
          (f64x2.mul (local.get $z2)
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $h) (local.get $q))))))))
        (if (i32.lt_s (i32.add (local.get $j) (i32.const 1)) (local.get $n))
          (then (v128.store64_lane 0 (i32.add (local.get $h) (local.get $q)) (local.get $hv)))
          (else (v128.store32_lane 0 (i32.add (local.get $h) (local.get $q)) (local.get $hv))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs))))

  ;; rh = f32(r · h) for n units (r f64, h and rh f32): the ONNX placement's product operand.
  (func (export "reset_pass") (param $r i32) (param $h i32) (param $rh i32) (param $n i32)
    (local $j i32) (local $q i32) (local $v v128)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $q (i32.shl (local.get $j) (i32.const 2)))
        (local.set $v (f32x4.demote_f64x2_zero (f64x2.mul
          (v128.load (i32.add (local.get $r) (i32.shl (local.get $j) (i32.const 3))))
          (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $h) (local.get $q)))))))
        (if (i32.lt_s (i32.add (local.get $j) (i32.const 1)) (local.get $n))
          (then (v128.store64_lane 0 (i32.add (local.get $rh) (local.get $q)) (local.get $v)))
          (else (v128.store32_lane 0 (i32.add (local.get $rh) (local.get $q)) (local.get $v))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs))))

  ;; dst[i] = e^src[i] for i < n (n even; f64 arrays): only for tests of $exp against Math.exp.
  (func (export "exp_f64") (param $src i32) (param $dst i32) (param $n i32)
    (local $j i32) (EXP_LOCALS)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3)))
          (call $exp (v128.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs))))
)
