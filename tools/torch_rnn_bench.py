#!/usr/bin/env python3
"""nn.LSTM / nn.GRU forward and forward+backward times under this Python's PyTorch.

`lstm-lab bench --against-python PY` runs this script under PY and prints its times in bench's
table, next to lstm-lab's layers measured in the same run. It times exactly what bench times: a
[T, B, I] input, forward under no_grad, then forward plus backward of a [T, B, H] output gradient,
`warmup` untimed runs, then the median, min and max of `repeats` timed ones.

Writes one JSON object to stdout. Without torch it writes {"skipped": "..."} and exits 0.
"""

import argparse
import json
import sys
import time
import warnings


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--size", action="append", required=True,
                   help="NAME:B,T,I,H, repeatable")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 leaves it")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    return p.parse_args()


def timing(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    # The middle element, as bench takes it (statistics.median would average two for even counts).
    return {"median_s": seconds[len(seconds) // 2], "min_s": seconds[0], "max_s": seconds[-1]}


def blas_of(torch):
    """The BLAS and CPU kernels this torch uses, from its own build record."""
    config = torch.__config__.show()
    parts = []
    for line in config.splitlines():
        line = line.strip(" -")
        if line.startswith("Intel(R) oneAPI Math Kernel Library Version") or \
                line.startswith("Intel(R) Math Kernel Library Version"):
            parts.append("MKL " + line.split("Version", 1)[1].split("-")[0].strip())
        elif line.startswith("Intel(R) MKL-DNN") or line.startswith("oneDNN"):
            parts.append("oneDNN " + line.split()[2] if len(line.split()) > 2 else line)
    if not parts:
        for item in config.replace(",", "\n").splitlines():
            if "BLAS_INFO=" in item:
                parts.append("BLAS " + item.split("=", 1)[1].strip())
    try:
        parts.append("CPU capability " + torch.backends.cpu.get_cpu_capability())
    except AttributeError:
        pass
    return ", ".join(parts) if parts else "unknown"


def main():
    args = parse_args()
    # torch without numpy warns on import; nothing here needs numpy.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    try:
        import torch
    except ImportError as e:
        json.dump({"skipped": f"{sys.executable} has no torch ({e})"}, sys.stdout)
        return 0
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    layer_class = torch.nn.LSTM if args.cell == "lstm" else torch.nn.GRU
    rows = []
    for spec in args.size:
        name, dims = spec.split(":", 1)
        B, T, I, H = (int(v) for v in dims.split(","))
        layer = layer_class(I, H, num_layers=args.layers).to(dtype)
        x = torch.randn(T, B, I, dtype=dtype)
        grad_out = torch.randn(T, B, H, dtype=dtype)

        def forward():
            with torch.no_grad():
                layer(x)

        xg = x.clone().requires_grad_(True)

        def forward_backward():
            layer.zero_grad()
            layer(xg)[0].backward(grad_out)

        rows.append({"size": name, "B": B, "T": T, "I": I, "H": H,
                     "forward": timing(forward, args.warmup, args.repeats),
                     "forward_backward": timing(forward_backward, args.warmup, args.repeats)})
    json.dump({"python": sys.version.split()[0], "torch": torch.__version__,
               "blas": blas_of(torch), "threads": torch.get_num_threads(), "rows": rows},
              sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
