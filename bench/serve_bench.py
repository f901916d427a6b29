#!/usr/bin/env python3
"""sira serve throughput and latency on loopback (docs/serve.md, "Benchmark"),
beside the offline compute-only figure of the same work in the same run.

Slices mode, 1024 x 1024 (fp32 and int8 models):
  offline    `sira bench` median time of one image (compute only, same threads)
  sustained  stream-sim --rate 0 -> serve (no-loss) -> PULL: images/s between the
             first and the last result, and its ratio to 1000 / offline median
  latency    stream-sim at 80 % of the sustained rate: p50 / p99 of the results'
             latency_ms (receive -> publish), and p99 / offline median
  overload   stream-sim at 2x the sustained rate, preview lane: p99 latency, and
             whether the drop counter equals the images not published; no-loss
             lane: whether every image id is published exactly once, in order
             (--images / (2 x sustained) seconds offered: 60 s needs about 300
             images at int8, 100 at fp32 on 2 cores)
Projections mode: a 1024-wide detector, 720 angles over 180 degrees, --rows R,
  stream-sim at --projection-rate: the latency of the first full reconstruction +
  denoise (arrival of the last projection -> its first and its last slice
  published), the time the stream took (the no-loss lane holds the sender back
  while the worker back-projects), beside offline `sira recon` + `sira denoise`
  of the same rows and `sira bench`'s median time of one 1024 x 1024 image.
  `--only projections` runs this part alone.

Figures are medians over --runs. Usage:
  /usr/bin/python3 bench/serve_bench.py --sira build/sira --threads 2
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import h5py
import numpy as np
import zmq


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = zmq.Context.instance().socket(zmq.PULL)
        self.sock.connect(f"tcp://127.0.0.1:{port}")
        self.got = []  # (monotonic time, header)
        self.running = True
        self.start()

    def run(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while self.running:
            if poller.poll(50):
                parts = self.sock.recv_multipart(copy=False)  # the payload is not looked at: no copy of it
                self.got.append((time.monotonic(), json.loads(parts[0].bytes)))

    def close(self):
        self.running = False
        self.join()
        self.sock.close(0)


def serve_run(a, model, precision, source, rate, lane="no-loss", extra=(), sim_extra=()):
    """One stream-sim -> serve run; returns (collector results, final counters)."""
    inp, out = free_port(), free_port()
    serve = subprocess.Popen([a.sira, "serve", "-m", model, "--precision", precision, "--threads", str(a.threads),
                              "--input", f"tcp://127.0.0.1:{inp}", "--push-bind", f"tcp://127.0.0.1:{out}",
                              "--lane", lane, "--exit-after", "1", *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The stream starts once the service says it is ready (engine warmed up,
    # connected), as a detector is triggered after its consumers are up; the
    # log is drained all along so that it never blocks the service.
    ready = threading.Event()

    def drain_log():
        try:
            for line in serve.stderr:
                if "ready: connected" in line:
                    ready.set()
        except ValueError:  # communicate() below closed the pipe at the end
            pass
        ready.set()

    threading.Thread(target=drain_log, daemon=True).start()
    if not ready.wait(300) or serve.poll() is not None:
        raise RuntimeError("sira serve did not become ready")
    col = Collector(out)
    t0 = time.monotonic()
    subprocess.run([a.sira, "stream-sim", "-q", "-i", source, "--bind", f"tcp://127.0.0.1:{inp}", "--rate", str(rate),
                    "--preload", *sim_extra], check=True, timeout=3600)
    a.sim_seconds = time.monotonic() - t0
    stdout, _ = serve.communicate(timeout=3600)
    time.sleep(0.2)
    col.close()
    return col.got, json.loads(stdout.strip().splitlines()[-1])


def quantile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def slices_bench(a, work, model, precision):
    warm = ("--warm-up", "1024x1024")  # the detector's size is known before its series starts
    r = subprocess.run([a.sira, "bench", "-q", "-m", model, "--precision", precision, "--size", "1024",
                        "--threads", str(a.threads), "--runs", "3", "--json"], check=True, capture_output=True, text=True)
    offline_ms = json.loads(r.stdout)["median_ms"]
    rng = np.random.default_rng(1)
    stack = (1000 + 300 * rng.standard_normal((a.images, 1024, 1024))).clip(0, 65535).astype(np.uint16)
    src = os.path.join(work, "stack.npy")
    np.save(src, stack)
    rates, lat50, lat99, over99, over_ok, lossless = [], [], [], [], [], []
    for _ in range(a.runs):
        got, _ = serve_run(a, model, precision, src, 0, extra=warm)
        t = [g[0] for g in got]
        rates.append((len(t) - 1) / (t[-1] - t[0]))
    sustained = statistics.median(rates)
    for _ in range(a.runs):
        got, _ = serve_run(a, model, precision, src, 0.8 * sustained, extra=warm)
        lat = [g[1]["latency_ms"] for g in got]
        lat50.append(quantile(lat, 0.5))
        lat99.append(quantile(lat, 0.99))
        got, c = serve_run(a, model, precision, src, 2 * sustained, lane="preview", extra=warm)
        over99.append(quantile([g[1]["latency_ms"] for g in got], 0.99))
        over_ok.append(c["dropped"] == c["received"] - c["published"] and len(got) == c["published"])
        # The no-loss lane at 2x: every image id published exactly once, in order.
        got, c = serve_run(a, model, precision, src, 2 * sustained, extra=warm)
        ids = [g[1]["frame"] for g in got]
        lossless.append(len(ids) == a.images and ids == sorted(set(ids)) and c["published"] == a.images)
    ideal = 1000.0 / offline_ms
    print(f"slices 1024x1024 {precision:5s} offline {offline_ms:8.1f} ms/image ({ideal:.3f} images/s) | "
          f"serve sustained {sustained:.3f} images/s = {sustained / ideal:.3f} of offline | "
          f"latency at 80 %: p50 {statistics.median(lat50):.0f} ms, p99 {statistics.median(lat99):.0f} ms "
          f"= {statistics.median(lat99) / offline_ms:.2f}x compute | preview at 2x: p99 "
          f"{statistics.median(over99):.0f} ms = {statistics.median(over99) / offline_ms:.2f}x compute, "
          f"drops = not published: {all(over_ok)} | no-loss at 2x ({a.images / (2 * sustained):.0f} s offered): "
          f"every id once, in order: {all(lossless)}", flush=True)


def projections_bench(a, work, model, precision):
    n, rows, cols = 720, a.rows, 1024
    rng = np.random.default_rng(2)
    theta = np.arange(n) * 180.0 / n
    yy = np.arange(cols) - cols / 2
    p = np.exp(-0.002 * np.sqrt(np.clip(400.0 ** 2 - yy ** 2, 0, None)))  # a centred disk
    data = np.broadcast_to(p, (n, rows, cols)) * 20000 + 100
    scan = os.path.join(work, "scan.h5")
    with h5py.File(scan, "w") as f:
        f["exchange/data"] = rng.poisson(data).astype(np.uint16)
        f["exchange/data_white"] = (rng.poisson(20000, (5, rows, cols)) + 100).astype(np.uint16)
        f["exchange/data_dark"] = np.full((5, rows, cols), 100, np.uint16)
        f["exchange/theta"] = theta
    r = subprocess.run([a.sira, "bench", "-q", "-m", model, "--precision", precision, "--size", "1024",
                        "--threads", str(a.threads), "--runs", "3", "--json"], check=True, capture_output=True, text=True)
    bench_ms = json.loads(r.stdout)["median_ms"]
    offline, live, first, stream = [], [], [], []
    for _ in range(a.runs):
        t0 = time.monotonic()
        rec, den = os.path.join(work, "rec.npy"), os.path.join(work, "den.npy")
        subprocess.run([a.sira, "recon", "-q", "-i", scan, "--rows", f"0:{rows}", "-o", rec, "--threads",
                        str(a.threads)], check=True)
        subprocess.run([a.sira, "denoise", "-q", "-m", model, "--precision", precision, "-i", rec, "-o", den,
                        "--threads", str(a.threads)], check=True)
        offline.append((time.monotonic() - t0) * 1000)
        got, c = serve_run(a, model, precision, scan, a.projection_rate, extra=("--mode", "projections", "--rows",
                                                                                f"0-{rows - 1}"))
        stream.append(a.sim_seconds)
        first_update = [g for g in got if g[1]["update"] == 0]
        assert len(first_update) == rows and c["published"] == c["received"], (len(first_update), c)
        first.append(first_update[0][1]["latency_ms"])
        live.append(first_update[-1][1]["latency_ms"])
    print(f"projections 1024 wide, 720 angles / 180 deg, {rows} rows, {precision:5s}: first reconstruction + "
          f"denoise published {statistics.median(first):.0f} ms (first row) and {statistics.median(live):.0f} ms "
          f"(last row) after the last projection; stream-sim at {a.projection_rate:g}/s took "
          f"{statistics.median(stream):.1f} s | offline sira recon + sira denoise of the same rows, processes "
          f"included: {statistics.median(offline):.0f} ms | sira bench one 1024x1024 image: {bench_ms:.0f} ms",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default="build/sira")
    ap.add_argument("--model", default="models/tomogan-1slice.sira")
    ap.add_argument("--int8-model", default="models/tomogan-1slice-int8.sira")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=10, help="slices per run")
    ap.add_argument("--rows", type=int, default=8, help="projections mode: rows reconstructed")
    ap.add_argument("--projection-rate", type=float, default=720, help="projections per second")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--only", choices=("slices", "projections"), help="run one part only")
    ap.add_argument("--precisions", default="fp32,int8", help="comma-separated: fp32, int8")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sira_serve_bench_") as work:
        wanted = a.precisions.split(",")
        if a.only != "projections":
            for model, precision in ((a.model, "fp32"), (a.int8_model, "int8")):
                if precision in wanted:
                    slices_bench(a, work, model, precision)
        if a.only != "slices":
            for model, precision in ((a.int8_model, "int8"), (a.model, "fp32")):
                if precision in wanted:
                    projections_bench(a, work, model, precision)


if __name__ == "__main__":
    main()
