#!/usr/bin/python3
"""Stack throughput of `sira denoise` (HDF5 -> HDF5, reader and writer threads
around the engine) against the engine alone (`sira bench`: the same model, size,
precision and threads, no I/O, no normalisation), in slices per second.

Each round runs, alternating and each in a fresh process, `sira bench --json`
(compute-only: median of its timed runs) and `sira denoise` on a DEPTH-slice stack.
The denoise time is the pipeline time sira prints (opening the input to renaming
the finished output: every read, write, normalisation and the first slice's
warm-up); the process wall time (adding the model load and engine set-up) is shown
too. Medians over rounds; ratio = stream slices/s / compute-only slices/s.

    bench/stack_bench.py build                                  # 64 x 1024², int8 model
    bench/stack_bench.py build --size 512 --depth 16 --rounds 1  # quick
    bench/stack_bench.py build --model models/tomogan-1slice.sira --precision fp32

The input is a synthetic float32 stack (smooth structure plus noise) written with
h5py into a temporary folder (--workdir; 4 MB per 1024² slice, in and out)."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def synthetic_stack(depth, size, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    base = np.sin(xx / 37.0) * np.cos(yy / 53.0)
    for z in range(depth):
        yield ((base * (1 + 0.01 * z) + 0.3 * rng.standard_normal((size, size), np.float32) + 2.0)
               * 500.0).astype(np.float32)


def write_input(path, depth, size):
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("/exchange/data", (depth, size, size), dtype="<f4")
        for z, s in enumerate(synthetic_stack(depth, size)):
            ds[z] = s


def compute_only(sira, model, a):
    r = subprocess.run([sira, "bench", "-m", model, "--size", str(a.size), "--precision", a.precision,
                        "--threads", str(a.threads), "--runs", str(a.bench_runs), "--json"],
                       capture_output=True, text=True, check=True)
    j = json.loads(r.stdout)
    return j["median_ms"], j["median_cpu_ms"], j["backend"]


STATUS = re.compile(r"in ([0-9.e+]+) s \(.*engine ([0-9.e+]+) s, waiting for I/O ([0-9.e+]+) s\)")


def stream(sira, model, inp, out, a):
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sira, "denoise", "-m", model, "-i", inp + ":/exchange/data",
                                 "-o", out + ":/data", "--precision", a.precision,
                                 "--threads", str(a.threads)], stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"sira denoise failed: {stderr.strip()}")
    m = STATUS.search(stderr)
    if not m:
        sys.exit(f"no status line in: {stderr.strip()}")
    cpu = usage.ru_utime + usage.ru_stime  # the whole process: engine, I/O threads, set-up
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build", help="build folder holding the sira binary")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "tomogan-1slice-int8.sira"))
    p.add_argument("--precision", default="int8")
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--depth", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--bench-runs", type=int, default=5, help="timed runs of sira bench per round")
    p.add_argument("--workdir", default=None)
    a = p.parse_args()
    sira = os.path.join(a.build, "sira")

    with tempfile.TemporaryDirectory(dir=a.workdir) as d:
        inp, out = os.path.join(d, "in.h5"), os.path.join(d, "out.h5")
        write_input(inp, a.depth, a.size)
        bench_ms, bench_cpu_ms, stream_s, engine_s, wait_s, wall_s, cpu_s = [], [], [], [], [], [], []
        backend = "?"
        for r in range(a.rounds):
            ms, cpu_ms, backend = compute_only(sira, a.model, a)
            bench_ms.append(ms)
            bench_cpu_ms.append(cpu_ms)
            s, e, w, wall, cpu = stream(sira, a.model, inp, out, a)
            cpu_s.append(cpu)
            stream_s.append(s)
            engine_s.append(e)
            wait_s.append(w)
            wall_s.append(wall)
            print(f"round {r + 1}: compute-only {ms:.1f} ms/slice (CPU {cpu_ms:.1f} ms); stream "
                  f"{s:.2f} s ({1000 * s / a.depth:.1f} ms/slice; engine {e:.2f} s, engine waiting "
                  f"for I/O {w:.2f} s; process {wall:.2f} s, CPU {1000 * cpu / a.depth:.1f} ms/slice)",
                  flush=True)
        with h5py.File(out, "r") as f:
            shape = f["/data"].shape
        if shape != (a.depth, a.size, a.size):
            sys.exit(f"output shape {shape} != {(a.depth, a.size, a.size)}")

    compute = 1000.0 / statistics.median(bench_ms)
    streamed = a.depth / statistics.median(stream_s)
    process = a.depth / statistics.median(wall_s)
    print(f"\n{a.depth} x {a.size}² float32, HDF5 -> HDF5, {os.path.basename(a.model)} "
          f"{a.precision} on {backend}, {a.threads} thread(s), {a.rounds} round(s); load average "
          f"{os.getloadavg()[0]:.1f}")
    print("| | slices/s | ms/slice | vs compute-only |")
    print("|---|---|---|---|")
    print(f"| compute-only (`sira bench`, median) | {compute:.3f} | {1000 / compute:.0f} | 1 |")
    print(f"| `sira denoise` stream (pipeline time) | {streamed:.3f} | {1000 / streamed:.0f} | "
          f"**{streamed / compute:.3f}** |")
    print(f"| `sira denoise` process wall | {process:.3f} | {1000 / process:.0f} | {process / compute:.3f} |")
    print(f"engine busy {statistics.median(engine_s):.2f} s of {statistics.median(stream_s):.2f} s; "
          f"engine waiting for I/O {statistics.median(wait_s):.2f} s (medians)")
    print(f"CPU time per slice: compute-only {statistics.median(bench_cpu_ms):.0f} ms, whole denoise "
          f"process {1000 * statistics.median(cpu_s) / a.depth:.0f} ms (I/O threads, normalisation, "
          f"model load and set-up included)")


main()
