"""Speed of sira's projector and FBP vs scikit-image (not a test).

Usage: /usr/bin/python3 bench/tomo_bench.py BUILD_DIR [--runs N] [--skimage-runs N]
Times, as median wall-clock milliseconds of whole `sira project` / `sira recon` runs
(process start and .npy I/O of ~4-8 MB included, a few ms), on 1 and 2 threads:
  FBP (ramp) of one 1024 x 1024 slice from 1024 angles,
  projection of a 1024 x 1024 phantom at 1024 angles,
and scikit-image's iradon / radon on the same data in the same run.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
from skimage.data import shepp_logan_phantom
from skimage.transform import iradon, radon, resize


def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--skimage-runs", type=int, default=1)
    args = ap.parse_args()
    sira = os.path.join(args.build_dir, "sira")
    n = 1024
    ph = resize(shepp_logan_phantom(), (n, n), anti_aliasing=True).astype(np.float32)
    theta = np.linspace(0.0, 180.0, n, endpoint=False)
    with tempfile.TemporaryDirectory() as tmp:
        src, sino, rec = (os.path.join(tmp, f) for f in ("ph.npy", "sino.npy", "rec.npy"))
        np.save(src, ph)
        subprocess.run([sira, "-q", "project", "-i", src, "-o", sino, "--angles", str(n)], check=True)
        rows = []
        for threads in (1, 2):
            env = dict(os.environ, OMP_NUM_THREADS=str(threads))
            fbp = median_ms(lambda: subprocess.run(
                [sira, "-q", "recon", "-i", sino, "-o", rec, "--angles", "0:180", "--center", "511.5"],
                check=True, env=env, stdout=subprocess.DEVNULL), args.runs)
            proj = median_ms(lambda: subprocess.run(
                [sira, "-q", "project", "-i", src, "-o", sino, "--angles", str(n)], check=True, env=env),
                args.runs)
            rows.append((threads, fbp, proj))
        sk_sino = radon(ph.astype(np.float64)[:n - 1, :n - 1], theta=theta, circle=True)
        sk_fbp = median_ms(lambda: iradon(sk_sino, theta=theta, filter_name="ramp", circle=True), args.skimage_runs)
        sk_proj = median_ms(lambda: radon(ph.astype(np.float64), theta=theta, circle=True), args.skimage_runs)
    print(f"1024x1024, 1024 angles; median of {args.runs} sira runs, {args.skimage_runs} skimage run(s)")
    print(f"scikit-image (1 thread): iradon {sk_fbp:.0f} ms, radon {sk_proj:.0f} ms")
    print("| threads | sira FBP ms | x faster than iradon | sira project ms | x faster than radon |")
    print("|---|---|---|---|---|")
    for threads, fbp, proj in rows:
        print(f"| {threads} | {fbp:.0f} | {sk_fbp / fbp:.0f} | {proj:.0f} | {sk_proj / proj:.0f} |")


if __name__ == "__main__":
    main()
