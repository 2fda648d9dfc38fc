"""Dump a PyTorch ``nn.GRU`` run into a case file that ``gru-check`` can verify.

Copy this one file into your project; it needs only ``torch`` and ``numpy``.

What it writes (the gru-check input contract)
----------------------------------------------
One ``.npz`` holding plain numeric arrays (never pickles, never object arrays):

========================  ==========================================================  ============
name                      shape                                                       when
========================  ==========================================================  ============
``input``                 (T, B, I), or (B, T, I) if batch_first, or (T, I) unbatched  always
``h0``                    (L*D, B, H), or (L*D, H) unbatched                          if given
``lengths``               (B,) int64, each in [1, T], any order                       if given
``output``                (T, B, D*H) / (B, T, D*H) / (T, D*H); zeros at t >= length  always
``h_n``                   (L*D, B, H) / (L*D, H); each sequence's last valid state    always
``[prefix.]weight_ih_l{k}[_reverse]`` etc.  the GRU's own ``state_dict()``           always
``config``                0-d unicode string holding a JSON object                    always
========================  ==========================================================  ============

``L`` = num_layers, ``D`` = 2 if bidirectional else 1. ``config`` keys written here:

* ``batch_first`` (bool) -- the module's ``batch_first``; the only key gru-check reads.
* ``torch_version`` (str), ``dtype`` (str, numpy name such as ``"float32"``) -- informational.
* anything you pass in ``config=`` (JSON-serialisable), e.g. ``description`` (str) and
  ``seed`` (int) -- informational, shown by gru-check but never interpreted.

The run happens in eval mode under ``torch.no_grad()`` (so inter-layer dropout is off), which is
what gru-check recomputes. With ``lengths`` the batch goes through
``pack_padded_sequence(..., enforce_sorted=False)`` and back through
``pad_packed_sequence(..., total_length=T)``, exactly as most training code does.

Usage
-----
>>> import torch, torch.nn as nn
>>> from gru_dump import dump_gru_case, dump_port_outputs
>>> gru = nn.GRU(input_size=4, hidden_size=5, batch_first=True)
>>> x = torch.randn(2, 3, 4)
>>> h0 = torch.randn(1, 2, 5)
>>> dump_gru_case("case.npz", gru, x, h0=h0, config={"description": "my encoder"})
PosixPath('case.npz')

Then, after running your own port (C, Rust, JS, ...) on the same input:

>>> dump_port_outputs("port.npz", my_output, h_n=my_h_n)   # numpy arrays or torch tensors
$ gru-check run case.npz --candidate port.npz

A port run in Python writes its outputs as its runtime returns them; gru-check reads each layout:

>>> y, y_h = ort_session.run(["Y", "Y_h"], {"X": x, "initial_h": h0})   # ONNX Runtime
>>> dump_onnx_outputs("port.npz", y, y_h)            # Y [T, D, B, H] (or [B, T, D, H]), Y_h
>>> seq, fwd, bwd = keras_bidirectional_gru(x)       # Keras, return_sequences + return_state
>>> dump_keras_outputs("port.npz", seq, fwd, bwd)    # [B, T, D*H] and one [B, H] per direction

A GRU inside a bigger model: pass ``prefix="encoder.rnn"`` to keep the state_dict names the model
uses (``encoder.rnn.weight_ih_l0``) and run ``gru-check`` with ``--prefix encoder.rnn`` if the
file holds more than one GRU.

nn.GRUCell: single calls and recorded decoder loops
---------------------------------------------------
A GRUCell case holds the cell's own ``state_dict`` names (``weight_ih`` (3H, I), ``weight_hh``
(3H, H), ``bias_ih``, ``bias_hh`` (3H,), no biases when ``bias=False``; gate blocks r|z|n;
optionally under a module prefix such as ``decoder.cell.weight_ih``) and:

========================  ==========================================================  ============
name                      shape                                                       when
========================  ==========================================================  ============
``input``                 (B, I), or (I,) unbatched                                   always
``hx``                    (B, H), or (H,) unbatched                                   unless hx=None
``h``                     (B, H) / (H,): the cell's output                            always
``config``                ``torch_version``, ``dtype``, your ``seed``/``description``  always
========================  ==========================================================  ============

A *trace* holds T recorded calls of one cell, stacked on a leading time axis, and ``config``
``{"trace": true, ...}`` (what tells it from a batched single call): ``input`` (T, B, I) or
(T, I), ``hx`` (T, B, H) or (T, H) as each call received it (zeros where a call got
``hx=None``, as nn.GRUCell then uses), ``h`` (T, B, H) or (T, H), each call's output. gru-check
checks every call from its own recorded hx, so a decoder that changes h between steps (adds an
attention context, normalises, resets finished sequences) is checked exactly. A port's candidate
holds ``h`` in the same shape: ``dump_port_outputs("port.npz", h=my_h)``. ``config`` keys for a
cell are ``trace`` (set by the recorder), ``torch_version``, ``dtype``, ``seed`` and ``description``;
any other key is refused here (gru-check would warn about it).

One call:

>>> cell = nn.GRUCell(6, 5)
>>> dump_gru_cell_case("cell.npz", cell, torch.randn(3, 6), hx=torch.randn(3, 5))
PosixPath('cell.npz')

A decoder loop, recorded without touching the model's code: :func:`record_gru_calls` finds the
model's nn.GRUCell (by type; name it by attribute path when there are several, or to record an
nn.GRU), hooks it, runs your function, removes the hook and writes the trace with the cell's
weights under its attribute path:

>>> tokens = record_gru_calls(model, lambda: model.greedy_decode(src, max_len=8),
...                           "decoder_trace.npz", module="decoder.cell",
...                           config={"description": "greedy attention decoder"})
$ gru-check run decoder_trace.npz --candidate port.npz

The same as a context manager, to look at the calls or choose what to write:

>>> with GruCallRecorder(model, module="decoder.cell") as rec:
...     tokens = model.greedy_decode(src, max_len=8)
>>> len(rec.calls), rec.prefix
(8, 'decoder.cell')
>>> rec.save("decoder_trace.npz")            # the trace of every call
>>> rec.save("step3.npz", call=3)            # call 3 alone, as a single-call case

Rules the recorder enforces (each refused with the call's index): every call batched or every
call unbatched, one batch size and one dtype throughout, at least one call, and weights unchanged
by ``run()`` (they are written once, as they were when recording started). Each call's tensors
are copied when the call returns, so a decoder that later edits h in place cannot change the
record. Under torch < 2.0 forward hooks cannot see keyword arguments (``cell(x, hx=h)``), so the
recorder wraps the module's ``forward`` for the duration instead; the model's code is never edited.

An ``nn.GRU`` named by ``module=`` is recorded the same way; ``save`` writes one chosen call
(``call=k``, required when it ran more than once) as an ordinary case (:func:`dump_gru_case`'s
format, rerun in eval mode; a PackedSequence input becomes padded ``input`` plus ``lengths``).
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = [
    "dump_gru_case", "gru_case_arrays", "dump_port_outputs", "dump_onnx_outputs", "dump_keras_outputs",
    "save_arrays", "dump_gru_cell_case", "gru_cell_case_arrays", "GruCallRecorder", "record_gru_calls",
]

ArrayLike = Union[torch.Tensor, np.ndarray]

# Names the contract reserves for the case itself; weights must never collide with them.
RESERVED_NAMES = ("input", "h0", "lengths", "output", "h_n", "config")

# numpy cannot represent bfloat16 and gru-check reads only IEEE floats; float16 is allowed because
# a GPU run can produce it (PyTorch 1.13's CPU GRU cannot run in half precision).
_FLOAT_DTYPES = {torch.float16: "float16", torch.float32: "float32", torch.float64: "float64"}


def _to_numpy(name: str, value: ArrayLike) -> np.ndarray:
    """Detach/copy to a CPU numpy array, refusing dtypes the .npy contract cannot carry."""
    if isinstance(value, PackedSequence):
        raise TypeError(
            f"{name}: got a PackedSequence; pad it first with "
            "pad_packed_sequence(packed, batch_first=..., total_length=T)"
        )
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bfloat16:
            raise TypeError(f"{name}: bfloat16 has no numpy dtype; cast to float32 first")
        if value.is_complex():
            raise TypeError(f"{name}: complex tensors are not part of the contract")
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        # Object arrays would need pickles; complex/strings are not GRU data.
        raise TypeError(f"{name}: unsupported dtype {arr.dtype} (expected float or integer)")
    return arr


def _normalise_prefix(prefix: Optional[str]) -> str:
    """'encoder.rnn' or 'encoder.rnn.' -> 'encoder.rnn.'; None/'' -> ''."""
    if not prefix:
        return ""
    p = prefix[:-1] if prefix.endswith(".") else prefix
    # '/' and '\\' would turn into folders inside the zip (and break directory cases).
    if any(not part for part in p.split(".")) or "/" in p or "\\" in p:
        raise ValueError(f"prefix: expected dotted module path like 'encoder.rnn', got {prefix!r}")
    return p + "."


def _expected_weight_names(gru: nn.GRU) -> list:
    """The state_dict keys a plain nn.GRU has; anything else means a parametrised module."""
    names = []
    for k in range(gru.num_layers):
        for suffix in ("", "_reverse") if gru.bidirectional else ("",):
            names += [f"weight_ih_l{k}{suffix}", f"weight_hh_l{k}{suffix}"]
            if gru.bias:
                names += [f"bias_ih_l{k}{suffix}", f"bias_hh_l{k}{suffix}"]
    return names


def _config_array(config: Mapping[str, Any]) -> np.ndarray:
    # ensure_ascii keeps the JSON 7-bit, so any reader's UTF-32 decoding is trivially right.
    text = json.dumps(dict(config), ensure_ascii=True, sort_keys=True, allow_nan=False)
    return np.array(text)  # 0-d '<U{n}', not an object array


def gru_case_arrays(
    gru: nn.GRU,
    input: ArrayLike,
    h0: Optional[ArrayLike] = None,
    lengths: Optional[ArrayLike] = None,
    prefix: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
) -> dict:
    """Run ``gru`` like :func:`dump_gru_case` and return the arrays instead of writing them.

    Useful when the file must also carry other arrays (the rest of a model's state_dict) or to
    inspect what would be written. Keys are in the order they would be written.
    """
    if not isinstance(gru, nn.GRU):
        raise TypeError(f"gru: expected torch.nn.GRU, got {type(gru).__name__}")

    # A weight-normed or otherwise parametrised GRU has different state_dict names that the
    # contract cannot express; refuse rather than dump something gru-check would misread.
    state = gru.state_dict()
    expected = _expected_weight_names(gru)
    if sorted(state.keys()) != sorted(expected):
        raise ValueError(
            "gru.state_dict(): expected exactly "
            f"{expected}, got {list(state.keys())} (parametrised/weight-normed GRUs are not supported)"
        )

    param_dtype = gru.weight_ih_l0.dtype
    if param_dtype not in _FLOAT_DTYPES:
        raise TypeError(f"gru: parameters are {param_dtype}; only float16/32/64 can be dumped")

    if isinstance(input, PackedSequence):
        raise TypeError(
            "input: got a PackedSequence; pass the padded tensor and its lengths= instead "
            "(the contract stores padded input plus lengths)"
        )
    x = torch.as_tensor(input)
    if x.dtype != param_dtype:
        raise TypeError(f"input: dtype {x.dtype} differs from the GRU's parameters ({param_dtype})")
    if x.dim() not in (2, 3):
        raise ValueError(f"input: expected 2-D (T, I) or 3-D batched input, got shape {tuple(x.shape)}")
    if x.shape[-1] != gru.input_size:
        raise ValueError(f"input: expected last dim {gru.input_size} (input_size), got {x.shape[-1]}")
    if x.numel() == 0:
        raise ValueError(f"input: empty shape {tuple(x.shape)} (T and B must be >= 1)")

    unbatched = x.dim() == 2
    # PyTorch ignores batch_first for unbatched input; the layout of a 2-D input is always (T, I).
    time_axis = 0 if unbatched or not gru.batch_first else 1
    T = x.shape[time_axis]

    hx = None
    if h0 is not None:
        hx = torch.as_tensor(h0)
        if hx.dtype != param_dtype:
            raise TypeError(f"h0: dtype {hx.dtype} differs from the GRU's parameters ({param_dtype})")
        # Shape errors are left to PyTorch, whose message already names the expected size.

    lens = None
    if lengths is not None:
        if unbatched:
            raise ValueError("lengths: not allowed with unbatched (2-D) input")
        lens = torch.as_tensor(lengths)
        if lens.dtype.is_floating_point or lens.dtype == torch.bool or lens.is_complex():
            raise TypeError(f"lengths: expected an integer tensor, got {lens.dtype}")
        lens = lens.to(device="cpu", dtype=torch.int64)  # pack_padded_sequence wants CPU int64
        B = x.shape[1 - time_axis]
        if lens.dim() != 1 or lens.shape[0] != B:
            raise ValueError(f"lengths: expected shape ({B},) (batch size), got {tuple(lens.shape)}")
        if int(lens.min()) < 1 or int(lens.max()) > T:
            raise ValueError(f"lengths: every length must be in [1, {T}] (T), got {lens.tolist()}")

    user_cfg = dict(config or {})
    if "batch_first" in user_cfg and bool(user_cfg["batch_first"]) != gru.batch_first:
        raise ValueError(
            f"config: batch_first={user_cfg['batch_first']!r} contradicts gru.batch_first={gru.batch_first}"
        )
    cfg = {
        "batch_first": bool(gru.batch_first),
        "torch_version": torch.__version__,
        "dtype": _FLOAT_DTYPES[param_dtype],
    }
    cfg.update(user_cfg)
    try:
        cfg_arr = _config_array(cfg)
    except (TypeError, ValueError) as e:
        raise ValueError(f"config: must be JSON-serialisable without NaN/inf ({e})") from None

    was_training = gru.training
    gru.eval()  # dropout between layers only acts in training mode
    try:
        with torch.no_grad():
            if lens is None:
                out, h_n = gru(x, hx)
            else:
                packed = pack_padded_sequence(x, lens, batch_first=gru.batch_first, enforce_sorted=False)
                packed_out, h_n = gru(packed, hx)
                # total_length keeps T even when max(lengths) < T; padding value is 0.
                out, _ = pad_packed_sequence(packed_out, batch_first=gru.batch_first, total_length=T)
    finally:
        gru.train(was_training)

    pfx = _normalise_prefix(prefix)
    arrays = {"input": _to_numpy("input", x)}
    if hx is not None:
        arrays["h0"] = _to_numpy("h0", hx)
    if lens is not None:
        arrays["lengths"] = _to_numpy("lengths", lens)
    arrays["output"] = _to_numpy("output", out)
    arrays["h_n"] = _to_numpy("h_n", h_n)
    for name in expected:  # the module's own order: l0, l0_reverse, l1, ...
        arrays[pfx + name] = _to_numpy(name, state[name])
    arrays["config"] = cfg_arr
    return arrays


def save_arrays(path: Union[str, Path], arrays: Mapping[str, np.ndarray], compressed: bool = True) -> Path:
    """Write ``arrays`` to an .npz after checking nothing would need a pickle.

    numpy appends ``.npz`` when the name lacks it; the returned path is the file written.
    """
    for name, arr in arrays.items():
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name}: expected a numpy array, got {type(arr).__name__}")
        # 'U' only for the config string; 'O' (and structured 'V') would be pickled or unreadable.
        if arr.dtype.kind not in "fiubU" or arr.dtype.hasobject:
            raise TypeError(f"{name}: dtype {arr.dtype} cannot be written without pickles")
        if "/" in name or "\\" in name:
            raise ValueError(f"{name}: array names must not contain path separators")
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def dump_gru_case(
    path: Union[str, Path],
    gru: nn.GRU,
    input: ArrayLike,
    h0: Optional[ArrayLike] = None,
    lengths: Optional[ArrayLike] = None,
    prefix: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
    compressed: bool = True,
) -> Path:
    """Run ``gru`` on ``input`` and write a gru-check case (.npz) to ``path``.

    Args:
        path: destination; ``.npz`` is appended if missing.
        gru: a plain ``nn.GRU`` (any num_layers/bidirectional/bias/batch_first/dtype/device).
        input: (T, B, I), (B, T, I) when ``gru.batch_first``, or unbatched (T, I).
        h0: optional initial state (L*D, B, H), or (L*D, H) for unbatched input.
        lengths: optional per-sequence lengths (B,), any order, each in [1, T]; the padded steps of
            ``input`` may hold anything -- they are never read.
        prefix: store weights as ``f"{prefix}.weight_ih_l0"``, as inside a bigger model.
        config: extra JSON-serialisable keys (e.g. ``description``, ``seed``) merged into ``config``;
            a ``batch_first`` in it must agree with the module.
        compressed: use ``np.savez_compressed`` (default) or ``np.savez``.

    Returns:
        The path written.

    Raises:
        TypeError / ValueError: for anything the contract cannot express (PackedSequence input,
            bfloat16/complex, lengths with unbatched input, parametrised GRU, ...).

    Example:
        >>> gru = nn.GRU(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        >>> x = torch.randn(4, 7, 6)
        >>> dump_gru_case("enc.npz", gru, x, lengths=torch.tensor([5, 2, 7, 4]))
        PosixPath('enc.npz')
    """
    arrays = gru_case_arrays(gru, input, h0=h0, lengths=lengths, prefix=prefix, config=config)
    return save_arrays(path, arrays, compressed=compressed)


def dump_port_outputs(
    path: Union[str, Path],
    output: Optional[ArrayLike] = None,
    h_n: Optional[ArrayLike] = None,
    compressed: bool = True,
    *,
    h: Optional[ArrayLike] = None,
) -> Path:
    """Write your own implementation's ``output`` (and ``h_n``) for ``gru-check --candidate``.

    For a GRUCell case or trace pass ``h=`` alone: your cell's output, in the case's ``h`` shape
    ((B, H) / (H,) for one call, (T, B, H) / (T, H) for a trace, each call run from the recorded
    ``hx``).

    ``output`` may be seq-first (T, B, D*H) or batch-first (B, T, D*H) whatever the case is: gru-check
    tells them apart by shape, and asks for ``--candidate-layout`` when B == T. With ``lengths`` the
    output must be zero at t >= length, as ``pad_packed_sequence`` produces; an output trimmed to
    max(lengths) steps (``pad_packed_sequence`` without ``total_length``) is read as padded.
    ``h_n`` is (L*D, B, H), or only the last layer's D rows.

    Example:
        >>> dump_port_outputs("port.npz", np.load("my_port_out.npy"), h_n=my_h_n_tensor)
        PosixPath('port.npz')
        $ gru-check run case.npz --candidate port.npz
    """
    if h is not None:
        if output is not None or h_n is not None:
            raise ValueError("dump_port_outputs: h (a GRUCell's output) goes alone, without output/h_n")
        return save_arrays(path, _float_arrays({"h": h}), compressed=compressed)
    if output is None and h_n is None:
        raise ValueError("dump_port_outputs: give output, h_n, or both (or h for a GRUCell)")
    arrays = {}
    if output is not None:
        arrays["output"] = _to_numpy("output", output)
    if h_n is not None:
        arrays["h_n"] = _to_numpy("h_n", h_n)
    for name, arr in arrays.items():
        if arr.dtype.kind != "f":
            raise TypeError(f"{name}: expected floating-point values, got {arr.dtype}")
    return save_arrays(path, arrays, compressed=compressed)


def _float_arrays(named: Mapping[str, Optional[ArrayLike]]) -> dict:
    arrays = {}
    for name, value in named.items():
        if value is None:
            continue
        arr = _to_numpy(name, value)
        if arr.dtype.kind != "f":
            raise TypeError(f"{name}: expected floating-point values, got {arr.dtype}")
        arrays[name] = arr
    return arrays


def dump_onnx_outputs(
    path: Union[str, Path],
    Y: Optional[ArrayLike],
    Y_h: Optional[ArrayLike] = None,
    compressed: bool = True,
) -> Path:
    """Write an ONNX GRU's outputs, as ONNX Runtime returns them, for ``gru-check --candidate``.

    ``Y`` is [T, D, B, H] (the node's ``layout=0``) or [B, T, D, H] (``layout=1``), ``Y_h`` is
    [D, B, H] (or [B, D, H]) for one GRU node, or [L*D, B, H] when a graph concatenates every
    layer's. They are stored under the names ONNX gives them, ``Y`` and ``Y_h``; gru-check reads them
    in that layout (``--candidate-layout onnx`` or ``onnx-layout1`` when B == T leaves it ambiguous).
    A graph exported by ``torch.onnx.export`` returns PyTorch's own layout instead: pass its outputs
    to ``dump_port_outputs``, or let gru-check run the model itself with ``--onnx model.onnx``.

    Example:
        >>> import onnxruntime as ort
        >>> sess = ort.InferenceSession("gru.onnx")
        >>> y, y_h = sess.run(["Y", "Y_h"], {"X": x, "initial_h": h0})
        >>> dump_onnx_outputs("port.npz", y, y_h)
        $ gru-check run case.npz --candidate port.npz
    """
    if Y is None and Y_h is None:
        raise ValueError("dump_onnx_outputs: give Y, Y_h, or both")
    arrays = _float_arrays({"Y": Y, "Y_h": Y_h})
    if "Y" in arrays and arrays["Y"].ndim != 4:
        raise ValueError(f"Y: expected 4 dimensions ([T, D, B, H] or [B, T, D, H]), got shape {arrays['Y'].shape}")
    return save_arrays(path, arrays, compressed=compressed)


def dump_keras_outputs(
    path: Union[str, Path],
    sequences: Optional[ArrayLike],
    *states: ArrayLike,
    compressed: bool = True,
) -> Path:
    """Write a Keras GRU's outputs (``return_sequences=True, return_state=True``) for ``--candidate``.

    ``sequences`` is [B, T, D*H] (``Bidirectional`` concatenates forward then backward);
    ``states`` are the final states Keras returns, one [B, H] per direction: ``h`` for a ``GRU``,
    ``forward_h, backward_h`` for ``Bidirectional(GRU(...))``. They are stored as ``output`` and
    ``h_n`` (one direction) or ``forward_h`` / ``backward_h`` (two), the names gru-check reads.
    Keras' states are the last layer's: gru-check compares them with the last layer's rows of h_n.

    Example:
        >>> seq, fwd, bwd = model(x)        # Bidirectional(GRU(6, return_sequences=True, return_state=True))
        >>> dump_keras_outputs("port.npz", seq.numpy(), fwd.numpy(), bwd.numpy())
        $ gru-check run case.npz --candidate port.npz --candidate-layout keras
    """
    if len(states) > 2:
        raise ValueError(f"dump_keras_outputs: at most 2 final states (forward_h, backward_h), got {len(states)}")
    if sequences is None and not states:
        raise ValueError("dump_keras_outputs: give the sequences, the final states, or both")
    names = {1: ("h_n",), 2: ("forward_h", "backward_h")}.get(len(states), ())
    arrays = _float_arrays({"output": sequences, **dict(zip(names, states))})
    for name in names:
        if arrays[name].ndim != 2:
            raise ValueError(f"{name}: expected a Keras final state [B, H], got shape {arrays[name].shape}")
    return save_arrays(path, arrays, compressed=compressed)


# =============================================================================================
# nn.GRUCell: one call, and recorded calls (decoder loops)
# =============================================================================================

# Keys gru-check knows in a GRUCell case's config; "trace" is written by the recorder only.
_CELL_USER_KEYS = ("seed", "description", "torch_version", "dtype")


def _cell_weight_names(cell: nn.GRUCell) -> list:
    return ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if cell.bias else [])


def _cell_state(cell: nn.GRUCell) -> dict:
    """The cell's state_dict as detached CPU copies, refusing parametrised cells and odd dtypes."""
    if not isinstance(cell, nn.GRUCell):
        raise TypeError(f"cell: expected torch.nn.GRUCell, got {type(cell).__name__}")
    state = cell.state_dict()
    expected = _cell_weight_names(cell)
    if sorted(state.keys()) != sorted(expected):
        raise ValueError(
            f"cell.state_dict(): expected exactly {expected}, got {list(state.keys())} "
            "(parametrised/weight-normed cells are not supported)"
        )
    if cell.weight_ih.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"cell: parameters are {cell.weight_ih.dtype}; only float16/32/64 can be dumped")
    return {k: state[k].detach().to("cpu", copy=True) for k in expected}


def _cell_config(dtype: torch.dtype, config: Optional[Mapping[str, Any]], trace: bool) -> np.ndarray:
    user = dict(config or {})
    if "trace" in user:
        raise ValueError("config: 'trace' is set by the writer (true for a recorded trace), not by you")
    unknown = sorted(set(user) - set(_CELL_USER_KEYS))
    if unknown:
        raise ValueError(
            f"config: a GRUCell case carries only {list(_CELL_USER_KEYS)} besides 'trace'; "
            f"got {unknown} (gru-check would warn about them)"
        )
    cfg = {"trace": True} if trace else {}
    cfg.update({"torch_version": torch.__version__, "dtype": _FLOAT_DTYPES[dtype]})
    cfg.update(user)
    try:
        return _config_array(cfg)
    except (TypeError, ValueError) as e:
        raise ValueError(f"config: must be JSON-serialisable without NaN/inf ({e})") from None


def _cell_arrays(state: Mapping[str, torch.Tensor], prefix: Optional[str], x: torch.Tensor,
                 hx: Optional[torch.Tensor], h: torch.Tensor, cfg: np.ndarray) -> dict:
    pfx = _normalise_prefix(prefix)
    arrays = {"input": _to_numpy("input", x)}
    if hx is not None:
        arrays["hx"] = _to_numpy("hx", hx)
    arrays["h"] = _to_numpy("h", h)
    for name, value in state.items():  # the module's own order: weight_ih, weight_hh, bias_ih, bias_hh
        arrays[pfx + name] = _to_numpy(name, value)
    arrays["config"] = cfg
    return arrays


def gru_cell_case_arrays(
    cell: nn.GRUCell,
    input: ArrayLike,
    hx: Optional[ArrayLike] = None,
    prefix: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
) -> dict:
    """Call ``cell(input, hx)`` once and return the case's arrays (see :func:`dump_gru_cell_case`)."""
    state = _cell_state(cell)
    dtype = cell.weight_ih.dtype
    cfg = _cell_config(dtype, config, trace=False)
    x = torch.as_tensor(input)
    if x.dtype != dtype:
        raise TypeError(f"input: dtype {x.dtype} differs from the cell's parameters ({dtype})")
    if x.dim() not in (1, 2) or x.numel() == 0:
        raise ValueError(f"input: expected (B, I) or unbatched (I,), got shape {tuple(x.shape)}")
    if x.shape[-1] != cell.input_size:
        raise ValueError(f"input: expected last dim {cell.input_size} (input_size), got {x.shape[-1]}")
    h0 = None
    if hx is not None:
        h0 = torch.as_tensor(hx)
        want = tuple(x.shape[:-1]) + (cell.hidden_size,)
        if tuple(h0.shape) != want:
            raise ValueError(f"hx: expected shape {want} ({'B, ' if x.dim() == 2 else ''}hidden_size), "
                             f"got {tuple(h0.shape)}")
        if h0.dtype != dtype:
            raise TypeError(f"hx: dtype {h0.dtype} differs from the cell's parameters ({dtype})")
    with torch.no_grad():
        h = cell(x, h0)
    return _cell_arrays(state, prefix, x, h0, h, cfg)


def dump_gru_cell_case(
    path: Union[str, Path],
    cell: nn.GRUCell,
    input: ArrayLike,
    hx: Optional[ArrayLike] = None,
    prefix: Optional[str] = "",
    config: Optional[Mapping[str, Any]] = None,
    compressed: bool = True,
) -> Path:
    """Call ``cell(input, hx)`` once and write a GRUCell case (.npz) to ``path``.

    Args:
        path: destination; ``.npz`` is appended if missing.
        cell: a plain ``nn.GRUCell`` (any bias/dtype/device).
        input: (B, I), or unbatched (I,).
        hx: (B, H) / (H,), or None: the file then has no ``hx`` and gru-check uses zeros, as the
            cell did.
        prefix: store weights as ``f"{prefix}.weight_ih"``, as inside a bigger model.
        config: informational keys only: ``seed``, ``description``.

    Returns:
        The path written.

    Example:
        >>> cell = nn.GRUCell(6, 5)
        >>> dump_gru_cell_case("cell.npz", cell, torch.randn(3, 6), hx=torch.randn(3, 5))
        PosixPath('cell.npz')
        >>> dump_port_outputs("port.npz", h=my_port_h)      # (3, 5)
        $ gru-check run cell.npz --candidate port.npz
    """
    arrays = gru_cell_case_arrays(cell, input, hx=hx, prefix=prefix, config=config)
    return save_arrays(path, arrays, compressed=compressed)


def _recordable(model: nn.Module) -> list:
    return [(n, type(m).__name__) for n, m in model.named_modules() if isinstance(m, (nn.GRUCell, nn.GRU))]


def _describe(found: list) -> str:
    return ", ".join(f"{n or '<the model itself>'!r} ({t})" for n, t in found) or "none"


def _find_module(model: nn.Module, module: Union[None, str, nn.Module]):
    """(attribute path, module) of the GRUCell / GRU to record."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if module is None:
        cells = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.GRUCell)]
        if len(cells) != 1:
            how = ("has no nn.GRUCell" if not cells else
                   f"has {len(cells)} nn.GRUCells; name one with module='...'")
            raise ValueError(f"model {how} (GRUCell / GRU modules found: {_describe(_recordable(model))}); "
                             "an nn.GRU is recorded only when named by module=")
        return cells[0]
    if isinstance(module, str):
        try:
            target = model.get_submodule(module) if module else model
        except AttributeError:
            raise ValueError(f"module: model has no submodule {module!r} "
                             f"(GRUCell / GRU modules found: {_describe(_recordable(model))})") from None
        name = module
    elif isinstance(module, nn.Module):
        names = [n for n, m in model.named_modules() if m is module]
        if not names:
            raise ValueError("module: the module given is not part of model; pass it by attribute path")
        name, target = names[0], module
    else:
        raise TypeError(f"module: expected None, an attribute path or a module, got {type(module).__name__}")
    if not isinstance(target, (nn.GRUCell, nn.GRU)):
        raise TypeError(f"module {name!r}: expected nn.GRUCell or nn.GRU, got {type(target).__name__}")
    return name, target


def _copy(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", copy=True)


class GruCallRecorder:
    """Context manager recording every call of one ``nn.GRUCell`` (or ``nn.GRU``) inside ``model``.

    ``module``: None for the model's only nn.GRUCell, else an attribute path (``"decoder.cell"``,
    ``""`` for the model itself) or the module object; an nn.GRU must be named. The weights are
    written under that path (``prefix=`` in :meth:`save` overrides it). See the module docstring.

    Attributes after recording: ``calls`` (one dict per call: GRUCell ``input``, ``hx``,
    ``hx_given``, ``h``; GRU ``input``, ``hx``, ``lengths``, ``output``, ``h_n``, CPU copies),
    ``prefix``, ``module``.
    """

    def __init__(self, model: nn.Module, module: Union[None, str, nn.Module] = None):
        self.prefix, self.module = _find_module(model, module)
        self.is_cell = isinstance(self.module, nn.GRUCell)
        if self.is_cell:
            self._state = _cell_state(self.module)
        else:
            _expected = _expected_weight_names(self.module)
            if sorted(self.module.state_dict().keys()) != sorted(_expected):
                raise ValueError(f"module {self.prefix!r}: a parametrised/weight-normed nn.GRU is not supported")
            self._state = {k: _copy(v) for k, v in self.module.state_dict().items()}
        self._signature = inspect.signature(type(self.module).forward)
        self._undo = None
        self.calls: list = []

    # -- recording -----------------------------------------------------------------------------

    def __enter__(self) -> "GruCallRecorder":
        if self._undo is not None:
            raise RuntimeError("GruCallRecorder is already recording")
        self.calls = []
        m = self.module
        if "with_kwargs" in inspect.signature(m.register_forward_hook).parameters:
            handle = m.register_forward_hook(
                lambda mod, args, kwargs, out: self._on_call(args, kwargs, out), with_kwargs=True)
            self._undo = handle.remove
        else:
            # torch < 2.0: a forward hook sees positional arguments only, so cell(x, hx=h) would be
            # recorded as hx=None. Shadow forward on the instance instead, and put it back after.
            had_own = "forward" in m.__dict__
            saved, inner = m.__dict__.get("forward"), m.forward

            def forward(*args, **kwargs):
                out = inner(*args, **kwargs)
                self._on_call(args, kwargs, out)
                return out

            m.forward = forward

            def undo():
                if had_own:
                    m.forward = saved
                else:
                    del m.forward
            self._undo = undo
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()
        if exc_type is None:
            now = self.module.state_dict()
            changed = [k for k, v in self._state.items() if not torch.equal(_copy(now[k]), v)]
            if changed:
                raise RuntimeError(
                    f"module {self.prefix!r}: {changed} changed while recording (an optimizer step?); "
                    "a trace holds one set of weights, so record an inference run")

    def _on_call(self, args: tuple, kwargs: dict, out) -> None:
        bound = self._signature.bind(self.module, *args, **kwargs)
        x, hx = bound.arguments["input"], bound.arguments.get("hx")
        k = len(self.calls)
        if not self.is_cell:
            bf, lengths, y = self.module.batch_first, None, out[0]
            if isinstance(x, PackedSequence):  # kept as the contract stores it: padded + lengths
                x, lengths = pad_packed_sequence(x, batch_first=bf)
                y, _ = pad_packed_sequence(y, batch_first=bf, total_length=x.shape[1 if bf else 0])
            self.calls.append(dict(input=_copy(x), hx=None if hx is None else _copy(hx),
                                   lengths=lengths, output=_copy(y), h_n=_copy(out[1])))
            return
        name = f"{self.prefix or 'the cell'}, call {k}"
        if x.dim() not in (1, 2):
            raise ValueError(f"{name}: input has shape {tuple(x.shape)}; expected (B, I) or (I,)")
        if self.calls:
            first = self.calls[0]["input"]
            if x.dim() != first.dim():
                kinds = {1: "unbatched (I,)", 2: "batched (B, I)"}
                raise ValueError(f"{name}: input is {kinds[x.dim()]} but call 0 was {kinds[first.dim()]}; "
                                 "a trace holds calls of one kind only")
            if x.dim() == 2 and x.shape[0] != first.shape[0]:
                raise ValueError(f"{name}: batch size {x.shape[0]}, but call 0 had {first.shape[0]}; a trace "
                                 "needs one batch size throughout (a decoder that drops finished sequences "
                                 "or expands beams changes it: record a run that keeps the batch whole)")
            if x.dtype != first.dtype:
                raise ValueError(f"{name}: dtype {x.dtype}, but call 0 had {first.dtype}")
        given = hx is not None
        if not given:  # what nn.GRUCell does with hx=None
            hx = torch.zeros(x.shape[:-1] + (self.module.hidden_size,), dtype=x.dtype)
        self.calls.append(dict(input=_copy(x), hx=_copy(hx), hx_given=given, h=_copy(out)))

    # -- writing -------------------------------------------------------------------------------

    def arrays(self, config: Optional[Mapping[str, Any]] = None, call: Optional[int] = None,
               prefix: Optional[str] = None) -> dict:
        """The arrays :meth:`save` would write: every call as a trace, or ``call=k`` alone."""
        if self._undo is not None:
            raise RuntimeError("still recording: call arrays()/save() after the with block")
        what = f"{type(self.module).__name__} {self.prefix or '<the model itself>'!r}"
        if not self.calls:
            raise ValueError(f"{what} was never called while recording (call the module, cell(x, h), "
                             "not cell.forward(x, h))")
        pfx = self.prefix if prefix is None else prefix
        if call is None and not self.is_cell:
            if len(self.calls) != 1:
                raise ValueError(f"{what} was called {len(self.calls)} times; pass call=k (0-based) to choose one")
            call = 0
        if call is not None:
            if not -len(self.calls) <= call < len(self.calls):
                raise IndexError(f"call={call}: {what} was called {len(self.calls)} times")
            c = self.calls[call]
            if not self.is_cell:
                arrays = gru_case_arrays(self.module, c["input"], h0=c["hx"], lengths=c["lengths"],
                                         prefix=pfx, config=config)
                d = max(float((torch.from_numpy(arrays[k]).double() - c[k].double()).abs().max())
                        for k in ("output", "h_n"))
                if d > 1e-5:
                    warnings.warn(f"{what}, call {call}: the recorded outputs differ from an eval-mode rerun by "
                                  f"{d:.3g} (dropout between layers in training mode?); the file holds the rerun")
                return arrays
            cfg = _cell_config(self.module.weight_ih.dtype, config, trace=False)
            return _cell_arrays(self._state, pfx, c["input"], c["hx"] if c["hx_given"] else None, c["h"], cfg)
        cfg = _cell_config(self.module.weight_ih.dtype, config, trace=True)
        stack = {k: torch.stack([c[k] for c in self.calls]) for k in ("input", "hx", "h")}
        return _cell_arrays(self._state, pfx, stack["input"], stack["hx"], stack["h"], cfg)

    def save(self, path: Union[str, Path], config: Optional[Mapping[str, Any]] = None,
             call: Optional[int] = None, prefix: Optional[str] = None, compressed: bool = True) -> Path:
        """Write the trace (or ``call=k`` alone) to ``path``; returns the path written."""
        return save_arrays(path, self.arrays(config=config, call=call, prefix=prefix), compressed=compressed)


def record_gru_calls(
    model: nn.Module,
    run: Callable[[], Any],
    path: Union[str, Path],
    module: Union[None, str, nn.Module] = None,
    config: Optional[Mapping[str, Any]] = None,
    call: Optional[int] = None,
    prefix: Optional[str] = None,
    compressed: bool = True,
) -> Any:
    """Record every call of ``model``'s GRUCell during ``run()`` and write them as a trace.

    ``run`` is your own code (greedy decoding, a training-free forward pass), called once with no
    arguments; its return value is returned, so the recorder drops into existing code. ``module``,
    ``call`` and ``prefix`` are as in :class:`GruCallRecorder`; ``config`` takes ``seed`` and
    ``description``. The file is written only if ``run()`` returns normally.

    Example:
        >>> tokens = record_gru_calls(model, lambda: model.greedy_decode(src, max_len=8),
        ...                           "trace.npz", module="decoder.cell")
    """
    recorder = GruCallRecorder(model, module)
    if recorder.is_cell:  # refuse a bad config before a long run, not after
        _cell_config(recorder.module.weight_ih.dtype, config, trace=True)
    with recorder:
        result = run()
    recorder.save(path, config=config, call=call, prefix=prefix, compressed=compressed)
    return result
