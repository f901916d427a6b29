#!/usr/bin/python3
"""The share of the grain sira's default models keep, chosen by leave-one-source-out.

A model trained towards full-dose scans removes nearly all of a low-dose
scan's noise, but the full-dose scan it should look like keeps a grain that
shares photons with the input (docs/training.md, "What the target is").
`sira keep-grain --share b` makes a residual model keep the share b of what it
removes. b is chosen here without the scan a model is scored on:

  for every real source s, the fold model that never saw s (FOLDS/without-s.sira)
  restores s's training pairs at the validation's four kinds of degradation
  (10 % and 2 % dose, every 4th and 8th angle: the d10, d02, s4, s8 pair files,
  whose noise seeds the validation never uses); each b of a grid is scored
  (scikit-image SSIM and PSNR, data range of the clean slice).
  The fold that leaves out F takes the b with the best mean SSIM over the
  sources other than F among the b whose mean PSNR is not below b = 0's;
  the model trained on every source ("all") takes it over all sources.

  scripts/keep-grain.py --sira build/sira --folds DIR --pairs WORK/pairs --json out.json
prints {fold: b} and writes the per-source curves to --json.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "real_validation"))
from sources import SOURCES  # noqa: E402

DEGRADATIONS = ["d10", "d02", "s4", "s8"]
GRID = [round(0.025 * k, 3) for k in range(17)]  # 0 .. 0.4
MAX_SLICES = 8  # evenly spaced slices of a pair file: enough for a mean, bounded for the 128-row scan


def restore(sira, model, noisy, threads):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.h5", Path(tmp) / "out.h5"
        with h5py.File(src, "w") as f:
            f["noisy"] = noisy.astype(np.float32)
        subprocess.run([sira, "denoise", "-q", "-m", str(model), "-i", f"{src}:/noisy", "-o", f"{dst}:/restored",
                        "--threads", str(threads)], check=True)
        with h5py.File(dst, "r") as f:
            return f["restored"][...].astype(np.float64)


def curves(sira, model, pair_file, threads):
    with h5py.File(pair_file, "r") as f:
        n = f["train_ns"].shape[0]
        idx = sorted({(2 * k + 1) * n // (2 * min(n, MAX_SLICES)) for k in range(min(n, MAX_SLICES))})
        noisy = f["train_ns"][idx].astype(np.float64)
        clean = f["train_gt"][idx].astype(np.float64)
    out = restore(sira, model, noisy, threads)
    ssim, psnr = [], []
    for b in GRID:
        s, p = [], []
        for o, x, c in zip(out, noisy, clean):
            r = float(c.max() - c.min())
            y = o + b * (x - o)
            s.append(structural_similarity(c, y, data_range=r))
            p.append(peak_signal_noise_ratio(c, y, data_range=r))
        ssim.append(float(np.mean(s)))
        psnr.append(float(np.mean(p)))
    return {"ssim": ssim, "psnr": psnr}


def choose(per_source, sources):
    ssim = np.mean([np.mean([c["ssim"] for c in per_source[s].values()], axis=0) for s in sources], axis=0)
    psnr = np.mean([np.mean([c["psnr"] for c in per_source[s].values()], axis=0) for s in sources], axis=0)
    allowed = [k for k in range(len(GRID)) if psnr[k] >= psnr[0]]
    return GRID[max(allowed, key=lambda k: ssim[k])]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default=str(ROOT / "build" / "sira"))
    ap.add_argument("--folds", required=True, help="folder with without-SOURCE.sira")
    ap.add_argument("--pairs", required=True, help="folder with the training pair files SOURCE-DEG.h5")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    per_source = {}
    for s in SOURCES:
        model = Path(a.folds) / f"without-{s.name}.sira"
        per_source[s.name] = {d: curves(a.sira, model, Path(a.pairs) / f"{s.name}-{d}.h5", a.threads)
                              for d in DEGRADATIONS}
        print(f"{s.name}: " + ", ".join(
            f"{d} b*={GRID[int(np.argmax(c['ssim']))]}" for d, c in per_source[s.name].items()), file=sys.stderr)
    names = [s.name for s in SOURCES]
    shares = {f: choose(per_source, [s for s in names if s != f]) for f in names}
    shares["all"] = choose(per_source, names)
    print(json.dumps(shares))
    if a.json:
        Path(a.json).write_text(json.dumps({"grid": GRID, "curves": per_source, "shares": shares}, indent=1))


if __name__ == "__main__":
    main()
