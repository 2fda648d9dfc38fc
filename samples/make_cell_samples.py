"""Regenerate the nn.GRUCell sample (samples/gru_cell.npz) and fixtures (test/fixtures/cells/).

Run with a Python that has real PyTorch (Debian's: ``/usr/bin/python3 samples/make_cell_samples.py``).
Every file depends only on its own seed; output is byte-for-byte reproducible on one machine
(single-threaded BLAS, numpy's fixed zip timestamps).

What it writes (issue 23):

* single calls, written by ``gru_dump.dump_gru_cell_case``: batched with a random hx
  (``samples/gru_cell.npz``, and the same bytes as ``cells/cell_batched.npz`` so the fixtures folder
  stands alone), unbatched, hx=None, bias=False;
* traces, written by ``gru_dump.record_gru_calls`` around a real greedy attention decoder
  (embedding -> GRUCell fed [embedding, attention context] -> linear -> argmax -> next input)
  that changes h between steps: ``h = LayerNorm(h_cell + W_c context + b_c)``, so no call's hx is
  the previous call's output. A batched trace (T=8, B=3) and an unbatched one (T=6, first call
  hx=None);
* ports: an independent numpy GRUCell (float64, cast to float32), written from PyTorch's
  documented equations, verified with no mistake against every case (< 2e-6), then re-run on
  each recorded call from its recorded hx with one planted mistake per candidate file, for the
  batched trace and the batched single call; plus a correct port;
* ``cells/manifest.json`` and ``cells/README.md`` from the same data.

Afterwards every case is reloaded with ``np.load(allow_pickle=False)``, a GRUCell is rebuilt from
the stored weights alone and every call is rerun by PyTorch from its stored input and hx.
"""

from __future__ import annotations

import os

# Before numpy / torch load OpenBLAS: one thread, so every run sums in the same order.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SAMPLES = Path(__file__).resolve().parent
ROOT = SAMPLES.parent
CELLS = ROOT / "test" / "fixtures" / "cells"
sys.path.insert(0, str(SAMPLES))
from gru_dump import (GruCallRecorder, dump_gru_cell_case, dump_port_outputs,  # noqa: E402
                      record_gru_calls)

torch.set_num_threads(1)

VALIDATE_TOL = 2e-6      # numpy GRUCell (no mistake) vs PyTorch
VISIBLE = 1e-3           # a planted mistake moves h by more than this, and away from every other
DEFAULT_TOL = dict(rtol=1.3e-6, atol=1e-5)   # gru-check's float32 defaults; the correct port passes


def seeded(seed: int) -> int:
    torch.manual_seed(seed)
    return seed


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def sig3(v: float) -> float:
    return float(f"{v:.3g}")


# =============================================================================================
# an independent numpy GRUCell, from the nn.GRUCell documentation, with one plantable mistake
# =============================================================================================
#   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
#   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
#   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
#   h' = (1 - z) * n + z * h
# weight_ih (3H, I) and weight_hh (3H, H) stack the gate blocks r|z|n; biases (3H,) likewise.

@dataclass(frozen=True)
class Mistake:
    gate_order: str = "rzn"        # the order the port believes the stacked blocks are in
    w_hh_transposed: bool = False  # each (H, H) block of weight_hh used transposed
    b_hh_dropped: bool = False
    reset_before: bool = False     # n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
    hx_ignored: bool = False       # zeros instead of the hx each call received
    update_inverted: bool = False  # h' = z * n + (1 - z) * h


NO_MISTAKE = Mistake()


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def blocks(w: np.ndarray, order: str) -> dict:
    return {gate: part for gate, part in zip(order, np.split(w, 3, axis=0))}


