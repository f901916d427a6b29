#!/usr/bin/python3
"""How far a tiled `sira denoise` with a reduced halo is from the untiled result.

For each image (an HDF5 pair file's noisy and clean datasets) it runs `sira denoise`
untiled, then with `--tile T --halo H` for each halo, and prints, per halo: the
largest difference from the untiled output as a fraction of that output's range,
the PSNR of the tiled output against the untiled one, and the change in SSIM
against the clean image (scikit-image). The default halo (the receptive radius)
should give ~0 everywhere; it is included as the control.

  bench/tile_halo_accuracy.py build/sira -m models/tomogan-1slice.sira \\
      --pair /work/data/tooth.h5:test --pair /work/data/dendrite.h5:train --tile 256
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from skimage.metrics import structural_similarity


def denoise(sira, model, inp, out, extra):
    r = subprocess.run([sira, "denoise", "-m", model, "-i", inp, "-o", out, "-q", *extra],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"sira denoise failed: {r.stderr.strip()}")
    return np.load(out).astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("sira")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--pair", action="append", required=True,
                    help="FILE.h5:SPLIT (reads SPLIT_ns and SPLIT_gt, first slice)")
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--halos", default="0,8,16,24,32,40,48")
    ap.add_argument("--extra", default="", help="more sira denoise options, e.g. '--precision int8'")
    a = ap.parse_args()
    halos = [int(h) for h in a.halos.split(",")] + [None]  # None: the default (exact)
    extra = a.extra.split()
    print(f"model {os.path.basename(a.model)}, --tile {a.tile} {' '.join(extra)}")
    print(f"{'image':28s} {'halo':>6s} {'max|diff|/range':>16s} {'PSNR vs untiled':>16s} "
          f"{'SSIM vs clean':>14s} {'dSSIM':>9s}")
    with tempfile.TemporaryDirectory() as d:
        for spec in a.pair:
            path, split = spec.rsplit(":", 1)
            with h5py.File(path, "r") as f:
                noisy = f[f"{split}_ns"][0].astype(np.float32)
                clean = f[f"{split}_gt"][0].astype(np.float64)
            inp = os.path.join(d, "in.npy")
            np.save(inp, noisy)
            whole = denoise(a.sira, a.model, inp, os.path.join(d, "whole.npy"), extra)
            span = float(whole.max() - whole.min())
            crange = float(clean.max() - clean.min())
            ssim_whole = structural_similarity(clean, whole, data_range=crange)
            name = f"{os.path.basename(path)}:{split} {noisy.shape[0]}x{noisy.shape[1]}"
            print(f"{name:28s} {'-':>6s} {'untiled':>16s} {'':>16s} {ssim_whole:14.4f}")
            for h in halos:
                opts = ["--tile", str(a.tile)] + ([] if h is None else ["--halo", str(h)])
                tiled = denoise(a.sira, a.model, inp, os.path.join(d, "tiled.npy"), extra + opts)
                diff = tiled - whole
                mse = float(np.mean(diff ** 2))
                psnr = float("inf") if mse == 0 else 10 * np.log10(span ** 2 / mse)
                s = structural_similarity(clean, tiled, data_range=crange)
                label = "exact" if h is None else str(h)
                print(f"{'':28s} {label:>6s} {np.abs(diff).max() / span:16.2e} {psnr:16.1f} "
                      f"{s:14.4f} {s - ssim_whole:+9.5f}")


if __name__ == "__main__":
    main()
