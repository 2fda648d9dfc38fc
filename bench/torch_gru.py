"""Times PyTorch's CPU nn.GRU for bench/bench.ts, on one thread, inside Python.

Usage: python3 torch_gru.py '<json list of {name, B, T, I, H, L, bidirectional}>' [runs] [torch_threads]
Prints one JSON object {name: median_ms, "torch": version, "blas": OpenBLAS's kernel set} on stdout. torch.set_num_threads is
torch_threads (default 1); the caller sets OPENBLAS_NUM_THREADS, which set_num_threads does not reach
(Debian's torch reports a "generic" BLAS but is linked to OpenBLAS). Random data and PyTorch's
default init: the bench compares speed, not values.
"""
import ctypes
import json
import sys
import time

import torch


def blas_core() -> str:
    """The kernel set OpenBLAS picked for this CPU (SkylakeX: AVX-512), or OPENBLAS_CORETYPE's."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "unknown"


def main() -> None:
    workloads = json.loads(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "blas": blas_core()}
    for w in workloads:
        gru = torch.nn.GRU(w["I"], w["H"], w["L"], bidirectional=w["bidirectional"]).eval()
        x = torch.randn(w["T"], w["B"], w["I"])
        times = []
        with torch.no_grad():
            gru(x)  # warm-up
            for _ in range(runs):
                t0 = time.perf_counter()
                gru(x)
                times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        out[w["name"]] = times[len(times) // 2]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
