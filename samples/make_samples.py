"""Regenerate gru-check's sample cases (samples/) and test fixtures (test/fixtures/cases/).

Run with a Python that has real PyTorch (Debian's: ``/usr/bin/python3 samples/make_samples.py``).
Every case seeds torch right before building its module and data, so each file depends only on
its own seed (adding or reordering cases never changes the others).

The files are never edited by hand: fixtures that must be "wrong" in a particular way (altered
value, missing array, big-endian, Fortran order, extra arrays) are made here, from a real PyTorch
run, by transforming the arrays gru_dump.gru_case_arrays returned.

Not generated: float16. PyTorch 1.13's CPU GRU cannot run in half precision ("addmm_impl_cpu_"
not implemented for 'Half'), and a float16 case computed in float32 then cast would not be a real
PyTorch half run.

After writing, every file is reloaded with np.load(allow_pickle=False), the GRU is rebuilt from
the stored weights alone and rerun by PyTorch, and the stored output/h_n are compared -- so a
layout or naming slip here shows up before gru-check ever sees the file.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

SAMPLES = Path(__file__).resolve().parent
FIXTURES = SAMPLES.parent / "test" / "fixtures" / "cases"
sys.path.insert(0, str(SAMPLES))
from gru_dump import gru_case_arrays, save_arrays  # noqa: E402  (needs the path above)

# One thread: the same file on every run of this script on this machine (multi-threaded BLAS
# may split reductions differently).
torch.set_num_threads(1)

# name -> dict(path, prefix, batch_first, expect, weights_path) filled by the builders and read
# by verify(); "expect" is "pass" or "fail" for the torch rerun of the stored weights.
WRITTEN: list = []


def record(path: Path, *, expect: str = "pass", prefix: str = "", batch_first=None,
           weights: Path | None = None, note: str = "") -> None:
    WRITTEN.append(dict(path=path, expect=expect, prefix=prefix, batch_first=batch_first,
                        weights=weights, note=note))


def seeded(seed: int) -> int:
    torch.manual_seed(seed)
    return seed


def sanity(name: str, arrays: dict) -> None:
    """Print what PyTorch produced, so a degenerate (all-zero, saturated) case is visible."""
    parts = []
    for key in ("input", "h0", "output", "h_n"):
        if key in arrays:
            a = arrays[key]
            parts.append(f"{key}{tuple(a.shape)} max|.|={np.abs(a).max():.4f}")
    biases = [k for k in arrays if ".bias_" in "." + k or k.startswith("bias_")]
    if biases:
        parts.append(f"min|bias|={min(np.abs(arrays[k]).min() for k in biases):.2e}")
    if "lengths" in arrays:
        parts.append(f"lengths={arrays['lengths'].tolist()}")
    print(f"  {name}: " + ", ".join(parts))


# ---------------------------------------------------------------------------------------------
# samples/
# ---------------------------------------------------------------------------------------------

def classic_batch_first():
    seed = seeded(1)
    gru = nn.GRU(input_size=4, hidden_size=5, batch_first=True)
    x = torch.randn(2, 3, 4)          # (B=2, T=3, I=4), the tutorial's shape
    h0 = torch.randn(1, 2, 5)         # random, not zeros: a zero h0 hides W_hh/b_hh bugs
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description="Tutorial-sized GRU(4, 5, batch_first=True), B=2, T=3, random h0."))
    sanity("classic_batch_first", arrays)
    record(save_arrays(SAMPLES / "classic_batch_first.npz", arrays), batch_first=True)


def bidir_2layer():
    seed = seeded(2)
    gru = nn.GRU(6, 5, num_layers=2, bidirectional=True)
    x = torch.randn(7, 3, 6)          # seq-first (T=7, B=3, I=6)
    h0 = torch.randn(4, 3, 5)         # (L*D=4, B, H)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description="GRU(6, 5, num_layers=2, bidirectional=True), seq-first, T=7, B=3."))
    sanity("bidir_2layer", arrays)
    record(save_arrays(SAMPLES / "bidir_2layer.npz", arrays), batch_first=False)


def no_bias():
    seed = seeded(3)
    gru = nn.GRU(3, 4, bias=False, batch_first=True)
    x = torch.randn(3, 5, 3)
    h0 = torch.randn(1, 3, 4)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description="GRU(3, 4, bias=False, batch_first=True): no bias_* arrays at all."))
    sanity("no_bias", arrays)
    record(save_arrays(SAMPLES / "no_bias.npz", arrays), batch_first=True)


def unbatched():
    seed = seeded(4)
    gru = nn.GRU(4, 3, num_layers=2)
    x = torch.randn(6, 4)             # (T, I): no batch axis
    h0 = torch.randn(2, 3)            # (L*D, H)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description="GRU(4, 3, num_layers=2) on unbatched input (T=6, I=4)."))
    sanity("unbatched", arrays)
    record(save_arrays(SAMPLES / "unbatched.npz", arrays), batch_first=False)


def float64():
    seed = seeded(5)
    gru = nn.GRU(5, 4, bidirectional=True).double()
    x = torch.randn(6, 3, 5, dtype=torch.float64)
    h0 = torch.randn(2, 3, 4, dtype=torch.float64)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description="GRU(5, 4, bidirectional=True).double(): every array float64."))
    sanity("float64", arrays)
    record(save_arrays(SAMPLES / "float64.npz", arrays), batch_first=False)


def lengths_case():
    seed = seeded(6)
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(4, 7, 3)          # padded steps keep random values on purpose: never read
    h0 = torch.randn(4, 4, 4)
    lengths = torch.tensor([5, 2, 7, 4])  # unsorted: exercises enforce_sorted=False
    arrays = gru_case_arrays(gru, x, h0=h0, lengths=lengths, config=dict(
        seed=seed, description=(
            "GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True) with unsorted "
            "lengths [5, 2, 7, 4], T=7: output is zero at t >= length, h_n is each sequence's "
            "last valid state (backward direction: its state after reaching t=0). Input padding "
            "holds random values that must be ignored.")))
    sanity("lengths", arrays)
    check_lengths_semantics(arrays, batch_first=True, num_layers=2, hidden=4)
    record(save_arrays(SAMPLES / "lengths.npz", arrays), batch_first=True)


def check_lengths_semantics(arrays: dict, *, batch_first: bool, num_layers: int, hidden: int):
    """Assert what pad_packed/h_n mean for a bidirectional packed run (documented in README)."""
    out = arrays["output"] if batch_first else arrays["output"].transpose(1, 0, 2)  # (B, T, 2H)
    h_n = arrays["h_n"].reshape(num_layers, 2, -1, hidden)[-1]                    # last layer
    for b, n in enumerate(arrays["lengths"].tolist()):
        assert not out[b, n:].any(), "output must be exactly zero at t >= length"
        assert np.array_equal(h_n[0, b], out[b, n - 1, :hidden]), "forward h_n = output[len-1]"
        assert np.array_equal(h_n[1, b], out[b, 0, hidden:]), "backward h_n = output[0]"
    print("    lengths: zeros after each length; h_n fwd == output[len-1, :H], "
          "h_n bwd == output[0, H:] (exact)")


def mismatch():
    seed = seeded(7)
    gru = nn.GRU(3, 4)
    x = torch.randn(4, 3, 3)          # (T=4, B=3, I=3), seq-first
    h0 = torch.randn(1, 3, 4)
    where = (2, 1, 3)                 # output[t=2, b=1, h=3]
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description=(
            "Deliberately wrong: GRU(3, 4), seq-first T=4, B=3. After the PyTorch run, expected "
            "output[2, 1, 3] (t=2, b=1, h=3) was increased by 1e-3 (in float32); h_n is untouched. "
            "gru-check must report exactly this one element of output as mismatched.")))
    before = arrays["output"][where]
    arrays["output"][where] += np.float32(1e-3)
    print(f"    mismatch: output{list(where)} {before:.7f} -> {arrays['output'][where]:.7f}")
    sanity("mismatch", arrays)
    record(save_arrays(SAMPLES / "mismatch.npz", arrays), expect="fail", batch_first=False,
           note="output[2,1,3] +1e-3")


# ---------------------------------------------------------------------------------------------
# test/fixtures/cases/
# ---------------------------------------------------------------------------------------------

class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.rnn = nn.GRU(4, 6, batch_first=True)


class _Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 10)


class _Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = _Encoder()
        self.decoder = _Decoder()


def prefixed():
    seed = seeded(101)
    model = _Seq2Seq()
    tokens = torch.randint(0, 10, (3, 5))
    with torch.no_grad():
        x = model.encoder.embedding(tokens)   # (B=3, T=5, I=4): the GRU's real input
    h0 = torch.randn(1, 3, 6)
    arrays = gru_case_arrays(model.encoder.rnn, x, h0=h0, prefix="encoder.rnn", config=dict(
        seed=seed, description=(
            "Whole-model state_dict: GRU weights under 'encoder.rnn.' plus unrelated "
            "encoder.embedding.weight, decoder.fc.weight, decoder.fc.bias that must be ignored.")))
    full = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    for k, v in full.items():
        if k.startswith("encoder.rnn."):
            assert np.array_equal(v, arrays[k]), k   # prefix really is the model's own name
        else:
            arrays[k] = v
    sanity("prefixed", arrays)
    record(save_arrays(FIXTURES / "prefixed.npz", arrays), prefix="encoder.rnn.", batch_first=True)


def two_grus():
    seed = seeded(102)
    enc = nn.GRU(4, 5, batch_first=True)
    dec = nn.GRU(5, 6, batch_first=True)  # other sizes: --prefix dec must fail on shapes
    x = torch.randn(3, 6, 4)
    h0 = torch.randn(1, 3, 5)
    arrays = gru_case_arrays(enc, x, h0=h0, prefix="enc", config=dict(
        seed=seed, description=(
            "Two GRUs: 'enc.' GRU(4, 5) and 'dec.' GRU(5, 6), both batch_first. input/output/h_n "
            "belong to enc. Without --prefix gru-check must refuse (ambiguous); --prefix enc passes; "
            "--prefix dec is a shape mismatch.")))
    cfg = arrays.pop("config")            # keep config last, after both state dicts
    for k, v in dec.state_dict().items():
        arrays["dec." + k] = v.detach().numpy()
    arrays["config"] = cfg
    sanity("two_grus", arrays)
    record(save_arrays(FIXTURES / "two_grus.npz", arrays), prefix="enc.", batch_first=True,
           note="needs --prefix enc")


def dir_case():
    seed = seeded(103)
    gru = nn.GRU(3, 5, num_layers=2)      # seq-first, T=6 != B=4: layout readable from shapes
    x = torch.randn(6, 4, 3)
    h0 = torch.randn(2, 4, 5)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(seed=seed))
    sanity("dir_case", arrays)
    d = FIXTURES / "dir_case"
    if d.exists():
        shutil.rmtree(d)                  # stale .npy files would become extra arrays
    d.mkdir(parents=True)
    for name in ("input", "h0", "output", "h_n"):
        np.save(d / f"{name}.npy", arrays[name], allow_pickle=False)
    weights = {k: v for k, v in arrays.items() if k.startswith(("weight_", "bias_"))}
    wpath = save_arrays(FIXTURES / "dir_case_weights.npz", weights)
    record(d, batch_first=False, weights=wpath, note="needs --weights dir_case_weights.npz")


def ambiguous():
    # batch_first=True with B == T == 3 and no h0: input (3, 3, 2), output (3, 3, 4), h_n (1, 3, 4)
    # read the same either way. batch_first=True (not PyTorch's default) so a tool that silently
    # assumes seq-first gets wrong numbers instead of passing by luck.
    seed = seeded(104)
    gru = nn.GRU(2, 4, batch_first=True)
    x = torch.randn(3, 3, 2)
    arrays = gru_case_arrays(gru, x, config=dict(
        seed=seed, description="B == T == 3, no h0: only config tells the layout (batch_first)."))
    sanity("ambiguous", arrays)
    no_cfg = {k: v for k, v in arrays.items() if k != "config"}
    record(save_arrays(FIXTURES / "ambiguous.npz", no_cfg), batch_first=True,
           note="layout undecidable; wrong layout must not match")
    record(save_arrays(FIXTURES / "ambiguous_with_config.npz", arrays), batch_first=True)


def only_h_n_and_output():
    seed = seeded(105)
    gru = nn.GRU(2, 5, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(3, 4, 2)
    h0 = torch.randn(4, 3, 5)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(seed=seed))
    sanity("only_h_n/only_output", arrays)
    for drop, name in (("output", "only_h_n"), ("h_n", "only_output")):
        a = {k: v for k, v in arrays.items() if k != drop}
        cfg = json.loads(str(a["config"]))
        cfg["description"] = (f"GRU(2, 5, num_layers=2, bidirectional=True, batch_first=True); "
                              f"expected '{drop}' deliberately absent: check only what is present.")
        a["config"] = np.array(json.dumps(cfg, sort_keys=True))
        record(save_arrays(FIXTURES / f"{name}.npz", a), batch_first=True)


def big_endian_fortran():
    seed = seeded(106)
    gru = nn.GRU(4, 5, num_layers=2, bidirectional=True)
    x = torch.randn(5, 3, 4)
    h0 = torch.randn(4, 3, 5)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description=(
            "Real run of GRU(4, 5, num_layers=2, bidirectional=True), seq-first, stored with every "
            "float array big-endian ('>f4'); input, h_n, weight_ih_l0 and weight_hh_l1_reverse "
            "also in Fortran order. Values equal the PyTorch run exactly.")))
    sanity("big_endian_fortran", arrays)
    fortran = {"input", "h_n", "weight_ih_l0", "weight_hh_l1_reverse"}
    for k, v in list(arrays.items()):
        if v.dtype.kind != "f":
            continue
        be = v.astype(">f4")                      # same values, bytes swapped on disk
        arrays[k] = np.asfortranarray(be) if k in fortran else be
    record(save_arrays(FIXTURES / "big_endian_fortran.npz", arrays), batch_first=False)


def layers3_bidir_nobias():
    seed = seeded(107)
    gru = nn.GRU(2, 6, num_layers=3, bidirectional=True, bias=False)
    x = torch.randn(4, 3, 2)
    h0 = torch.randn(6, 3, 6)
    arrays = gru_case_arrays(gru, x, h0=h0, config=dict(
        seed=seed, description="GRU(2, 6, num_layers=3, bidirectional=True, bias=False), seq-first."))
    sanity("layers3_bidir_nobias", arrays)
    record(save_arrays(FIXTURES / "layers3_bidir_nobias.npz", arrays), batch_first=False)


# ---------------------------------------------------------------------------------------------
# verification: reload each file the way gru-check must, rebuild the GRU, rerun in PyTorch
# ---------------------------------------------------------------------------------------------

def load_case(path: Path, weights: Path | None) -> dict:
    """np.load(allow_pickle=False) of an .npz or a directory of .npy (+ optional weights .npz)."""
    arrays = {}
    if path.is_dir():
        for f in sorted(path.glob("*.npy")):
            arrays[f.stem] = np.load(f, allow_pickle=False)
    else:
        with np.load(path, allow_pickle=False) as z:
            arrays.update({k: z[k] for k in z.files})
    if weights is not None:
        with np.load(weights, allow_pickle=False) as z:
            arrays.update({k: z[k] for k in z.files})
    for k, v in arrays.items():
        assert v.dtype.kind in "fiuU" and not v.dtype.hasobject, f"{path}:{k} has dtype {v.dtype}"
    return arrays


def member_headers(path: Path) -> dict:
    """{name: (descr, fortran_order)} straight from the .npy headers inside the zip."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                hdr = np.lib.format._read_array_header(f, version)  # (shape, fortran, dtype)
                out[info.filename[:-4]] = (hdr[2].str, hdr[1])
    return out


