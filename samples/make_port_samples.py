"""Regenerate the port fixtures (test/fixtures/ports/) and the ONNX/Keras layout samples (samples/).

Run with a Python that has real PyTorch (Debian's: ``/usr/bin/python3 samples/make_port_samples.py``).
Every case seeds torch / numpy right before building its data, so each file depends only on its
own seed. Output is byte-for-byte reproducible on one machine (single-threaded BLAS, numpy's
fixed zip timestamps).

A. Ports with planted mistakes (test/fixtures/ports/)
   Two ordinary gru-check cases from real PyTorch (``port_base.npz``, ``port_square.npz``), and
   for each classic porting bug a candidate file (``dump_port_outputs``: ``output`` + ``h_n``)
   computed by an independent numpy GRU (float64, cast to float32 at the end) into which exactly
   one mistake is planted. The numpy GRU is first checked, with no mistake, against PyTorch
   (< 2e-6). ``test/fixtures/ports/README.md`` and ``ports.json`` are written from the same data.

B. ONNX GRU operator layout (samples/onnx_lbr1.npz, samples/onnx_lbr0.npz)
C. Keras GRU layer layout (samples/keras_reset_after.npz, samples/keras_reset_before.npz)
   The layouts PyTorch's math can be converted to exactly (ONNX linear_before_reset=1, Keras
   reset_after=True) carry PyTorch's own outputs. The two that PyTorch cannot compute
   (linear_before_reset=0, reset_after=False) carry outputs of a numpy implementation written
   from the ONNX / Keras equations, validated by switching the same code to the PyTorch-equivalent
   variant and reproducing PyTorch to < 2e-6.
"""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: one thread, so every run sums in the same order.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

SAMPLES = Path(__file__).resolve().parent
ROOT = SAMPLES.parent
PORTS = ROOT / "test" / "fixtures" / "ports"
sys.path.insert(0, str(SAMPLES))
from gru_dump import dump_port_outputs, gru_case_arrays, save_arrays  # noqa: E402

torch.set_num_threads(1)

VALIDATE_TOL = 2e-6      # numpy GRU (no mistake) vs PyTorch
VISIBLE = 1e-3           # a planted mistake must move output or h_n by more than this


def seeded(seed: int) -> int:
    torch.manual_seed(seed)
    return seed


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


# =============================================================================================
# A. an independent numpy GRU in PyTorch's layout, with one plantable mistake
# =============================================================================================

