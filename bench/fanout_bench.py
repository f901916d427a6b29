#!/usr/bin/env python3
"""Throughput of sira fanout with 1 and 2 workers on this machine (docs/scale.md,
"Live fan-out"): stream-sim --rate 0 (as fast as it is taken) of IMAGES slices of
SIZE^2 -> sira fanout -> workers (`sira serve --worker`, 1 engine thread each,
pinned: 1 worker on core 0; 2 workers on cores 0 and 1) -> PULL collector.
Throughput = (images - 1) / (time of the last result - time of the first), so
the start-up is left out; the workers warm up for the size before they join.
Every run checks that every image id arrived exactly once, in order. The ingest,
stream-sim and the collector are not pinned: they share the same cores.

    /usr/bin/python3 bench/fanout_bench.py --sira build/sira                 # fp32 1024², 16 images
    /usr/bin/python3 bench/fanout_bench.py --sira build/sira --precision int8 --images 32
    /usr/bin/python3 bench/fanout_bench.py --sira build/sira --precision int8 --slices 3 --images 32

State the machine's load (uptime) with the figures."""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np

from serve_bench import Collector, free_port  # the same loopback helpers as serve's bench


def run(args, model, stack, cores, work):
    inp, out, wport = free_port(), free_port(), free_port()
    log = open(os.path.join(work, f"fanout{len(cores)}.log"), "w")
    fanout = subprocess.Popen([args.sira, "fanout", "--input", f"tcp://127.0.0.1:{inp}", "--workers",
                               f"tcp://127.0.0.1:{wport}", "--push-bind", f"tcp://127.0.0.1:{out}",
                               "--exit-after", "1", "--slices", str(args.slices)], stdout=subprocess.DEVNULL, stderr=log)
    workers = [subprocess.Popen(["taskset", "-c", str(c), args.sira, "serve", "-m", model, "--precision",
                                 args.precision, "--threads", "1", "--warm-up", str(args.size), "--worker",
                                 f"tcp://127.0.0.1:{wport}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for c in cores]
    collector = Collector(out)
    deadline = time.time() + 300
    while open(log.name).read().count(") ready, credit") < len(cores) and time.time() < deadline:
        time.sleep(0.1)
    sim = subprocess.run([args.sira, "stream-sim", "-q", "-i", stack, "--bind", f"tcp://127.0.0.1:{inp}",
                          "--rate", "0", "--preload"], timeout=3600)
    fanout.wait(timeout=3600)
    time.sleep(0.3)
    collector.close()
    for w in workers:
        w.terminate()
        w.wait(timeout=120)
    log.close()
    ids = [h["frame"] for _, h in collector.got]
    if sim.returncode != 0 or ids != list(range(args.images)):
        raise SystemExit(f"{len(cores)} worker(s): ids {ids} (stream-sim exit {sim.returncode})")
    t = [tm for tm, _ in collector.got]
    return (args.images - 1) / (t[-1] - t[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default="build/sira")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    ap.add_argument("--runs", type=int, default=1, help="runs of each configuration (median)")
    ap.add_argument("--slices", type=int, default=1, choices=[1, 3],
                    help="model input slices (3: each image goes to a worker with its neighbours)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sira_fanout_bench_")
    model = os.path.join(work, f"m{args.slices}.sira")
    subprocess.run([args.sira, "init", "-q", "-o", model, "--slices", str(args.slices), "--seed", "3"], check=True)
    stack = np.random.default_rng(0).integers(0, 4000, (args.images, args.size, args.size)).astype(np.float32)
    if args.precision == "int8":
        fp32 = model
        model = os.path.join(work, f"m{args.slices}-int8.sira")
        np.save(os.path.join(work, "calib.npy"), stack[:2])
        subprocess.run([args.sira, "quantize", "-q", "-m", fp32, "-c", os.path.join(work, "calib.npy"), "-o", model],
                       check=True)
    stack_path = os.path.join(work, "stack.npy")
    np.save(stack_path, stack)
    print(f"load before: {open('/proc/loadavg').read().split()[:3]}")
    one, two = [], []
    for _ in range(args.runs):  # alternating, so that a change of load hits both
        one.append(run(args, model, stack_path, [0], work))
        two.append(run(args, model, stack_path, [0, 1], work))
    a, b = statistics.median(one), statistics.median(two)
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
    print(f"{args.slices}-slice {args.precision} {args.size}², {args.images} images: 1 worker (core 0) {a:.3f} images/s; "
          f"2 workers (cores 0, 1) {b:.3f} images/s; ratio {b / a:.2f}x (runs: {one} / {two})")


if __name__ == "__main__":
    main()