def native(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("=")))


def rerun(arrays: dict, prefix: str, batch_first: bool):
    """Rebuild an nn.GRU from the stored weights only and run it on the stored input."""
    w = {k[len(prefix):]: native(v) for k, v in arrays.items()
         if k.startswith(prefix) and k[len(prefix):].startswith(("weight_", "bias_"))}
    w_ih0 = w["weight_ih_l0"]
    hidden, inp = w_ih0.shape[0] // 3, w_ih0.shape[1]
    layers = sum(1 for k in w if k.startswith("weight_ih_l") and not k.endswith("_reverse"))
    gru = nn.GRU(inp, hidden, num_layers=layers, bidirectional="weight_ih_l0_reverse" in w,
                 bias="bias_ih_l0" in w, batch_first=batch_first).to(torch.from_numpy(w_ih0).dtype)
    gru.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=True)
    gru.eval()
    x = torch.from_numpy(native(arrays["input"]))
    h0 = torch.from_numpy(native(arrays["h0"])) if "h0" in arrays else None
    with torch.no_grad():
        if "lengths" in arrays:
            T = x.shape[1 if batch_first else 0]
            packed = pack_padded_sequence(x, torch.from_numpy(native(arrays["lengths"])),
                                          batch_first=batch_first, enforce_sorted=False)
            out, h_n = gru(packed, h0)
            out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
        else:
            out, h_n = gru(x, h0)
    return out.numpy(), h_n.numpy()