def np_cell(w: dict, x: np.ndarray, hx, m: Mistake = NO_MISTAKE) -> np.ndarray:
    """w: {'weight_ih', 'weight_hh'[, 'bias_ih', 'bias_hh']}; x (..., I); hx (..., H) or None.

    Any leading axes ((B,), (T, B), (T,), none) are independent calls. float64 inside, float32 out.
    """
    H = w["weight_hh"].shape[1]
    x = x.astype(np.float64)
    h = np.zeros(x.shape[:-1] + (H,)) if (hx is None or m.hx_ignored) else hx.astype(np.float64)
    Wi = blocks(w["weight_ih"].astype(np.float64), m.gate_order)
    Wh = blocks(w["weight_hh"].astype(np.float64), m.gate_order)
    if m.w_hh_transposed:
        Wh = {g: b.T for g, b in Wh.items()}
    zeros = np.zeros(3 * H)
    bi = blocks(w.get("bias_ih", zeros).astype(np.float64), m.gate_order)
    bh = blocks(zeros if m.b_hh_dropped else w.get("bias_hh", zeros).astype(np.float64), m.gate_order)
    r = sigmoid(x @ Wi["r"].T + bi["r"] + h @ Wh["r"].T + bh["r"])
    z = sigmoid(x @ Wi["z"].T + bi["z"] + h @ Wh["z"].T + bh["z"])
    if m.reset_before:
        n = np.tanh(x @ Wi["n"].T + bi["n"] + (r * h) @ Wh["n"].T + bh["n"])
    else:
        n = np.tanh(x @ Wi["n"].T + bi["n"] + r * (h @ Wh["n"].T + bh["n"]))
    out = z * n + (1 - z) * h if m.update_inverted else (1 - z) * n + z * h
    return out.astype(np.float32)


# (diagnose name, Mistake, what was planted)
PORTS = [
    ("gate-order:zrn", Mistake(gate_order="zrn"),
     "weight_ih/weight_hh/bias_ih/bias_hh read as stacked blocks z|r|n instead of r|z|n"),
    ("w_hh-transposed", Mistake(w_hh_transposed=True),
     "each (H, H) gate block of weight_hh used transposed (h @ W_hh_g instead of W_hh_g @ h)"),
    ("b_hh-dropped", Mistake(b_hh_dropped=True), "bias_hh left out of all three gates"),
    ("reset-before-matmul", Mistake(reset_before=True),
     "n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)  (reset applied before the recurrent matmul)"),
    ("h0-ignored", Mistake(hx_ignored=True),
     "every call computed from zeros instead of the hx it received"),
    ("update-gate-inverted", Mistake(update_inverted=True), "h' = z * n + (1 - z) * h"),
]


def weights_of(arrays: dict) -> dict:
    """Strip the module prefix: 'decoder.cell.weight_ih' -> 'weight_ih'."""
    out = {}
    for k, v in arrays.items():
        base = k.rsplit(".", 1)[-1]
        if base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            out[base] = v
    return out


