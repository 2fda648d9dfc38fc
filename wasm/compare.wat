;; The element passes of compare/isclose.ts: isclose, the error metrics and sums, the top-bits
;; histograms the order statistics are selected from, the per-step and heatmap maxima and the
;; values kept for the select (one pass: `scan`), the radix select's second pass where those fell
;; short (`gather`), the walk over a histogram (`locate`, `octaves`) and the select itself
;; (`select_rank`, and `after_rank` for the rank after a selected one). src/compare/kernel.ts
;; copies each chunk of the two tensors in (float32 as float32, anything else as float64) and reads
;; the results out; the definitions (which elements count where) are documented there and in
;; isclose.ts.
;;
;; Why wasm: compare runs once per check in a fresh CLI process, where JavaScript runs on baseline
;; code until the JIT has seen enough of it, so the same scan in JS costs more than the GRU itself
;; on a mid-sized case's output (figures in bench/README.md). For a case of 256 KiB or more
;; the CLI compiles this module optimized before the run (src/cli/early.ts), so it runs at full
;; speed from the first element. scan takes two common elements at a time with SIMD; the build
;; without SIMD (compare-plain.wasm, the blocks between the "pair" marks dropped) is loaded where
;; the runtime has no wasm SIMD, and the kernel test holds the two to the same results.
;;
;; Values are float64; a chunk's counts are i32, added into the float64 state at its end. The
;; order of every sum is the element order, as in a plain loop over the elements, so results are
;; the same to the last bit.
(module
  (memory (export "memory") 1)

  ;; Templates, expanded by wasm/build.mjs (V8 does not inline wasm calls here):
  ;;   (COUNT $h $x)    h[bucket(x)] += 1 for the i32 histogram at byte address h, where bucket(x) is
  ;;                    the `bits` bits of a non-negative double below the sign (the exponent and
  ;;                    bits − 11 mantissa bits; the sign dropped, so -0 is bucket 0) — the top-bits
  ;;                    buckets compare/stats.ts selects from. Uses the caller's $at, $shift, $mask.
  ;;   (LOADA $p $i), (LOADE $p $i)
  ;;                    element i of a / e as a float64; every function between the "typed" marks is
  ;;                    written out once per pair of element types (suffix ff, fd, df, dd).
  ;;   (KEEPLOAD k $p), (KEEP k $x), (KEEPSTORE k $p)
  ;;                    scan's keep entry p read into locals $k_t, $k_b, $k_f, x kept when its bucket
  ;;                    ($bk, left by the COUNT before it) is marked, and the fill written back.
  ;;   (PLAN k $p), (OFFER k $x), (UNPLAN k $p)
  ;;                    gather's plan entry p read into locals $k_lo0 ... $k_f1 (empty ranges when p
  ;;                    is 0), x tested against its two ranges, and the fills written back.

  ;; locate(h, nb, ranks, k, out): the buckets of k ascending ranks (f64 at `ranks`) in the i32
  ;; histogram h of nb buckets: out gets, per rank, the bucket and the count below it (two f64).
  ;; Returns how many ranks it placed (k unless a rank is past the histogram's total). The walk
  ;; over up to 2^19 buckets is here rather than in JavaScript, where a fresh process runs it on
  ;; the interpreter.
  (func (export "locate") (param $h i32) (param $nb i32) (param $ranks i32) (param $k i32) (param $out i32) (result i32)
    (local $d i32) (local $j i32) (local $below f64) (local $c f64)
    (block $done
      (loop $walk
        (br_if $done (i32.or (i32.ge_u (local.get $d) (local.get $nb)) (i32.ge_u (local.get $j) (local.get $k))))
        (local.set $c (f64.convert_i32_u (i32.load (i32.add (local.get $h) (i32.shl (local.get $d) (i32.const 2))))))
        (block $next
          (loop $here
            (br_if $next (i32.ge_u (local.get $j) (local.get $k)))
            (br_if $next (i32.eqz (f64.lt (f64.load (i32.add (local.get $ranks) (i32.shl (local.get $j) (i32.const 3))))
                                          (f64.add (local.get $below) (local.get $c)))))
            (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 4))) (f64.convert_i32_u (local.get $d)))
            (f64.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 4))) (local.get $below))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $here)))
        (local.set $below (f64.add (local.get $below) (local.get $c)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $walk)))
    (local.get $j))

  ;; octaves(h, nb, sub, out): out[d >> sub] += h[d] for the nb buckets of h (sub: the bucket's
  ;; bits past the 11 exponent bits), into 2048 f64 counts per exponent.
  (func (export "octaves") (param $h i32) (param $nb i32) (param $sub i32) (param $out i32)
    (local $d i32) (local $at i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $d) (local.get $nb)))
        (local.set $at (i32.add (local.get $out) (i32.shl (i32.shr_u (local.get $d) (local.get $sub)) (i32.const 3))))
        (f64.store (local.get $at) (f64.add (f64.load (local.get $at))
          (f64.convert_i32_u (i32.load (i32.add (local.get $h) (i32.shl (local.get $d) (i32.const 2)))))))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $each))))

  ;; select_rank(src, m, rank, t0, t1, hist, level0, prefix): the value of rank `rank` (0-based,
  ;; ascending) among those of the m non-negative finite doubles at src whose top 16·level0 bits are
  ;; `prefix`'s (all of them for level 0), which it leaves as they are: a radix select over the
  ;; bits, 16 at a time from the top (65536 i32 of hist; t0, t1: room for m / 8 + 1 doubles each).
  ;; Starting at level 1 with a value's top-bits bucket as the prefix (compare/kernel.ts knows each
  ;; rank's bucket from the scan's histogram) saves level 0's pass. Each level counts the digits of
  ;; the values that match the prefix so far and finds the rank's digit, which lengthens the prefix;
  ;; after the last level the prefix is the value. The matching values are copied out (to t0 or t1)
  ;; only when they are at most an eighth of those looked at: a copy of most of them cost more than
  ;; the passes it saves, in first touches of new memory in a fresh process (a median's bucket can
  ;; hold most of the values kept around it). Ties — float32 differences are
  ;; multiples of an ulp, so a bucket is often thousands of copies of a few values — end the select
  ;; as soon as every matching value is the same one. The passes have no branch on the data: a value
  ;; that does not match adds 0 to its digit's count, and the copy writes every value and moves on
  ;; past the matching ones (hence the room for one more). Here rather than in compare/stats.ts's
  ;; JavaScript select for the same reason as locate: a fresh process would run that on the
  ;; interpreter, many times slower on a bucket of tied values.
  (func (export "select_rank") (param $src i32) (param $m i32) (param $rank i32) (param $t0 i32) (param $t1 i32) (param $hist i32)
    (param $level0 i32) (param $prefix i64) (result f64)
    (local $cur i32) (local $other i32) (local $level i32) (local $shift i64) (local $mask i64)
    (local $i i32) (local $d i32) (local $below i32) (local $c i32) (local $k i32) (local $x i64) (local $x0 i64)
    (local $neq i32) (local $hit i32) (local $seen i32)
    (local.set $cur (local.get $src))
    (local.set $other (local.get $t0))
    (local.set $level (local.get $level0))
    ;; the top 16·level0 bits: none for level 0 (a shift by 64 would be by 0 in wasm)
    (local.set $mask (select (i64.const 0) (i64.shl (i64.const -1) (i64.extend_i32_u (i32.sub (i32.const 64) (i32.shl (local.get $level0) (i32.const 4)))))
      (i32.eqz (local.get $level0))))
    (block $levels_done
      (loop $levels
        (br_if $levels_done (i32.ge_u (local.get $level) (i32.const 4)))
        (local.set $shift (i64.extend_i32_u (i32.sub (i32.const 48) (i32.shl (local.get $level) (i32.const 4)))))
        ;; clear and count
        (local.set $i (i32.const 0))
        (block $z (loop $zero
          (br_if $z (i32.ge_u (local.get $i) (i32.const 32768)))
          (i64.store (i32.add (local.get $hist) (i32.shl (local.get $i) (i32.const 3))) (i64.const 0))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $zero)))
        (local.set $i (i32.const 0))
        (local.set $neq (i32.const 0))
        (local.set $seen (i32.const 0))
        (block $cd (loop $count
          (br_if $cd (i32.ge_u (local.get $i) (local.get $m)))
          (local.set $x (i64.load (i32.add (local.get $cur) (i32.shl (local.get $i) (i32.const 3)))))
          (local.set $hit (i64.eq (i64.and (local.get $x) (local.get $mask)) (local.get $prefix)))
          (local.set $k (i32.add (local.get $hist)
            (i32.shl (i32.wrap_i64 (i64.and (i64.shr_u (local.get $x) (local.get $shift)) (i64.const 0xffff))) (i32.const 2))))
          (i32.store (local.get $k) (i32.add (i32.load (local.get $k)) (local.get $hit)))
          ;; x0: the first matching value; neq: a later matching one differs from it
          (local.set $neq (i32.or (local.get $neq)
            (i32.and (i32.and (local.get $hit) (local.get $seen)) (i64.ne (local.get $x) (local.get $x0)))))
          (local.set $x0 (select (local.get $x0) (local.get $x) (local.get $seen)))
          (local.set $seen (i32.or (local.get $seen) (local.get $hit)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $count)))
        ;; every matching value is one value (the rank is among them): that is the answer
        (if (i32.eqz (local.get $neq))
          (then (return (f64.reinterpret_i64 (local.get $x0)))))
        ;; the rank's digit
        (local.set $d (i32.const 0))
        (local.set $below (i32.const 0))
        (block $found (loop $walk
          (local.set $c (i32.load (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 2)))))
          (br_if $found (i32.lt_u (local.get $rank) (i32.add (local.get $below) (local.get $c))))
          (local.set $below (i32.add (local.get $below) (local.get $c)))
          (local.set $d (i32.add (local.get $d) (i32.const 1)))
          (br $walk)))
        (local.set $rank (i32.sub (local.get $rank) (local.get $below)))
        (local.set $prefix (i64.or (local.get $prefix) (i64.shl (i64.extend_i32_u (local.get $d)) (local.get $shift))))
        (local.set $mask (i64.or (local.get $mask) (i64.shl (i64.const 0xffff) (local.get $shift))))
        ;; a few matching values left: copy them out (the source is never written)
        (if (i32.le_u (i32.shl (local.get $c) (i32.const 3)) (local.get $m))
          (then
            (local.set $i (i32.const 0))
            (local.set $k (i32.const 0))
            (block $kd (loop $keep
              (br_if $kd (i32.ge_u (local.get $i) (local.get $m)))
              (local.set $x (i64.load (i32.add (local.get $cur) (i32.shl (local.get $i) (i32.const 3)))))
              (i64.store (i32.add (local.get $other) (i32.shl (local.get $k) (i32.const 3))) (local.get $x))
              (local.set $k (i32.add (local.get $k) (i64.eq (i64.and (local.get $x) (local.get $mask)) (local.get $prefix))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $keep)))
            (local.set $m (local.get $c))
            (local.set $cur (local.get $other))
            ;; the next copy goes to whichever scratch buffer is not in use
            (local.set $other (select (local.get $t1) (local.get $t0) (i32.eq (local.get $cur) (local.get $t0))))))
        (local.set $level (i32.add (local.get $level) (i32.const 1)))
        (br $levels)))
    ;; all 64 bits are the prefix now
    (f64.reinterpret_i64 (local.get $prefix)))

  ;; after_rank(src, m, v, r): the value of rank r + 1 among the m float64 at src (non-negative,
  ;; no NaN), given v, the value of rank r: v again when more than r + 1 of them are <= v, else the
  ;; smallest above v. One pass and no writes, where a second select_rank would cost its four
  ;; levels: a median or quantile between two ranks wants both, and they are usually neighbours.
  (func (export "after_rank") (param $src i32) (param $m i32) (param $v f64) (param $r i32) (result f64)
    (local $i i32) (local $x f64) (local $le i32) (local $next f64)
    (local.set $next (f64.const inf))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $x (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $le (i32.add (local.get $le) (f64.le (local.get $x) (local.get $v))))
        (local.set $next (select (local.get $x) (local.get $next)
          (i32.and (f64.gt (local.get $x) (local.get $v)) (f64.lt (local.get $x) (local.get $next)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (select (local.get $v) (local.get $next) (i32.gt_u (local.get $le) (i32.add (local.get $r) (i32.const 1)))))

  ;; ---- typed ----
  ;; scan: elements [0, n) of a and e (float64 at byte addresses a, e); the first one is element
  ;; `base` of the whole tensor (a and e are float32 or float64 as the export's suffix says: f, d).
  ;; bits: histogram buckets are the top `bits` bits past the sign. State st: 20 float64 slots, carried from chunk to chunk (the
  ;; slot numbers are compare/kernel.ts's). ha, hr, he: histograms of |a - e|, of |a - e| / |e| and
  ;; of |e| (2^bits i32 each), 0 to skip. Time steps: the step of element i is floor(i / inner) %
  ;; steps (steps 0: no time axis); ti, t are the counters for the chunk's first element; sm (0 to
  ;; skip) gets max |a - e| per step. Heatmap: element i goes to cell r·C + c with c = i % C and
  ;; r = floor(i / QC) % R; c, qc (= i % QC) and r start the chunk; map (0 to skip) gets the max.
  ;; kpa, kpr (0: none): keep entries for |a - e| and the ratios — the values of the buckets a
  ;; sample says will hold the wanted ranks are kept during this pass, which saves gather's (see
  ;; compare/kernel.ts). Entry, 12 bytes of i32: table (u8 per bucket: 1 to keep its values, else
  ;; 0; a table of 0 keeps nothing), buf, fill. Every value is written at buf[fill] and the fill
  ;; moves on past the kept ones (wasm/build.mjs): the caller leaves room for a chunk more than it
  ;; plans to keep, and stops keeping (table 0) once the fill has passed its plan.
  ;;
  ;; Written for the common element (finite, close, e != 0): its path has no counter that can be
  ;; derived afterwards (finite and relative counts are the chunk less the rare exclusions), the
  ;; counts are i32, and a max with no value yet starts at -1 so one comparison updates it: a
  ;; float64 count and an "or none yet" test per statistic make the scan several times slower.
  (func (export "scan_AE")
    (param $a i32) (param $e i32) (param $n i32) (param $base f64) (param $bits i32)
    (param $atol f64) (param $rtol f64) (param $eqnan i32) (param $st i32)
    (param $ha i32) (param $hr i32) (param $he i32)
    (param $inner i32) (param $steps i32) (param $ti i32) (param $t i32) (param $sm i32)
    (param $C i32) (param $QC i32) (param $R i32) (param $c i32) (param $qc i32) (param $r i32) (param $map i32)
    (param $kpa i32) (param $kpr i32)
    (local $i i32) (local $ai f64) (local $ei f64) (local $d f64) (local $ae f64) (local $q f64) (local $need f64)
    (local $at i32) (local $end i32) (local $len i32) (local $cell i32) (local $stepAt i32) (local $bk i32) (local $close i32) (local $shift i64) (local $mask i32)
    (local $a_t i32) (local $a_b i32) (local $a_f i32)
    (local $r_t i32) (local $r_b i32) (local $r_f i32)
    ;; this chunk's counts
    (local $mism i32) (local $nonfin i32) (local $zexp i32) (local $zeros i32) (local $out i32) (local $same i32)
    (local $aeZero i32) (local $qInf i32) (local $relZeros i32) (local $first i32) (local $absAt i32) (local $relAt i32)
    (local $maxAbs f64) (local $maxRel f64) (local $sumAbs f64) (local $required f64)
    (local $sumD2 f64) (local $sumED f64) (local $sumE2 f64) (local $sumAbsE f64) (local $maxAbsE f64)
    ;; ---- pair ----
    ;; the pair path's
    (local $va v128) (local $ve v128) (local $vx v128) (local $vd v128) (local $vae v128) (local $vq v128) (local $vt v128)
    (local $vatol v128) (local $vrtol v128) (local $vmaxAbsE v128) (local $vreq v128) (local $d1 f64) (local $m f64)
    ;; ---- end pair ----
    (local.set $shift (i64.extend_i32_u (i32.sub (i32.const 63) (local.get $bits))))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $bits)) (i32.const 1)))
    (KEEPLOAD a $kpa)
    (KEEPLOAD r $kpr)
    (local.set $absAt (i32.const -1))
    (local.set $relAt (i32.const -1))
    (local.set $maxAbs (select (f64.const -1) (f64.load offset=24 (local.get $st)) (f64.lt (f64.load offset=32 (local.get $st)) (f64.const 0))))
    (local.set $maxRel (select (f64.const -1) (f64.load offset=40 (local.get $st)) (f64.lt (f64.load offset=48 (local.get $st)) (f64.const 0))))
    (local.set $sumAbs (f64.load offset=56 (local.get $st)))
    (local.set $required (f64.load offset=72 (local.get $st)))
    ;; -1 (none yet) is the largest unsigned value: t <u first then always holds.
    (local.set $first (i32.trunc_f64_s (f64.load offset=80 (local.get $st))))
    (local.set $sumD2 (f64.load offset=96 (local.get $st)))
    (local.set $sumED (f64.load offset=104 (local.get $st)))
    (local.set $sumE2 (f64.load offset=112 (local.get $st)))
    (local.set $sumAbsE (f64.load offset=120 (local.get $st)))
    (local.set $maxAbsE (f64.load offset=128 (local.get $st)))
    ;; ---- pair ----
    (local.set $vatol (f64x2.splat (local.get $atol)))
    (local.set $vrtol (f64x2.splat (local.get $rtol)))
    (local.set $vmaxAbsE (f64x2.splat (f64.const -inf)))
    (local.set $vreq (f64x2.splat (f64.const -inf)))
    ;; ---- end pair ----
    (block $done
      (loop $segment
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; A segment: elements up to the next step boundary or heatmap column wrap or row change, so
        ;; the step, row and per-step maximum's address are constant inside it and the heatmap cell
        ;; just advances. Counting these per element instead costs a large share of the scan.
        (local.set $end (local.get $n))
        (if (local.get $steps)
          (then
            (local.set $at (i32.add (local.get $i) (i32.sub (local.get $inner) (local.get $ti))))
            (local.set $end (select (local.get $at) (local.get $end) (i32.lt_u (local.get $at) (local.get $end))))))
        (if (local.get $map)
          (then
            (local.set $at (i32.add (local.get $i) (i32.sub (local.get $C) (local.get $c))))
            (local.set $end (select (local.get $at) (local.get $end) (i32.lt_u (local.get $at) (local.get $end))))
            (local.set $at (i32.add (local.get $i) (i32.sub (local.get $QC) (local.get $qc))))
            (local.set $end (select (local.get $at) (local.get $end) (i32.lt_u (local.get $at) (local.get $end))))
            (local.set $cell (i32.add (local.get $map)
              (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 3))))))
        (local.set $stepAt (i32.add (local.get $sm) (i32.shl (local.get $t) (i32.const 3))))
        (local.set $len (i32.sub (local.get $end) (local.get $i)))
      (block $segment_done
      (loop $each
        ;; ---- pair ----
        ;; Two elements at once where both are common (finite, close, e != 0, a finite ratio), the
        ;; vector doing what is per element and the lanes taken in element order for what is
        ;; sequential (the sums, the first maxima, the histograms), so every result is the same to
        ;; the bit as the one-element path below, which takes any pair that is not common. The
        ;; build without SIMD (compare-plain.wasm) drops this block.
        (block $single
          (br_if $single (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
          (local.set $va (LOADA2 $a $i))
          (local.set $ve (LOADE2 $e $i))
          (local.set $vx (f64x2.sub (local.get $va) (local.get $ve)))
          (local.set $vd (f64x2.abs (local.get $vx)))
          (local.set $vae (f64x2.abs (local.get $ve)))
          (local.set $vq (f64x2.div (local.get $vd) (local.get $vae)))
          ;; close, and a ratio below infinity: that also rules out e = 0, a NaN and an infinite
          ;; or overflowing difference.
          (br_if $single (i32.eqz (i64x2.all_true (v128.and
            (f64x2.le (local.get $vd) (f64x2.add (local.get $vatol) (f64x2.mul (local.get $vrtol) (local.get $vae))))
            (f64x2.lt (local.get $vq) (f64x2.splat (f64.const inf)))))))
          (local.set $d (f64x2.extract_lane 0 (local.get $vd)))
          (local.set $d1 (f64x2.extract_lane 1 (local.get $vd)))
          (local.set $sumAbs (f64.add (f64.add (local.get $sumAbs) (local.get $d)) (local.get $d1)))
          ;; Maxima: a test on both lanes at once that is almost never true, and then the lanes in
          ;; order; or a vector max where no index is wanted. f64.max would be no better than a
          ;; branch on which lane is larger, which V8 compiles it to (and which mispredicts half the
          ;; time, and would make this path no faster than the one-element one).
          (if (v128.any_true (f64x2.gt (local.get $vd) (f64x2.splat (local.get $maxAbs))))
            (then
              (if (f64.gt (local.get $d) (local.get $maxAbs))
                (then (local.set $maxAbs (local.get $d)) (local.set $absAt (local.get $i))))
              (if (f64.gt (local.get $d1) (local.get $maxAbs))
                (then (local.set $maxAbs (local.get $d1)) (local.set $absAt (i32.add (local.get $i) (i32.const 1)))))))
          (local.set $zeros (i32.add (local.get $zeros) (i32.popcnt (i64x2.bitmask (f64x2.eq (local.get $vd) (f64x2.splat (f64.const 0)))))))
          (local.set $vt (f64x2.mul (local.get $vd) (local.get $vd)))
          (local.set $sumD2 (f64.add (f64.add (local.get $sumD2) (f64x2.extract_lane 0 (local.get $vt))) (f64x2.extract_lane 1 (local.get $vt))))
          (local.set $vt (f64x2.mul (local.get $ve) (local.get $ve)))
          (local.set $sumE2 (f64.add (f64.add (local.get $sumE2) (f64x2.extract_lane 0 (local.get $vt))) (f64x2.extract_lane 1 (local.get $vt))))
          (local.set $vt (f64x2.mul (local.get $ve) (local.get $vx)))
          (local.set $sumED (f64.add (f64.add (local.get $sumED) (f64x2.extract_lane 0 (local.get $vt))) (f64x2.extract_lane 1 (local.get $vt))))
          (local.set $sumAbsE (f64.add (f64.add (local.get $sumAbsE) (f64x2.extract_lane 0 (local.get $vae))) (f64x2.extract_lane 1 (local.get $vae))))
          (local.set $vmaxAbsE (f64x2.pmax (local.get $vmaxAbsE) (local.get $vae)))
          (local.set $vreq (f64x2.pmax (local.get $vreq) (f64x2.sub (local.get $vd) (f64x2.mul (local.get $vrtol) (local.get $vae)))))
          (if (local.get $ha)
            (then
              (COUNT $ha $d) (KEEP a $d)
              (COUNT $ha $d1) (KEEP a $d1)))
          (if (local.get $he)
            (then
              (local.set $ae (f64x2.extract_lane 0 (local.get $vae))) (COUNT $he $ae)
              (local.set $ae (f64x2.extract_lane 1 (local.get $vae))) (COUNT $he $ae)))
          (local.set $q (f64x2.extract_lane 0 (local.get $vq)))
          (local.set $m (f64x2.extract_lane 1 (local.get $vq)))
          (if (v128.any_true (f64x2.gt (local.get $vq) (f64x2.splat (local.get $maxRel))))
            (then
              (if (f64.gt (local.get $q) (local.get $maxRel))
                (then (local.set $maxRel (local.get $q)) (local.set $relAt (local.get $i))))
              (if (f64.gt (local.get $m) (local.get $maxRel))
                (then (local.set $maxRel (local.get $m)) (local.set $relAt (i32.add (local.get $i) (i32.const 1)))))))
          (if (local.get $hr)
            (then
              (local.set $relZeros (i32.add (local.get $relZeros)
                (i32.popcnt (i64x2.bitmask (f64x2.eq (local.get $vq) (f64x2.splat (f64.const 0)))))))
              (COUNT $hr $q) (KEEP r $q)
              (COUNT $hr $m) (KEEP r $m)))
          (if (local.get $sm)
            (then
              (if (v128.any_true (f64x2.gt (local.get $vd) (f64x2.splat (f64.load (local.get $stepAt)))))
                (then
                  (if (f64.gt (local.get $d) (f64.load (local.get $stepAt)))
                    (then (f64.store (local.get $stepAt) (local.get $d))))
                  (if (f64.gt (local.get $d1) (f64.load (local.get $stepAt)))
                    (then (f64.store (local.get $stepAt) (local.get $d1))))))))
          (if (local.get $map)
            (then
              ;; pmax(cell, d) is d where cell < d: the one-element path's update, per lane.
              (v128.store (local.get $cell) (f64x2.pmax (v128.load (local.get $cell)) (local.get $vd)))))
          (local.set $cell (i32.add (local.get $cell) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br_if $each (i32.lt_u (local.get $i) (local.get $end)))
          (br $segment_done))
        ;; ---- end pair ----
        (local.set $ai (LOADA $a $i))
        (local.set $ei (LOADE $e $i))
        (local.set $d (f64.abs (f64.sub (local.get $ai) (local.get $ei))))
        (if (f64.le (local.get $d) (f64.const 0x1.fffffffffffffp+1023))
          (then
            ;; Both finite and so is their difference: isclose is |a - e| <= atol + rtol·|e|.
            (local.set $ae (f64.abs (local.get $ei)))
            (if (i32.eqz (f64.le (local.get $d) (f64.add (local.get $atol) (f64.mul (local.get $rtol) (local.get $ae)))))
              (then
                (local.set $mism (i32.add (local.get $mism) (i32.const 1)))
                (if (i32.and (i32.ne (local.get $steps) (i32.const 0)) (i32.lt_u (local.get $t) (local.get $first)))
                  (then (local.set $first (local.get $t))))))
            (local.set $sumAbs (f64.add (local.get $sumAbs) (local.get $d)))
            (if (f64.gt (local.get $d) (local.get $maxAbs))
              (then
                (local.set $maxAbs (local.get $d))
                (local.set $absAt (local.get $i))))
            (local.set $zeros (i32.add (local.get $zeros) (f64.eq (local.get $d) (f64.const 0))))
            ;; Σd², Σe² and Σe·(a - e): both norms and the dot product (see isclose.ts).
            (local.set $sumD2 (f64.add (local.get $sumD2) (f64.mul (local.get $d) (local.get $d))))
            (local.set $sumE2 (f64.add (local.get $sumE2) (f64.mul (local.get $ei) (local.get $ei))))
            (local.set $sumED (f64.add (local.get $sumED) (f64.mul (local.get $ei) (f64.sub (local.get $ai) (local.get $ei)))))
            (local.set $sumAbsE (f64.add (local.get $sumAbsE) (local.get $ae)))
            (if (f64.gt (local.get $ae) (local.get $maxAbsE))
              (then (local.set $maxAbsE (local.get $ae))))
            (local.set $need (f64.sub (local.get $d) (f64.mul (local.get $rtol) (local.get $ae))))
            (if (f64.gt (local.get $need) (local.get $required))
              (then (local.set $required (local.get $need))))
            (if (local.get $ha) (then (COUNT $ha $d) (KEEP a $d)))
            (if (local.get $he) (then (COUNT $he $ae)))
            ;; Relative error: expected zeros and ratios that overflow are left out (counted in
            ;; zeroExpected when the difference is not 0).
            (if (f64.eq (local.get $ae) (f64.const 0))
              (then
                (local.set $aeZero (i32.add (local.get $aeZero) (i32.const 1)))
                (local.set $zexp (i32.add (local.get $zexp) (f64.ne (local.get $d) (f64.const 0)))))
              (else
                (local.set $q (f64.div (local.get $d) (local.get $ae)))
                (if (f64.eq (local.get $q) (f64.const inf))
                  (then
                    (local.set $qInf (i32.add (local.get $qInf) (i32.const 1)))
                    (local.set $zexp (i32.add (local.get $zexp) (i32.const 1))))
                  (else
                    (if (f64.gt (local.get $q) (local.get $maxRel))
                      (then
                        (local.set $maxRel (local.get $q))
                        (local.set $relAt (local.get $i))))
                    (if (local.get $hr)
                      (then
                        (local.set $relZeros (i32.add (local.get $relZeros) (f64.eq (local.get $q) (f64.const 0))))
                        (COUNT $hr $q)
                        (KEEP r $q)))))))
            (if (local.get $sm)
              (then
                (if (f64.gt (local.get $d) (f64.load (local.get $stepAt)))
                  (then (f64.store (local.get $stepAt) (local.get $d))))))
            (if (local.get $map)
              (then
                (if (f64.gt (local.get $d) (f64.load (local.get $cell)))
                  (then (f64.store (local.get $cell) (local.get $d)))))))
          (else
            ;; NaN, an infinity, or a difference past the float64 range: isClose's rules.
            (local.set $out (i32.add (local.get $out) (i32.const 1)))
            (if (f64.eq (local.get $ai) (local.get $ei))
              (then (local.set $close (i32.const 1)))
              (else
                (if (i32.or (f64.ne (local.get $ai) (local.get $ai)) (f64.ne (local.get $ei) (local.get $ei)))
                  (then
                    (local.set $close (i32.and (local.get $eqnan)
                      (i32.and (f64.ne (local.get $ai) (local.get $ai)) (f64.ne (local.get $ei) (local.get $ei))))))
                  (else
                    (if (i32.or (f64.eq (f64.abs (local.get $ai)) (f64.const inf)) (f64.eq (f64.abs (local.get $ei)) (f64.const inf)))
                      (then (local.set $close (i32.const 0)))
                      (else
                        ;; Both finite, their difference overflows: only an infinite atol passes it.
                        (local.set $close (f64.le (local.get $d)
                          (f64.add (local.get $atol) (f64.mul (local.get $rtol) (f64.abs (local.get $ei))))))))))))
            (if (i32.eqz (local.get $close))
              (then
                (local.set $mism (i32.add (local.get $mism) (i32.const 1)))
                (local.set $nonfin (i32.add (local.get $nonfin) (i32.const 1)))
                (if (i32.and (i32.ne (local.get $steps) (i32.const 0)) (i32.lt_u (local.get $t) (local.get $first)))
                  (then (local.set $first (local.get $t)))))
              (else
                ;; The same infinity: close with a difference of 0, counted as finite but left out
                ;; of the sums; it is where the max errors point while there is no finite one.
                (if (f64.eq (local.get $ai) (local.get $ei))
                  (then
                    (local.set $same (i32.add (local.get $same) (i32.const 1)))
                    (if (f64.lt (local.get $maxAbs) (f64.const 0))
                      (then
                        (local.set $maxAbs (f64.const 0))
                        (local.set $absAt (local.get $i))))
                    (if (f64.lt (local.get $maxRel) (f64.const 0))
                      (then
                        (local.set $maxRel (f64.const 0))
                        (local.set $relAt (local.get $i))))))))))
        (local.set $cell (i32.add (local.get $cell) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $each (i32.lt_u (local.get $i) (local.get $end)))))
        ;; Advance the step and heatmap counters past the segment: it ended at or before each wrap.
        (if (local.get $steps)
          (then
            (local.set $ti (i32.add (local.get $ti) (local.get $len)))
            (if (i32.eq (local.get $ti) (local.get $inner))
              (then
                (local.set $ti (i32.const 0))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (if (i32.eq (local.get $t) (local.get $steps)) (then (local.set $t (i32.const 0))))))))
        (if (local.get $map)
          (then
            (local.set $c (i32.add (local.get $c) (local.get $len)))
            (if (i32.eq (local.get $c) (local.get $C)) (then (local.set $c (i32.const 0))))
            (local.set $qc (i32.add (local.get $qc) (local.get $len)))
            (if (i32.eq (local.get $qc) (local.get $QC))
              (then
                (local.set $qc (i32.const 0))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (if (i32.eq (local.get $r) (local.get $R)) (then (local.set $r (i32.const 0))))))))
        (br $segment)))
    ;; ---- pair ----
    ;; The pair path's vector maxima into the scalar ones.
    (if (f64.gt (f64x2.extract_lane 0 (local.get $vmaxAbsE)) (local.get $maxAbsE)) (then (local.set $maxAbsE (f64x2.extract_lane 0 (local.get $vmaxAbsE)))))
    (if (f64.gt (f64x2.extract_lane 1 (local.get $vmaxAbsE)) (local.get $maxAbsE)) (then (local.set $maxAbsE (f64x2.extract_lane 1 (local.get $vmaxAbsE)))))
    (if (f64.gt (f64x2.extract_lane 0 (local.get $vreq)) (local.get $required)) (then (local.set $required (f64x2.extract_lane 0 (local.get $vreq)))))
    (if (f64.gt (f64x2.extract_lane 1 (local.get $vreq)) (local.get $required)) (then (local.set $required (f64x2.extract_lane 1 (local.get $vreq)))))
    ;; ---- end pair ----
    ;; Counts into the state: the chunk's finite elements are those not sent to the non-finite path
    ;; plus the matching infinities; its relative ones are its finite differences less e = 0 and
    ;; overflowing ratios.
    (f64.store offset=0 (local.get $st) (f64.add (f64.load offset=0 (local.get $st)) (f64.convert_i32_u (local.get $mism))))
    (f64.store offset=8 (local.get $st) (f64.add (f64.load offset=8 (local.get $st)) (f64.convert_i32_u (local.get $nonfin))))
    (f64.store offset=16 (local.get $st) (f64.add (f64.load offset=16 (local.get $st)) (f64.convert_i32_u (local.get $zexp))))
    (if (i32.ge_s (local.get $absAt) (i32.const 0))
      (then
        (f64.store offset=24 (local.get $st) (local.get $maxAbs))
        (f64.store offset=32 (local.get $st) (f64.add (local.get $base) (f64.convert_i32_u (local.get $absAt))))))
    (if (i32.ge_s (local.get $relAt) (i32.const 0))
      (then
        (f64.store offset=40 (local.get $st) (local.get $maxRel))
        (f64.store offset=48 (local.get $st) (f64.add (local.get $base) (f64.convert_i32_u (local.get $relAt))))))
    (f64.store offset=56 (local.get $st) (local.get $sumAbs))
    (f64.store offset=64 (local.get $st) (f64.add (f64.load offset=64 (local.get $st))
      (f64.convert_i32_u (i32.add (i32.sub (local.get $n) (local.get $out)) (local.get $same)))))
    (f64.store offset=72 (local.get $st) (local.get $required))
    (f64.store offset=80 (local.get $st) (f64.convert_i32_s (local.get $first)))
    (f64.store offset=88 (local.get $st) (f64.add (f64.load offset=88 (local.get $st)) (f64.convert_i32_u (local.get $zeros))))
    (f64.store offset=96 (local.get $st) (local.get $sumD2))
    (f64.store offset=104 (local.get $st) (local.get $sumED))
    (f64.store offset=112 (local.get $st) (local.get $sumE2))
    (f64.store offset=120 (local.get $st) (local.get $sumAbsE))
    (f64.store offset=128 (local.get $st) (local.get $maxAbsE))
    (f64.store offset=136 (local.get $st) (f64.add (f64.load offset=136 (local.get $st))
      (f64.convert_i32_u (i32.sub (i32.sub (i32.sub (local.get $n) (local.get $out)) (local.get $aeZero)) (local.get $qInf)))))
    (f64.store offset=144 (local.get $st) (f64.add (f64.load offset=144 (local.get $st)) (f64.convert_i32_u (local.get $same))))
    (f64.store offset=152 (local.get $st) (f64.add (f64.load offset=152 (local.get $st)) (f64.convert_i32_u (local.get $relZeros))))
    (KEEPSTORE a $kpa)
    (KEEPSTORE r $kpr))

  ;; gather: the radix select's second pass over elements [0, n). pa, pr, pe: plan entries for
  ;; |a - e|, the ratios and |e| (0: none), 48 bytes each: lo0 hi0 lo1 hi1 (f64), buf0 buf1 (i32
  ;; byte addresses), fill0 fill1 (i32). A value goes to the first of the ranges [lo0, hi0),
  ;; [lo1, hi1) holding it (they hold nothing in common: compare/stats.ts planRanks), over the same
  ;; elements scan counted (finite differences; ratios where e != 0 and the ratio is finite). An
  ;; absent plan gets empty ranges, so its test never passes.
  (func (export "gather_AE") (param $a i32) (param $e i32) (param $n i32) (param $pa i32) (param $pr i32) (param $pe i32)
    (local $i i32) (local $ei f64) (local $d f64) (local $ae f64) (local $q f64)
    (local $a_lo0 f64) (local $a_hi0 f64) (local $a_lo1 f64) (local $a_hi1 f64) (local $a_b0 i32) (local $a_b1 i32) (local $a_f0 i32) (local $a_f1 i32)
    (local $r_lo0 f64) (local $r_hi0 f64) (local $r_lo1 f64) (local $r_hi1 f64) (local $r_b0 i32) (local $r_b1 i32) (local $r_f0 i32) (local $r_f1 i32)
    (local $e_lo0 f64) (local $e_hi0 f64) (local $e_lo1 f64) (local $e_hi1 f64) (local $e_b0 i32) (local $e_b1 i32) (local $e_f0 i32) (local $e_f1 i32)
    (PLAN a $pa)
    (PLAN r $pr)
    (PLAN e $pe)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ei (LOADE $e $i))
        (local.set $d (f64.abs (f64.sub (LOADA $a $i) (local.get $ei))))
        (if (f64.le (local.get $d) (f64.const 0x1.fffffffffffffp+1023))
          (then
            (local.set $ae (f64.abs (local.get $ei)))
            (OFFER a $d)
            (OFFER e $ae)
            (if (i32.and (i32.ne (local.get $pr) (i32.const 0)) (f64.ne (local.get $ae) (f64.const 0)))
              (then
                (local.set $q (f64.div (local.get $d) (local.get $ae)))
                ;; An infinite ratio lies in no range (the last range ends at +Infinity, excluded).
                (OFFER r $q)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (UNPLAN a $pa)
    (UNPLAN r $pr)
    (UNPLAN e $pe))

  ;; sample: the keep plan's sample (compare/kernel.ts keepPlan), n elements of a and e copied
  ;; side by side: |a - e| where finite into od (float64), and the ratio |a - e| / |e| where e != 0
  ;; and the ratio is finite into orr, each in element order; the scan's rules. Returns the count
  ;; of the first, stores the second's as i32 at nr. In wasm: the same loop in JavaScript runs on
  ;; the interpreter in a fresh process, a cost every big check would pay.
  (func (export "sample_AE") (param $a i32) (param $e i32) (param $n i32) (param $od i32) (param $orr i32) (param $nr i32) (result i32)
    (local $i i32) (local $ei f64) (local $d f64) (local $ae f64) (local $q f64) (local $kd i32) (local $kr i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ei (LOADE $e $i))
        (local.set $d (f64.abs (f64.sub (LOADA $a $i) (local.get $ei))))
        (if (f64.le (local.get $d) (f64.const 0x1.fffffffffffffp+1023))
          (then
            (f64.store (i32.add (local.get $od) (i32.shl (local.get $kd) (i32.const 3))) (local.get $d))
            (local.set $kd (i32.add (local.get $kd) (i32.const 1)))
            (local.set $ae (f64.abs (local.get $ei)))
            (if (f64.ne (local.get $ae) (f64.const 0))
              (then
                (local.set $q (f64.div (local.get $d) (local.get $ae)))
                (if (f64.ne (local.get $q) (f64.const inf))
                  (then
                    (f64.store (i32.add (local.get $orr) (i32.shl (local.get $kr) (i32.const 3))) (local.get $q))
                    (local.set $kr (i32.add (local.get $kr) (i32.const 1)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store (local.get $nr) (local.get $kr))
    (local.get $kd))
  ;; ---- end typed ----
)
