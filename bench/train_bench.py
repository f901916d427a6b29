"""Training throughput of `sira train` (libtorch) against the same generator +
discriminator step in PyTorch, measured in the same run.

  /usr/bin/python3 bench/train_bench.py [--sira build/sira] [--crop 128] [--batch 8] [--iters 10] [--threads 2]

sira: `sira train --bench` on a synthetic pair file (no test split, so no
validation in the timed loop); crops/s = generator crops per second over the
iterations after the first. PyTorch: bench/train_step_torch.py, the same step
(1 generator + 2 discriminator steps, BCE + MSE + SSIM losses, Adam) on the
model sira exported, with the same thread count. Prints both and the ratio."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_step_torch  # noqa: E402


def write_pairs(path, slices=4, size=256, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    clean = np.stack([np.sin(6 * x + k) * np.cos(5 * y - k) for k in range(slices)]).astype(np.float32)
    noisy = (clean + 0.3 * rng.standard_normal(clean.shape)).astype(np.float32)
    with h5py.File(path, "w") as f:
        f["train_ns"], f["train_gt"] = noisy, clean


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sira", default=os.environ.get("SIRA", os.path.join(HERE, "..", "build", "sira")))
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--slices", type=int, default=3)
    a = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pairs, model = os.path.join(tmp, "pairs.h5"), os.path.join(tmp, "model.safetensors")
        write_pairs(pairs, size=max(256, a.crop))
        run = subprocess.run([a.sira, "train", "-q", "-d", pairs, "-o", model, "--crop", str(a.crop),
                              "--batch", str(a.batch), "--iters", str(a.iters + 1), "--threads", str(a.threads),
                              "--slices", str(a.slices), "--bench"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"sira train failed: {run.stderr}")
        m = re.search(r"crops/s ([0-9.eE+-]+)", run.stdout)
        if not m:
            sys.exit(f"no crops/s in sira's output: {run.stdout!r}")
        sira_cps = float(m.group(1))
        seconds = train_step_torch.time_steps(model, a.crop, a.batch, a.iters, a.threads)
        torch_cps = a.batch / seconds

    print(f"training step: crop {a.crop}, batch {a.batch}, {a.slices} slices, 1 G + 2 D steps, "
          f"{a.threads} threads, {a.iters} timed iterations")
    print(f"sira train (libtorch): {sira_cps:8.2f} crops/s  ({a.batch / sira_cps * 1e3:8.1f} ms/iteration)")
    print(f"PyTorch 1.13         : {torch_cps:8.2f} crops/s  ({seconds * 1e3:8.1f} ms/iteration)")
    print(f"ratio sira / PyTorch : {sira_cps / torch_cps:.2f}")


if __name__ == "__main__":
    main()