def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def hard_sigmoid(v: np.ndarray) -> np.ndarray:
    # Keras 1 / TF1 hard_sigmoid: a piecewise-linear stand-in for the logistic function.
    return np.clip(0.2 * v + 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class Mistake:
    """At most one field differs from the default in any planted port."""
    gate_order: str = "rzn"          # order the port believes the stacked gate blocks are in
    reset: str = "after"             # "after" (PyTorch), "before" (ONNX lbr=0), "b_hn_outside"
    h0_ignored: bool = False
    w_hh_transposed: bool = False
    w_ih_transposed: bool = False    # only square (H x I with I == H) blocks can be transposed
    update_inverted: bool = False
    hard_sigmoid: bool = False
    reverse_not_rereversed: bool = False
    directions_swapped: bool = False
    reverse_h_n_first_step: bool = False


NO_MISTAKE = Mistake()


def port_gates(w: np.ndarray, order: str, transpose_blocks: bool) -> dict:
    """Split a stacked (3H, ...) weight or (3H,) bias into {'r','z','n'} as the port reads it."""
    blocks = np.split(w, 3, axis=0)
    if transpose_blocks:
        blocks = [b.T if b.ndim == 2 and b.shape[0] == b.shape[1] else b for b in blocks]
    return {gate: blocks[i] for i, gate in enumerate(order)}


def np_direction(x, h, w_ih, w_hh, b_ih, b_hh, reverse: bool, m: Mistake):
    """One direction of one layer. x (T, B, I), h (B, H), float64. Returns (out (T, B, H), h_n)."""
    T = x.shape[0]
    Wi = port_gates(w_ih, m.gate_order, m.w_ih_transposed)
    Wh = port_gates(w_hh, m.gate_order, m.w_hh_transposed)
    bi = port_gates(b_ih, m.gate_order, False)
    bh = port_gates(b_hh, m.gate_order, False)
    act = hard_sigmoid if m.hard_sigmoid else sigmoid
    out = np.empty((T, x.shape[1], h.shape[1]))
    steps = range(T - 1, -1, -1) if reverse else range(T)
    first_state = None
    for k, t in enumerate(steps):
        xt = x[t]
        r = act(xt @ Wi["r"].T + bi["r"] + h @ Wh["r"].T + bh["r"])
        z = act(xt @ Wi["z"].T + bi["z"] + h @ Wh["z"].T + bh["z"])
        if m.reset == "after":           # PyTorch / cuDNN / ONNX linear_before_reset=1
            n = np.tanh(xt @ Wi["n"].T + bi["n"] + r * (h @ Wh["n"].T + bh["n"]))
        elif m.reset == "before":        # ONNX linear_before_reset=0, Keras reset_after=False
            n = np.tanh(xt @ Wi["n"].T + bi["n"] + (r * h) @ Wh["n"].T + bh["n"])
        elif m.reset == "b_hn_outside":  # b_hn folded into the input bias
            n = np.tanh(xt @ Wi["n"].T + bi["n"] + bh["n"] + r * (h @ Wh["n"].T))
        else:
            raise ValueError(m.reset)
        h = z * n + (1 - z) * h if m.update_inverted else (1 - z) * n + z * h
        if first_state is None:
            first_state = h
        # Un-re-reversed: the reverse scan's k-th state lands at row k, not at its input time t.
        out[k if (reverse and m.reverse_not_rereversed) else t] = h
    h_n = first_state if (reverse and m.reverse_h_n_first_step) else h
    return out, h_n


def np_gru(w: dict, x: np.ndarray, h0, num_layers: int, bidirectional: bool, m: Mistake = NO_MISTAKE):
    """Seq-first stack. w: state_dict arrays; x (T, B, I); h0 (L*D, B, H) or None.

    Returns float32 (output (T, B, D*H), h_n (L*D, B, H)), computed in float64.
    """
    D = 2 if bidirectional else 1
    H = w["weight_hh_l0"].shape[1]
    B = x.shape[1]
    h0 = np.zeros((num_layers * D, B, H)) if (h0 is None or m.h0_ignored) else h0.astype(np.float64)
    layer_in = x.astype(np.float64)
    h_n = []
    for layer in range(num_layers):
        outs = []
        for d, sfx in enumerate(("", "_reverse")[:D]):
            p = [w[f"{name}_l{layer}{sfx}"].astype(np.float64)
                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            o, hn = np_direction(layer_in, h0[layer * D + d], *p, reverse=d == 1, m=m)
            outs.append(o)
            h_n.append(hn)           # h_n keeps [fwd, bwd] order even when the concat is swapped
        if m.directions_swapped:
            outs = outs[::-1]
        layer_in = np.concatenate(outs, axis=-1)   # what the next layer reads
    return layer_in.astype(np.float32), np.stack(h_n).astype(np.float32)


def weights_of(arrays: dict) -> dict:
    return {k: v for k, v in arrays.items() if k.startswith(("weight_", "bias_"))}


# --- base cases --------------------------------------------------------------------------------

def base_case(name: str, seed: int, I: int, H: int, T: int, B: int, description: str) -> dict:
    seeded(seed)
    gru = nn.GRU(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, I)
    h0 = torch.randn(4, B, H)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(seed=seed, batch_first=False,
                                                        description=description))
    save_arrays(PORTS / f"{name}.npz", arrays)
    out, h_n = np_gru(weights_of(arrays), arrays["input"], arrays["h0"], 2, True)
    d = max(max_abs(out, arrays["output"]), max_abs(h_n, arrays["h_n"]))
    assert d < VALIDATE_TOL, f"numpy GRU does not reproduce PyTorch on {name}: {d:.3g}"
    print(f"  {name}.npz: input{arrays['input'].shape} h0{arrays['h0'].shape} -> "
          f"output{arrays['output'].shape} h_n{arrays['h_n'].shape}; numpy GRU without mistakes "
          f"vs PyTorch: {d:.2e} (< {VALIDATE_TOL:g})")
    return arrays


# name, base, Mistake (or a callable for whole-run mistakes), what was planted
def port_specs():
    specs = []
    for perm in ("rnz", "zrn", "znr", "nrz", "nzr"):
        specs.append((f"gate-order:{perm}", "port_base", Mistake(gate_order=perm),
                      f"every weight_ih/weight_hh/bias_ih/bias_hh read as stacked blocks "
                      f"{'|'.join(perm)} (block i of H rows taken as gate '{perm}'[i]) instead of r|z|n"))
    specs += [
        ("reset-before-matmul", "port_base", Mistake(reset="before"),
         "n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)  (ONNX linear_before_reset=0)"),
        ("b_hn-outside-reset", "port_base", Mistake(reset="b_hn_outside"),
         "n = tanh(W_in x + b_in + b_hn + r * (W_hn h))"),
        ("h0-ignored", "port_base", Mistake(h0_ignored=True),
         "zeros used instead of h0 for every layer and direction"),
        ("w_hh-transposed", "port_base", Mistake(w_hh_transposed=True),
         "each H x H gate block of every weight_hh (all layers, both directions) transposed"),
        ("w_ih-transposed", "port_square", Mistake(w_ih_transposed=True),
         "each 5 x 5 gate block of weight_ih_l0 and weight_ih_l0_reverse transposed (layer 1's "
         "blocks are 5 x 10, not square, so they are read correctly)"),
        ("update-gate-inverted", "port_base", Mistake(update_inverted=True),
         "h' = z * n + (1 - z) * h"),
        ("hard-sigmoid", "port_base", Mistake(hard_sigmoid=True),
         "r and z use clip(0.2 x + 0.5, 0, 1) instead of the logistic sigmoid (n keeps tanh)"),
        ("reverse-not-rereversed", "port_base", Mistake(reverse_not_rereversed=True),
         "in every layer the backward direction's outputs stay in processing order: backward "
         "half at row t holds the state after reverse step t (input time T-1-t); layer 1 reads "
         "that un-flipped sequence as its input; h_n of each backward direction is its true final "
         "state (after t = 0) of the run it did"),
        ("directions-swapped", "port_base", Mistake(directions_swapped=True),
         "in every layer the output is concatenated [backward | forward]; layer 1 reads that "
         "swapped concatenation; h_n keeps the order [l0 fwd, l0 bwd, l1 fwd, l1 bwd]"),
        ("reverse-h_n-from-last-step", "port_base", Mistake(reverse_h_n_first_step=True),
         "each backward direction's h_n is its state after its FIRST reverse step (input t = T-1) "
         "instead of after its last (t = 0); output untouched"),
        ("batch-time-swapped", "port_square", "batch_time_swapped",
         "the (T, B, I) input read as (B, T, I): candidate = transpose01(GRU(transpose01(input), "
         "h0)) with the same h0; h_n is what that run returns"),
    ]
    return specs


def run_port(spec_mistake, base: dict):
    w, x, h0 = weights_of(base), base["input"], base["h0"]
    if spec_mistake == "batch_time_swapped":
        out, h_n = np_gru(w, x.transpose(1, 0, 2), h0, 2, True)
        return out.transpose(1, 0, 2).copy(), h_n
    return np_gru(w, x, h0, 2, True, spec_mistake)


def ports() -> list:
    PORTS.mkdir(parents=True, exist_ok=True)
    print("test/fixtures/ports/ (base cases):")
    bases = {
        "port_base": base_case(
            "port_base", 301, I=4, H=5, T=6, B=3,
            description="Base case for the planted-port fixtures: GRU(4, 5, num_layers=2, "
                        "bidirectional=True), seq-first, T=6, B=3, random h0, default biases."),
        "port_square": base_case(
            "port_square", 302, I=5, H=5, T=4, B=4,
            description="Square base case for the planted-port fixtures: GRU(5, 5, num_layers=2, "
                        "bidirectional=True), seq-first, T=B=4 (so a transposed weight_ih_l0 and "
                        "a batch/time swap keep their shapes)."),
    }
    rows = []
    print("planted ports (numpy GRU + one mistake) vs PyTorch:")
    for name, base_name, mistake, planted in port_specs():
        base = bases[base_name]
        out, h_n = run_port(mistake, base)
        assert out.shape == base["output"].shape and h_n.shape == base["h_n"].shape, name
        d_out, d_h = max_abs(out, base["output"]), max_abs(h_n, base["h_n"])
        assert max(d_out, d_h) > VISIBLE, f"{name}: invisible on {base_name} ({d_out}, {d_h})"
        fname = name.replace(":", "_") + ".npz"
        dump_port_outputs(PORTS / fname, out, h_n=h_n)
        rows.append(dict(name=name, file=fname, base=f"{base_name}.npz", planted=planted,
                         max_abs_diff_output=float(f"{d_out:.3g}"),
                         max_abs_diff_h_n=float(f"{d_h:.3g}"), expect="fail",
                         _out=out, _h_n=h_n))
        print(f"  {name:28s} on {base_name:11s}  max|diff| output {d_out:.3g}, h_n {d_h:.3g}")

    # Every planted port must also be distinguishable from every other one on the same base.
    worst = (np.inf, None)
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if a["base"] == b["base"]:
                d = max(max_abs(a["_out"], b["_out"]), max_abs(a["_h_n"], b["_h_n"]))
                worst = min(worst, (d, f"{a['name']} / {b['name']}"), key=lambda p: p[0])
    assert worst[0] > VISIBLE, f"two planted ports coincide: {worst}"
    print(f"  closest pair of planted ports on one base: {worst[1]} ({worst[0]:.3g})")

    # correct: PyTorch's own values with float32-level noise (a few ulp, relative <= 2^-22).
    base = bases["port_base"]
    rng = np.random.default_rng(303)
    noisy = {}
    for key in ("output", "h_n"):
        e = base[key].astype(np.float64)
        noisy[key] = (e * (1.0 + 2.0 ** -22 * rng.uniform(-1.0, 1.0, e.shape))).astype(np.float32)
        torch.testing.assert_close(torch.from_numpy(noisy[key]), torch.from_numpy(base[key]))
    changed = sum(int((noisy[k] != base[k]).sum()) for k in noisy)
    ulps = max(int(np.abs(noisy[k].view(np.int32).astype(np.int64)
                          - base[k].view(np.int32).astype(np.int64)).max()) for k in noisy)
    total = sum(base[k].size for k in noisy)
    assert changed > total // 4, "noise too small to change float32 values"
    d_out, d_h = max_abs(noisy["output"], base["output"]), max_abs(noisy["h_n"], base["h_n"])
    dump_port_outputs(PORTS / "correct.npz", noisy["output"], h_n=noisy["h_n"])
    rows.append(dict(name="correct", file="correct.npz", base="port_base.npz",
                     planted=f"nothing: PyTorch's own output and h_n times (1 + 2^-22 u), u uniform "
                             f"in [-1, 1] ({changed} of {total} float32 values changed, by <= {ulps} ulp); "
                             f"passes torch.testing.assert_close defaults",
                     max_abs_diff_output=float(f"{d_out:.3g}"), max_abs_diff_h_n=float(f"{d_h:.3g}"),
                     expect="pass"))
    print(f"  {'correct':28s} on port_base    max|diff| output {d_out:.3g}, h_n {d_h:.3g} "
          f"(assert_close passes; {changed}/{total} values changed)")

    # Error-path candidates (shape / missing array), from the same PyTorch run.
    dump_port_outputs(PORTS / "wrong_shape.npz", base["output"][..., :-1].copy(), h_n=base["h_n"])
    dump_port_outputs(PORTS / "only_output.npz", base["output"])
    extras = [
        dict(name="wrong_shape", file="wrong_shape.npz", base="port_base.npz",
             planted=f"PyTorch's output with the last axis cut by one: "
                     f"{tuple(base['output'][..., :-1].shape)} instead of {tuple(base['output'].shape)}; "
                     f"h_n correct", expect="error (shape)"),
        dict(name="only_output", file="only_output.npz", base="port_base.npz",
             planted="PyTorch's exact output, no h_n array", expect="pass (output only)"),
    ]
    for r in rows:
        r.pop("_out", None)
        r.pop("_h_n", None)
    return rows, extras


def write_ports_docs(rows: list, extras: list) -> None:
    manifest = dict(
        generated_by="samples/make_port_samples.py",
        tolerance_note="planted ports differ from PyTorch by > 1e-3 in output or h_n; 'correct' "
                       "passes rtol=1.3e-6, atol=1e-5",
        ports=rows, extras=extras)
    (PORTS / "ports.json").write_text(json.dumps(manifest, indent=2) + "\n")

    lines = [
        "# Port fixtures",
        "",
        "Generated by `samples/make_port_samples.py`; never edit by hand, regenerate with",
        "`/usr/bin/python3 samples/make_port_samples.py`. The same table is in `ports.json`.",
        "",
        "Two base cases are ordinary gru-check cases from real PyTorch (torch 1.13, eval, no_grad):",
        "",
        "| base | module | input | h0 | output | h_n |",
        "|---|---|---|---|---|---|",
        "| `port_base.npz` | GRU(4, 5, num_layers=2, bidirectional=True), seq-first, default biases | (T6, B3, I4) | (4, 3, 5) | (6, 3, 10) | (4, 3, 5) |",
        "| `port_square.npz` | GRU(5, 5, num_layers=2, bidirectional=True), seq-first | (T4, B4, I5) | (4, 4, 5) | (4, 4, 10) | (4, 4, 5) |",
        "",
        "Every other file is a *candidate* (`dump_port_outputs`: `output` (T, B, 2H) and `h_n`",
        "(4, B, H), float32, no config) to check against its base:",
        "`gru-check run <base> --candidate <file>`. Each planted port was computed by an",
        "independent numpy GRU (float64, cast to float32 at the end) that reproduces PyTorch to",
        "< 2e-6 with no mistake (asserted), with exactly one mistake planted. File name = name",
        "with `:` replaced by `_`. Gates are named as in PyTorch: stacked blocks r|z|n,",
        "r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),",
        "h' = (1 − z) ⊙ n + z ⊙ h.",
        "",
        "| name | file | base | what was planted | max abs diff output | max abs diff h_n |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        planted = r["planted"].replace("|", "\\|")   # keep the markdown table intact
        lines.append(f"| `{r['name']}` | `{r['file']}` | `{r['base']}` | {planted} | "
                     f"{r['max_abs_diff_output']:.3g} | {r['max_abs_diff_h_n']:.3g} |")
    lines += [
        "",
        "Every planted port is also > 1e-3 away from every other planted port on the same base, so",
        "a diagnosis that names one mistake is never ambiguous on these inputs.",
        "",
        "Notes on the choices:",
        "",
        "- `reverse-h_n-from-last-step` leaves `output` correct (it differs from PyTorch only by",
        "  float32 rounding, well inside tolerance); only the backward rows of `h_n` (1 and 3) are wrong.",
        "- `reverse-not-rereversed` and `directions-swapped` model a bug inside the bidirectional",
        "  layer function, which a port uses for every layer: layer 1 therefore reads the wrong",
        "  sequence too, so layer 0's `h_n` rows are right and layer 1's are wrong. `h_n` is",
        "  collected per direction by separate code, so its order is not swapped.",
        "- `w_ih-transposed` can only exist where a gate block of weight_ih is square, i.e. layer 0",
        "  of `port_square` (I = H = 5); layer 1 (5 x 10 blocks) is read correctly.",
        "- `batch-time-swapped` needs B = T so the misread input has the same shape.",
        "",
        "Error-path candidates (base `port_base.npz`):",
        "",
        "| file | content | expected |",
        "|---|---|---|",
    ]
    for e in extras:
        lines.append(f"| `{e['file']}` | {e['planted']} | {e['expect']} |")
    (PORTS / "README.md").write_text("\n".join(lines) + "\n")


# =============================================================================================
# B. ONNX GRU operator layout
# =============================================================================================

def to_zrn(m: np.ndarray) -> np.ndarray:
    """PyTorch stacked r|z|n rows (or a 3H vector) -> ONNX / Keras z|r|h order."""
    r, z, n = np.split(m, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def onnx_gru(X, W, R, B, initial_h, sequence_lens, direction: str, linear_before_reset: int):
    """ONNX GRU (opset 14), written from the operator spec / onnx/reference/ops/op_gru.py.

    Axes: X [T, B, I], W [D, 3H, I], R [D, 3H, H], B [D, 6H] = [Wb_z Wb_r Wb_h Rb_z Rb_r Rb_h],
    initial_h [D, B, H], sequence_lens [B]. Returns Y [T, D, B, H] (0 past each length) and
    Y_h [D, B, H] (each sequence's last valid state; reverse direction starts at len-1).

      z = σ(X W_z^T + H R_z^T + Wb_z + Rb_z)
      r = σ(X W_r^T + H R_r^T + Wb_r + Rb_r)
      lbr=0: h = tanh(X W_h^T + (r ⊙ H) R_h^T + Rb_h + Wb_h)
      lbr=1: h = tanh(X W_h^T + r ⊙ (H R_h^T + Rb_h) + Wb_h)
      H' = (1 − z) ⊙ h + z ⊙ H
    """
    X = X.astype(np.float64)
    T, Bsz, _ = X.shape
    D, H = W.shape[0], R.shape[-1]
    dirs = {"forward": ["forward"], "reverse": ["reverse"],
            "bidirectional": ["forward", "reverse"]}[direction]
    assert len(dirs) == D
    lens = [T] * Bsz if sequence_lens is None else [int(v) for v in sequence_lens]
    Y = np.zeros((T, D, Bsz, H))
    Y_h = np.zeros((D, Bsz, H))
    for d, dname in enumerate(dirs):
        W_z, W_r, W_h = np.split(W[d].astype(np.float64), 3)
        R_z, R_r, R_h = np.split(R[d].astype(np.float64), 3)
        Wb_z, Wb_r, Wb_h, Rb_z, Rb_r, Rb_h = np.split(B[d].astype(np.float64), 6)
        for b in range(Bsz):
            Ht = initial_h[d, b].astype(np.float64)
            steps = range(lens[b]) if dname == "forward" else range(lens[b] - 1, -1, -1)
            for t in steps:
                x = X[t, b]
                z = sigmoid(x @ W_z.T + Ht @ R_z.T + Wb_z + Rb_z)
                r = sigmoid(x @ W_r.T + Ht @ R_r.T + Wb_r + Rb_r)
                if linear_before_reset:
                    h = np.tanh(x @ W_h.T + r * (Ht @ R_h.T + Rb_h) + Wb_h)
                else:
                    h = np.tanh(x @ W_h.T + (r * Ht) @ R_h.T + Rb_h + Wb_h)
                Ht = (1 - z) * h + z * Ht
                Y[t, d, b] = Ht
            Y_h[d, b] = Ht
    return Y.astype(np.float32), Y_h.astype(np.float32)


def torch_to_onnx_y(output: np.ndarray, H: int) -> np.ndarray:
    """PyTorch seq-first (T, B, D*H) -> ONNX Y (T, D, B, H)."""
    T, Bsz, DH = output.shape
    return np.ascontiguousarray(output.reshape(T, Bsz, DH // H, H).transpose(0, 2, 1, 3))


def onnx_export_check(gru: nn.GRU, x: torch.Tensor, h0: torch.Tensor, W, R, B) -> str:
    """Export the module with torch.onnx and compare the GRU node's W/R/B initializers with ours."""
    import onnx
    from onnx import numpy_helper
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(gru, (x, h0), buf, opset_version=14,
                          input_names=["X", "initial_h"], output_names=["Y", "Y_h"])
    model = onnx.load_from_string(buf.getvalue())
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    (node,) = [n for n in model.graph.node if n.op_type == "GRU"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["linear_before_reset"] == 1 and attrs["direction"] == b"bidirectional", attrs
    for pos, ours, what in ((1, W, "W"), (2, R, "R"), (3, B, "B")):
        theirs = inits[node.input[pos]]
        assert theirs.shape == ours.shape and np.array_equal(theirs, ours), \
            f"torch.onnx.export's {what} differs from our conversion"
    return (f"torch.onnx.export (opset 14) GRU node: linear_before_reset=1, direction=bidirectional, "
            f"W/R/B initializers bit-identical to our conversion")


def save_layout_case(path: Path, arrays: dict) -> Path:
    """np.savez_compressed after save_arrays' checks, but allowing '/' in Keras-style names."""
    for name, arr in arrays.items():
        assert isinstance(arr, np.ndarray) and arr.dtype.kind in "fiuU" and not arr.dtype.hasobject, name
    np.savez_compressed(path, **arrays)
    return path


def config_array(cfg: dict) -> np.ndarray:
    return np.array(json.dumps(cfg, ensure_ascii=True, sort_keys=True, allow_nan=False))


def onnx_samples() -> None:
    print("samples/ (ONNX layout):")
    seed = seeded(311)
    H = 5
    gru = nn.GRU(4, H, bidirectional=True)
    x = torch.randn(6, 3, 4)             # (T6, B3, I4)
    h0 = torch.randn(2, 3, H)
    lengths = np.array([6, 3, 5], dtype=np.int32)   # unsorted; padding keeps random input values
    plain = gru_case_arrays(gru, x, h0=h0)
    packed = gru_case_arrays(gru, x, h0=h0, lengths=torch.from_numpy(lengths.astype(np.int64)))

    w = weights_of(plain)
    W = np.stack([to_zrn(w["weight_ih_l0"]), to_zrn(w["weight_ih_l0_reverse"])])
    R = np.stack([to_zrn(w["weight_hh_l0"]), to_zrn(w["weight_hh_l0_reverse"])])
    B = np.stack([np.concatenate([to_zrn(w[f"bias_ih_l0{s}"]), to_zrn(w[f"bias_hh_l0{s}"])])
                  for s in ("", "_reverse")])
    X, initial_h = plain["input"], plain["h0"]

    # Validate the numpy ONNX GRU: linear_before_reset=1 must be PyTorch, with and without lengths.
    Y1, Yh1 = onnx_gru(X, W, R, B, initial_h, None, "bidirectional", 1)
    d_plain = max(max_abs(Y1, torch_to_onnx_y(plain["output"], H)), max_abs(Yh1, plain["h_n"]))
    Y1l, Yh1l = onnx_gru(X, W, R, B, initial_h, lengths, "bidirectional", 1)
    d_len = max(max_abs(Y1l, torch_to_onnx_y(packed["output"], H)), max_abs(Yh1l, packed["h_n"]))
    assert d_plain < VALIDATE_TOL and d_len < VALIDATE_TOL, (d_plain, d_len)
    print(f"  numpy ONNX GRU, linear_before_reset=1 vs PyTorch: {d_plain:.2e} (plain), "
          f"{d_len:.2e} (sequence_lens {lengths.tolist()} vs pack_padded_sequence)")
    print("  " + onnx_export_check(gru, x, h0, W, R, B))

    # onnx_lbr1: PyTorch's own packed run, in ONNX layout, with sequence_lens.
    Y = torch_to_onnx_y(packed["output"], H)
    for b, n in enumerate(lengths.tolist()):
        assert not Y[n:, :, b].any()                               # zeros past the length
        assert np.array_equal(packed["h_n"][1, b], Y[0, 1, b])     # reverse Y_h = state at t=0
        assert np.array_equal(packed["h_n"][0, b], Y[n - 1, 0, b])  # forward Y_h = state at len-1
    lbr1 = dict(X=X, W=W, R=R, B=B, sequence_lens=lengths, initial_h=initial_h, Y=Y,
                Y_h=packed["h_n"], config=config_array(dict(
                    layout="onnx", linear_before_reset=1, direction="bidirectional",
                    dtype="float32", seed=seed, torch_version=torch.__version__,
                    expected_from="pytorch",
                    description=(
                        "ONNX GRU operator layout (gates z|r|h) of a real PyTorch "
                        "nn.GRU(4, 5, bidirectional=True), T=6, B=3, sequence_lens [6, 3, 5]. "
                        "Y/Y_h are PyTorch's own (pack_padded_sequence run): Y is 0 past each "
                        "length, the reverse direction starts at len-1, Y_h is each sequence's "
                        "last valid state. W/R/B equal torch.onnx.export's initializers."))))
    save_layout_case(SAMPLES / "onnx_lbr1.npz", lbr1)

    # onnx_lbr0: the same weights and input, linear_before_reset=0, no sequence_lens.
    Y0, Yh0 = onnx_gru(X, W, R, B, initial_h, None, "bidirectional", 0)
    d_vs_lbr1 = max(max_abs(Y0, Y1), max_abs(Yh0, Yh1))
    assert d_vs_lbr1 > VISIBLE
    lbr0 = dict(X=X, W=W, R=R, B=B, initial_h=initial_h, Y=Y0, Y_h=Yh0, config=config_array(dict(
        layout="onnx", linear_before_reset=0, direction="bidirectional", dtype="float32",
        seed=seed, expected_from="numpy-onnx-reference",
        description=(
            "Same X, W, R, B, initial_h as onnx_lbr1.npz (no sequence_lens), but "
            "linear_before_reset=0: h = tanh(X W_h^T + (r * H) R_h^T + Rb_h + Wb_h). PyTorch "
            "cannot compute this; Y/Y_h come from a float64 numpy implementation of the ONNX "
            "equations that reproduces PyTorch to < 2e-6 when switched to linear_before_reset=1."))))
    save_layout_case(SAMPLES / "onnx_lbr0.npz", lbr0)
    print(f"  onnx_lbr1.npz (PyTorch's own, with sequence_lens), onnx_lbr0.npz (numpy; differs "
          f"from the lbr=1 run without lengths by {d_vs_lbr1:.3g})")


# =============================================================================================
# C. Keras GRU layer layout
# =============================================================================================

def keras_gru(inputs, h0, kernel, recurrent_kernel, bias, reset_after: bool):
    """Keras GRU (TF2 defaults: activation tanh, recurrent_activation sigmoid), batch-major.

    inputs [B, T, I], h0 [B, H], kernel [I, 3H], recurrent_kernel [H, 3H], gate columns z|r|h;
    bias [2, 3H] (input, recurrent) if reset_after else [3H]. Returns output [B, T, H], h_n [B, H].

      reset_after=True:  hh = tanh(x K_h + b_h + r ⊙ (h U_h + rb_h))
      reset_after=False: hh = tanh(x K_h + b_h + (r ⊙ h) U_h)
      h' = z ⊙ h + (1 − z) ⊙ hh
    """
    x_all = inputs.astype(np.float64)
    K, U = kernel.astype(np.float64), recurrent_kernel.astype(np.float64)
    H = U.shape[0]
    b = bias.astype(np.float64)
    in_b, rec_b = (b[0], b[1]) if reset_after else (b, np.zeros(3 * H))
    h = h0.astype(np.float64)
    out = np.empty(x_all.shape[:2] + (H,))
    for t in range(x_all.shape[1]):
        mx = x_all[:, t] @ K + in_b
        if reset_after:
            mh = h @ U + rec_b
            z = sigmoid(mx[:, :H] + mh[:, :H])
            r = sigmoid(mx[:, H:2 * H] + mh[:, H:2 * H])
            hh = np.tanh(mx[:, 2 * H:] + r * mh[:, 2 * H:])
        else:
            z = sigmoid(mx[:, :H] + h @ U[:, :H])
            r = sigmoid(mx[:, H:2 * H] + h @ U[:, H:2 * H])
            hh = np.tanh(mx[:, 2 * H:] + (r * h) @ U[:, 2 * H:])
        h = z * h + (1 - z) * hh
        out[:, t] = h
    return out.astype(np.float32), h.astype(np.float32)


def keras_samples() -> None:
    print("samples/ (Keras layout):")
    seed = seeded(321)
    gru = nn.GRU(4, 5, batch_first=True)
    x = torch.randn(3, 6, 4)             # (B3, T6, I4)
    h0 = torch.randn(1, 3, 5)
    a = gru_case_arrays(gru, x, h0=h0)
    kernel = np.ascontiguousarray(to_zrn(a["weight_ih_l0"]).T)
    recurrent_kernel = np.ascontiguousarray(to_zrn(a["weight_hh_l0"]).T)
    bias2 = np.stack([to_zrn(a["bias_ih_l0"]), to_zrn(a["bias_hh_l0"])])
    inputs, h0k = a["input"], a["h0"][0]

    out_t, hn_t = keras_gru(inputs, h0k, kernel, recurrent_kernel, bias2, True)
    d = max(max_abs(out_t, a["output"]), max_abs(hn_t, a["h_n"][0]))
    assert d < VALIDATE_TOL, d
    print(f"  numpy Keras GRU, reset_after=True vs PyTorch: {d:.2e}")

    common = {"input": inputs, "h0": h0k, "gru/kernel": kernel, "gru/recurrent_kernel": recurrent_kernel}
    save_layout_case(SAMPLES / "keras_reset_after.npz", {
        **common, "gru/bias": bias2, "output": a["output"], "h_n": a["h_n"][0],
        "config": config_array(dict(
            layout="keras", reset_after=True, dtype="float32", seed=seed,
            torch_version=torch.__version__, expected_from="pytorch",
            description=(
                "Keras GRU layer layout (gate columns z|r|h, batch-major) of a real PyTorch "
                "nn.GRU(4, 5, batch_first=True), B=3, T=6: kernel = W_ih reordered to z|r|n and "
                "transposed, recurrent_kernel likewise from W_hh, bias[0] = b_ih, bias[1] = b_hh "
                "(reordered). output/h_n are PyTorch's own (reset_after=True is PyTorch's math).")))})

    bias1 = to_zrn(a["bias_ih_l0"] + a["bias_hh_l0"])     # one bias: the two summed
    out_f, hn_f = keras_gru(inputs, h0k, kernel, recurrent_kernel, bias1, False)
    d_vs_after = max(max_abs(out_f, out_t), max_abs(hn_f, hn_t))
    assert d_vs_after > VISIBLE
    save_layout_case(SAMPLES / "keras_reset_before.npz", {
        **common, "gru/bias": bias1, "output": out_f, "h_n": hn_f,
        "config": config_array(dict(
            layout="keras", reset_after=False, dtype="float32", seed=seed,
            expected_from="numpy-keras-reference",
            description=(
                "Same input, h0, kernel, recurrent_kernel as keras_reset_after.npz; reset_after="
                "False with a single bias [3H] = b_ih + b_hh (reordered z|r|h): hh = tanh(x K_h + "
                "b_h + (r * h) U_h). PyTorch cannot compute this; output/h_n come from a float64 "
                "numpy implementation of the Keras equations that reproduces PyTorch to < 2e-6 "
                "when switched to reset_after=True.")))})
    print(f"  keras_reset_after.npz (PyTorch's own), keras_reset_before.npz (numpy; differs from "
          f"reset_after=True by {d_vs_after:.3g})")


def main() -> None:
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    rows, extras = ports()
    write_ports_docs(rows, extras)
    onnx_samples()
    keras_samples()
    for p in sorted([*PORTS.glob("*.npz"), *SAMPLES.glob("onnx_*.npz"), *SAMPLES.glob("keras_*.npz")]):
        size = p.stat().st_size
        assert size < 20_000, f"{p} is {size} bytes"
    print("all files < 20 KB")


if __name__ == "__main__":
    main()