def load(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# =============================================================================================
# a real greedy attention decoder (seq2seq) whose GRUCell the recorder hooks
# =============================================================================================

class Encoder(nn.Module):
    def __init__(self, vocab: int, emb: int, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)

    def forward(self, src):                       # src (B, S) or (S,) token ids
        return self.rnn(self.embedding(src))      # enc (B, S, E) / (S, E), h_n (1, B, E) / (1, E)


class AttnDecoder(nn.Module):
    """Luong-style step: attend with the current h, feed [embedding, context] to the cell, predict
    from [h_cell, context], then h = LayerNorm(h_cell + W_c context + b_c) for the next step."""

    def __init__(self, vocab: int, emb: int, enc_dim: int, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.query = nn.Linear(hidden, enc_dim, bias=False)
        self.cell = nn.GRUCell(emb + enc_dim, hidden)
        self.ctx_proj = nn.Linear(enc_dim, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden + enc_dim, vocab)

    def attend(self, h, enc):                     # h (..., H), enc (..., S, E); any leading axes
        if h is None:                             # first step without a state: mean pooling
            return enc.mean(-2)
        scores = torch.einsum("...se,...e->...s", enc, self.query(h))
        return torch.einsum("...s,...se->...e", F.softmax(scores, dim=-1), enc)

    def step(self, tok, h, enc):
        ctx = self.attend(h, enc)
        h_cell = self.cell(torch.cat([self.embedding(tok), ctx], dim=-1), h)
        logits = self.out(torch.cat([h_cell, ctx], dim=-1))
        h_next = self.norm(h_cell + self.ctx_proj(ctx))   # so the next call's hx != h_cell
        return logits, h_next


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab=9, tgt_vocab=7, emb=4, enc_dim=6, hidden=5):
        super().__init__()
        self.encoder = Encoder(src_vocab, emb, enc_dim)
        self.bridge = nn.Linear(enc_dim, hidden)
        self.decoder = AttnDecoder(tgt_vocab, emb, enc_dim, hidden)

    @torch.no_grad()
    def greedy_decode(self, src, max_len: int, bos: int = 0, init_state: bool = True):
        enc, enc_h = self.encoder(src)
        h = torch.tanh(self.bridge(enc_h[-1])) if init_state else None
        tok = torch.full(src.shape[:-1], bos, dtype=torch.long)
        tokens = []
        for _ in range(max_len):
            logits, h = self.decoder.step(tok, h, enc)
            tok = logits.argmax(-1)
            tokens.append(tok)
        return torch.stack(tokens, dim=-1)


# =============================================================================================
# builders
# =============================================================================================

CASES: list = []        # manifest rows for cases
CANDIDATES: list = []   # manifest rows for candidates


def shapes(arrays: dict) -> dict:
    return {k: list(v.shape) for k, v in arrays.items() if k != "config"}


def add_case(path: Path, arrays: dict, note: str) -> None:
    cfg = json.loads(str(arrays["config"]))
    w = weights_of(arrays)
    # The numpy cell with no mistake must reproduce PyTorch on every recorded call.
    d = max_abs(np_cell(w, arrays["input"], arrays.get("hx")), arrays["h"])
    assert d < VALIDATE_TOL, f"numpy GRUCell does not reproduce PyTorch on {path.name}: {d:.3g}"
    trace = bool(cfg.get("trace", False))
    prefix = next(k for k in arrays if k.endswith("weight_ih"))[: -len("weight_ih")].rstrip(".")
    CASES.append(dict(
        file=path.name, kind="case", trace=trace,
        unbatched=arrays["input"].ndim == (2 if trace else 1),
        hx="given" if "hx" in arrays else "absent (zeros)", bias="bias_ih" in w, prefix=prefix,
        shapes=shapes(arrays), config=cfg, note=note,
        expect=dict(run="pass", diagnose=None),
        numpy_vs_pytorch=sig3(d)))
    print(f"  {path.name}: {', '.join(f'{k}{tuple(v)}' for k, v in shapes(arrays).items())}; "
          f"numpy GRUCell vs PyTorch {d:.2e}")


def single_calls() -> None:
    print("single calls:")
    seed = seeded(401)
    cell = nn.GRUCell(6, 5)
    x, hx = torch.randn(3, 6), torch.randn(3, 5)
    cfg = dict(seed=seed, description="nn.GRUCell(6, 5), one batched call: input (B3, I6), random hx "
                                      "(3, 5), default (non-zero) biases")
    sample = dump_gru_cell_case(SAMPLES / "gru_cell.npz", cell, x, hx=hx, config=cfg)
    copy = dump_gru_cell_case(CELLS / "cell_batched.npz", cell, x, hx=hx, config=cfg)
    assert sample.read_bytes() == copy.read_bytes(), "cell_batched.npz must equal samples/gru_cell.npz"
    add_case(copy, load(copy), "byte-identical to samples/gru_cell.npz")

    seed = seeded(402)
    cell = nn.GRUCell(4, 6)
    path = dump_gru_cell_case(CELLS / "cell_unbatched.npz", cell, torch.randn(4), hx=torch.randn(6),
                              config=dict(seed=seed, description="nn.GRUCell(4, 6), one unbatched call: "
                                                                 "input (I4,), hx (6,)"))
    add_case(path, load(path), "")

    seed = seeded(403)
    cell = nn.GRUCell(5, 4)
    path = dump_gru_cell_case(CELLS / "cell_hx_none.npz", cell, torch.randn(3, 5),
                              config=dict(seed=seed, description="nn.GRUCell(5, 4) called with hx=None "
                                                                 "(zeros): no hx array"))
    add_case(path, load(path), "")

    seed = seeded(404)
    cell = nn.GRUCell(6, 5, bias=False)
    path = dump_gru_cell_case(CELLS / "cell_no_bias.npz", cell, torch.randn(3, 6), hx=torch.randn(3, 5),
                              config=dict(seed=seed, description="nn.GRUCell(6, 5, bias=False), batched "
                                                                 "call, random hx: no bias arrays"))
    add_case(path, load(path), "")


def traces() -> None:
    print("traces (record_gru_calls around Seq2Seq.greedy_decode):")
    seed = seeded(411)
    model = Seq2Seq().eval()
    src = torch.randint(1, 9, (3, 6))                           # B=3 source sentences of 6 tokens
    path = CELLS / "trace_batched.npz"
    tokens = record_gru_calls(
        model, lambda: model.greedy_decode(src, max_len=8), path, module="decoder.cell",
        config=dict(seed=seed, description=(
            "Greedy attention decoder (embedding -> GRUCell(10, 5) on [embedding(4), attention "
            "context(6)] -> linear -> argmax), B=3, 8 steps, recorded with record_gru_calls. Between "
            "steps h = LayerNorm(h_cell + W_c context + b_c), so each hx differs from the previous h.")))
    arrays = load(path)
    check_modified_between_steps(arrays)
    add_case(path, arrays, f"greedy tokens {tokens.tolist()}; hx[0] = tanh(bridge(encoder h_n)); "
                           f"hx[t] = LayerNorm(h[t-1] + W_c ctx[t-1] + b_c) for t >= 1")

    seed = seeded(412)
    model = Seq2Seq().eval()
    src = torch.randint(1, 9, (5,))                             # one unbatched source sentence
    with GruCallRecorder(model) as rec:                         # found by type: the only GRUCell
        tokens = model.greedy_decode(src, max_len=6, init_state=False)
    assert rec.prefix == "decoder.cell" and not rec.calls[0]["hx_given"]
    assert all(c["hx_given"] for c in rec.calls[1:])
    path = rec.save(CELLS / "trace_unbatched.npz", config=dict(seed=seed, description=(
        "The same decoder, unbatched (source (S5,), tokens ()), 6 steps; the first call got "
        "hx=None (hx[0] is zeros), later ones LayerNorm(h[t-1] + W_c context + b_c).")))
    arrays = load(path)
    assert not arrays["hx"][0].any()
    check_modified_between_steps(arrays)
    add_case(path, arrays, f"greedy tokens {tokens.tolist()}; call 0 got hx=None (stored as zeros)")


def check_modified_between_steps(arrays: dict) -> None:
    hx, h = arrays["hx"], arrays["h"]
    gap = max_abs(hx[1:], h[:-1])
    assert gap > 0.1, f"hx[t] is (nearly) h[t-1]: {gap}"
    print(f"    max |hx[t] - h[t-1]| = {gap:.3g} (the decoder changes h between steps)")


def ports(base_file: str, stem: str) -> None:
    base = load(CELLS / base_file)
    w, x, hx, h = weights_of(base), base["input"], base.get("hx"), base["h"]
    print(f"ports on {base_file}:")
    made = []
    for name, mistake, planted in PORTS:
        cand = np_cell(w, x, hx, mistake)
        d = max_abs(cand, h)
        assert d > VISIBLE, f"{name} is invisible on {base_file}: {d}"
        made.append((name, cand))
        fname = f"{stem}_{name.replace(':', '_')}.npz"
        dump_port_outputs(CELLS / fname, h=cand)
        CANDIDATES.append(dict(file=fname, kind="candidate", case=base_file, shapes={"h": list(cand.shape)},
                               planted=planted, expect=dict(run="fail", diagnose=name),
                               max_abs_diff=sig3(d)))
        print(f"  {fname:38s} max|candidate - PyTorch| {d:.3g}")
    worst = min((max_abs(a, b), f"{na} / {nb}") for i, (na, a) in enumerate(made) for nb, b in made[i + 1:])
    assert worst[0] > VISIBLE, f"two planted ports coincide on {base_file}: {worst}"
    print(f"  closest pair of planted ports: {worst[1]} ({worst[0]:.3g})")

    cand = np_cell(w, x, hx)
    d = max_abs(cand, h)
    ok = np.allclose(cand, h, rtol=DEFAULT_TOL["rtol"], atol=DEFAULT_TOL["atol"])
    assert ok and d < VALIDATE_TOL
    fname = f"{stem}_correct.npz"
    dump_port_outputs(CELLS / fname, h=cand)
    changed = int((cand != h).sum())
    CANDIDATES.append(dict(file=fname, kind="candidate", case=base_file, shapes={"h": list(cand.shape)},
                           planted=None, expect=dict(run="pass", diagnose=None), max_abs_diff=sig3(d),
                           note=f"the numpy GRUCell with no mistake, float64 cast to float32 "
                                f"({changed} of {cand.size} values differ from PyTorch's float32)"))
    print(f"  {fname:38s} max|candidate - PyTorch| {d:.3g} (passes rtol 1.3e-6, atol 1e-5)")


# =============================================================================================
# verification: rebuild each GRUCell from the stored weights alone and rerun every call
# =============================================================================================

def verify() -> None:
    print("verify (np.load(allow_pickle=False), GRUCell rebuilt from stored weights, every call rerun):")
    allowed = {"trace", "torch_version", "dtype", "seed", "description"}
    for row in CASES:
        a = load(CELLS / row["file"])
        cfg = json.loads(str(a["config"]))
        assert a["config"].shape == () and a["config"].dtype.kind == "U" and set(cfg) <= allowed, cfg
        w = weights_of(a)
        H, I = w["weight_hh"].shape[1], w["weight_ih"].shape[1]
        assert I != H, row["file"]
        cell = nn.GRUCell(I, H, bias="bias_ih" in w)
        cell.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
        calls = range(a["input"].shape[0]) if cfg.get("trace") else [None]
        for t in calls:
            x = a["input"] if t is None else a["input"][t]
            hx = a.get("hx") if t is None else a["hx"][t]
            with torch.no_grad():
                h = cell(torch.from_numpy(x), None if hx is None else torch.from_numpy(hx)).numpy()
            assert np.array_equal(h, a["h"] if t is None else a["h"][t]), (row["file"], t)
        print(f"  {row['file']}: {len(calls)} call(s) rerun, bit-identical")
    for row in CANDIDATES:
        a = load(CELLS / row["file"])
        assert list(a) == ["h"] and list(a["h"].shape) == row["shapes"]["h"] and a["h"].dtype == np.float32


# =============================================================================================
# manifest and README
# =============================================================================================

def write_docs() -> None:
    manifest = dict(
        generated_by="samples/make_cell_samples.py",
        regenerate="/usr/bin/python3 samples/make_cell_samples.py",
        torch_version=torch.__version__,
        notes=[
            "kind 'case': a GRUCell case (one call) or trace (config.trace true); gru-check run <file> "
            "passes (expect.run). kind 'candidate': a port's h for gru-check run <case> --candidate <file>.",
            "shapes: every array but config. Weights keep nn.GRUCell's names, under 'prefix' when not empty.",
            "expect.diagnose: the variant gru-check diagnose should name (null: nothing to name).",
            "max_abs_diff: max |candidate h - PyTorch h| over every call, computed in numpy (3 significant digits).",
            "Planted ports re-run each recorded call from its recorded hx (the numpy GRUCell, float64 -> float32) "
            "with one mistake; each moves h by > 1e-3 and is > 1e-3 from every other planted port on the same case.",
            "numpy_vs_pytorch: the numpy GRUCell with no mistake against PyTorch's h on that case (asserted < 2e-6).",
        ],
        default_tolerances=dict(float32=DEFAULT_TOL),
        files=CASES + CANDIDATES,
    )
    (CELLS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    def shp(row):
        return ", ".join(f"`{k}` {tuple(v)}" for k, v in row["shapes"].items())

    lines = [
        "# GRUCell fixtures (issue 23)",
        "",
        "Generated by `samples/make_cell_samples.py` from real PyTorch "
        f"({torch.__version__}); never edit by hand, regenerate with",
        "`/usr/bin/python3 samples/make_cell_samples.py`. Everything below is also in `manifest.json`.",
        "",
        "## Cases",
        "",
        "Weights keep `nn.GRUCell`'s names (`weight_ih` (3H, I), `weight_hh` (3H, H), `bias_ih`,",
        "`bias_hh` (3H,), gate blocks r|z|n), under the module prefix where one is shown. A trace",
        "(`config` `{\"trace\": true}`) stacks T calls: `input` (T, B, I) / (T, I), `hx` as each call",
        "received it (zeros where it got `None`), `h` each call's output. Every case passes `gru-check run`.",
        "",
        "| file | prefix | arrays | what it shows |",
        "|---|---|---|---|",
    ]
    for r in CASES:
        lines.append(f"| `{r['file']}` | {('`' + r['prefix'] + '`') if r['prefix'] else '—'} | {shp(r)} | "
                     f"{r['config']['description'].rstrip('.')}{'; ' + r['note'] if r['note'] else ''}. |")
    lines += [
        "",
        "The decoder (`Seq2Seq` in the generator): a GRU encoder over the source tokens; each decoder",
        "step attends over the fixed encoder outputs with the current h (dot product through a",
        "linear query), calls `cell([embedding(token), context], h)`, predicts the next token from",
        "`[h_cell, context]` by argmax, and sets `h = LayerNorm(h_cell + W_c context + b_c)` for the",
        "next step — so no call's hx is the previous call's h (the generator asserts a gap > 0.1).",
        "The traces were written by `record_gru_calls` / `GruCallRecorder` from `samples/gru_dump.py`.",
        "",
        "## Candidates",
        "",
        "Each holds only `h`, float32, in its case's shape: `gru-check run <case> --candidate <file>`.",
        "The planted ports come from a numpy GRUCell written from PyTorch's documented equations",
        "(float64, cast to float32) that reproduces every case above to < 2e-6 with no mistake,",
        "re-run on every call from its recorded hx with exactly one mistake.",
        "",
        "| file | case | planted | run | diagnose | max abs diff |",
        "|---|---|---|---|---|---|",
    ]
    for r in CANDIDATES:
        planted = (r["planted"] or "nothing (" + r["note"] + ")").replace("|", "\\|")
        diag = f"`{r['expect']['diagnose']}`" if r["expect"]["diagnose"] else "—"
        lines.append(f"| `{r['file']}` | `{r['case']}` | {planted} | {r['expect']['run']} | {diag} | "
                     f"{r['max_abs_diff']:.3g} |")
    lines += [
        "",
        "`h0-ignored` on a trace means every call ignored its hx (the port never passed the decoder's",
        "state to the cell), not only the first. `w_hh-transposed` transposes each (H, H) gate block.",
        "",
    ]
    (CELLS / "README.md").write_text("\n".join(lines))


def main() -> None:
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    CELLS.mkdir(parents=True, exist_ok=True)
    single_calls()
    traces()
    ports("trace_batched.npz", "trace")
    ports("cell_batched.npz", "cell")
    verify()
    write_docs()
    for p in sorted(CELLS.glob("*.npz")):
        assert p.stat().st_size < 20_000, p
    print(f"wrote {len(CASES)} cases, {len(CANDIDATES)} candidates, manifest.json, README.md")


if __name__ == "__main__":
    main()
