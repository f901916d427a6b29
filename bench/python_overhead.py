#!/usr/bin/python3
"""The cost of calling sira from Python: sira.denoise on one float32 H x W slice
(C-contiguous, so not copied) against `sira bench` timing the engine alone on
the same model, size and threads (network, padding, tiling; no I/O). Both are
medians of --runs runs after a warm-up, in alternating rounds; the Python figure
also holds what a call does besides the network: building the engine from the
model (oneDNN primitives), the finite check and normalisation.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py --sira build/sira --size 1024 --threads 2
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np

import sira

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default=os.path.join(HERE, "..", "build", "sira"))
    ap.add_argument("-m", "--model", default=os.path.join(HERE, "..", "models", "tomogan-3slice.sira"))
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()

    model = sira.load_model(a.model)
    image = np.random.default_rng(0).normal(0.5, 0.1, (a.size, a.size)).astype(np.float32)
    py_ms, cpp_ms = [], []
    for _ in range(a.rounds):
        sira.denoise(image, model, precision=a.precision, threads=a.threads, int8_ranges="model")  # warm-up
        for _ in range(a.runs):
            t = time.perf_counter()
            sira.denoise(image, model, precision=a.precision, threads=a.threads, int8_ranges="model")
            py_ms.append((time.perf_counter() - t) * 1000)
        r = subprocess.run([a.sira, "bench", "-q", "-m", a.model, "--size", str(a.size), "--threads",
                            str(a.threads), "--precision", a.precision, "--runs", str(a.runs), "--json"],
                           capture_output=True, text=True, check=True)
        cpp_ms.append(json.loads(r.stdout)["median_ms"])
    py, cpp = statistics.median(py_ms), statistics.median(cpp_ms)
    print(f"{a.size}² {a.precision}, {a.threads} thread(s), {a.rounds} x {a.runs} runs: "
          f"sira.denoise {py:.1f} ms, engine alone (sira bench) {cpp:.1f} ms, ratio {py / cpp:.3f}")


if __name__ == "__main__":
    main()