def max_diff(arrays: dict, out, h_n) -> float:
    d = 0.0
    if "output" in arrays:
        d = max(d, float(np.abs(native(arrays["output"]).astype(np.float64) - out).max()))
    if "h_n" in arrays:
        d = max(d, float(np.abs(native(arrays["h_n"]).astype(np.float64) - h_n).max()))
    return d


def verify() -> None:
    print("\nverify (reload with allow_pickle=False, rebuild GRU from stored weights, rerun):")
    root = SAMPLES.parent
    for rec in WRITTEN:
        path, weights = rec["path"], rec["weights"]
        arrays = load_case(path, weights)
        if "config" in arrays:
            cfg = json.loads(str(arrays["config"]))
            assert cfg["batch_first"] == rec["batch_first"], path
        out, h_n = rerun(arrays, rec["prefix"], rec["batch_first"])
        d = max_diff(arrays, out, h_n)
        ok = d == 0.0 if rec["expect"] == "pass" else d > 5e-4
        extra = ""
        if path.name == "ambiguous.npz":
            # Prove the ambiguity matters: the other layout must NOT reproduce the file.
            d_wrong = max_diff(arrays, *rerun(arrays, rec["prefix"], not rec["batch_first"]))
            ok = ok and d_wrong > 1e-2
            extra = f", seq-first reading differs by {d_wrong:.3f}"
        if path.name == "big_endian_fortran.npz":
            hdrs = member_headers(path)
            be = sorted(k for k, (descr, _) in hdrs.items() if descr.startswith(">"))
            fo = sorted(k for k, (_, fortran) in hdrs.items() if fortran)
            ok = ok and len(fo) == 4 and all(hdrs[k][0] == ">f4" for k in fo)
            extra = f", big-endian: {len(be)} members, fortran_order: {fo}"
        size = sum(f.stat().st_size for f in ([*path.glob('*.npy')] if path.is_dir() else [path]))
        if weights is not None:
            size += weights.stat().st_size
        print(f"  [{'ok' if ok else 'BAD'}] {str(path.relative_to(root)):45s} {size:6d} B  "
              f"expect {rec['expect']}, max|stored - rerun| = {d:.3g}{extra}"
              + (f"  ({rec['note']})" if rec["note"] else ""))
        if not ok:
            raise SystemExit(f"verification failed for {path}")


def main() -> None:
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    print("samples/:")
    for build in (classic_batch_first, bidir_2layer, no_bias, unbatched, float64, lengths_case,
                  mismatch):
        build()
    print("test/fixtures/cases/:")
    for build in (prefixed, two_grus, dir_case, ambiguous, only_h_n_and_output,
                  big_endian_fortran, layers3_bidir_nobias):
        build()
    verify()


if __name__ == "__main__":
    main()
