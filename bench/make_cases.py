"""Write the benchmark's cases with real PyTorch, for `npm run bench`'s cold CLI timings.

Usage: /usr/bin/python3 bench/make_cases.py OUT_DIR '<json list of {name, B, T, I, H, L, bidirectional}>'

Each workload becomes OUT_DIR/<name>.npz (batch_first, random h0, PyTorch's default init, dumped
by samples/gru_dump.py), and the deep-bidir workload also two ports, for timing diagnose: one that
forgot h0 (OUT_DIR/<name>-h0-ignored.npz: PyTorch's own output with h0 = 0), a mistake diagnose
names, and one whose layer 1 forward direction uses layer 1's reverse weights
(OUT_DIR/<name>-unnamed.npz), a mistake it has no variant for, so it searches everything (singles,
then pairs). The bench compares speed, so the values only need to be real; seeds are fixed anyway.
"""
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
from gru_dump import dump_gru_case, dump_port_outputs  # noqa: E402


def main() -> None:
    out_dir = sys.argv[1]
    torch.set_num_threads(1)
    for w in json.loads(sys.argv[2]):
        torch.manual_seed(0)
        d = 2 if w["bidirectional"] else 1
        gru = torch.nn.GRU(w["I"], w["H"], w["L"], bidirectional=w["bidirectional"], batch_first=True).eval()
        x = torch.randn(w["B"], w["T"], w["I"])
        h0 = torch.randn(w["L"] * d, w["B"], w["H"]) * 0.5
        dump_gru_case(os.path.join(out_dir, f"{w['name']}.npz"), gru, x, h0=h0)
        if w["L"] > 1 and w["bidirectional"]:
            with torch.no_grad():
                out, h_n = gru(x)  # a port that started from zeros
            dump_port_outputs(os.path.join(out_dir, f"{w['name']}-h0-ignored.npz"), out, h_n=h_n)
            with torch.no_grad():
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(gru, f"{kind}_l1").copy_(getattr(gru, f"{kind}_l1_reverse"))
                out, h_n = gru(x, h0)  # a port that loads layer 1's forward weights from the reverse direction
            dump_port_outputs(os.path.join(out_dir, f"{w['name']}-unnamed.npz"), out, h_n=h_n)


if __name__ == "__main__":
    main()
