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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["dump_gru_case", "gru_case_arrays", "dump_port_outputs", "dump_onnx_outputs", "dump_keras_outputs", "save_arrays"]

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
    output: Optional[ArrayLike],
    h_n: Optional[ArrayLike] = None,
    compressed: bool = True,
) -> Path:
    """Write your own implementation's ``output`` (and ``h_n``) for ``gru-check --candidate``.

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
    if output is None and h_n is None:
        raise ValueError("dump_port_outputs: give output, h_n, or both")
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
