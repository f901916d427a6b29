#!/usr/bin/python3
"""Validation figures for a model card: a sira model against the noisy input and
against classical denoisers from scikit-image, each tuned on the same split.

For every pair file, the test split (test_ns, test_gt) is denoised by
`sira denoise` and by Gaussian, median, total-variation and non-local-means
filters. Each classical filter's parameter is chosen from a grid to maximise
the mean SSIM over that file's test slices (so the classical figures are the
best each filter can reach on this data: an optimistic baseline). Metrics are
SSIM (Gaussian window, as sira eval) and PSNR with data range = max - min of
the file's clean test split, as `sira train` validates.

Usage:
  /usr/bin/python3 bench/denoiser_comparison.py --sira build/sira -m models/tomogan-1slice.sira \
      pairs1.h5 pairs2.h5 ... [--json out.json] [--markdown out.md]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, estimate_sigma


def score(out, clean, data_range):
    ssim = structural_similarity(clean, out, data_range=data_range, gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False)
    psnr = peak_signal_noise_ratio(clean, out, data_range=data_range)
    return ssim, psnr


def per_image(fn):
    """Run fn on the image mapped to [0, 1] by its 0.5/99.5 percentiles (as the
    model's per_image normalisation does), then map back: grids stay unit-free."""
    def wrapped(img, p):
        lo, hi = np.percentile(img, [0.5, 99.5])
        s = (hi - lo) if hi > lo else 1.0
        return fn((img - lo) / s, p) * s + lo
    return wrapped


CLASSICAL = {
    "gaussian": (per_image(lambda x, s: ndimage.gaussian_filter(x, s)), [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]),
    "median": (per_image(lambda x, k: ndimage.median_filter(x, size=k)), [3, 5, 7, 9, 11]),
    "tv": (per_image(lambda x, w: denoise_tv_chambolle(x, weight=w)), [0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.24]),
    "nlm": (per_image(lambda x, h: denoise_nl_means(x, h=h * float(estimate_sigma(x)), sigma=float(estimate_sigma(x)),
                                                   patch_size=5, patch_distance=6, fast_mode=True)),
            [0.6, 0.8, 1.0, 1.2, 1.5]),
}


def mean_scores(outs, clean, rng):
    s = [score(o, c, rng) for o, c in zip(outs, clean)]
    return float(np.mean([a for a, _ in s])), float(np.mean([b for _, b in s]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs", nargs="+")
    ap.add_argument("--sira", default="build/sira")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()

    rows, pooled = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in a.pairs:
            with h5py.File(path, "r") as f:
                if "test_ns" not in f:
                    continue
                noisy = f["test_ns"][...].astype(np.float64)
                clean = f["test_gt"][...].astype(np.float64)
            rng = float(clean.max() - clean.min())
            out_path = Path(tmp) / (Path(path).stem + "_restored.h5")
            cmd = [a.sira, "denoise", "-q", "-m", a.model, "-i", f"{path}:/test_ns", "-o", f"{out_path}:/restored"]
            if a.precision != "fp32":
                cmd += ["--precision", a.precision]
            t0 = time.time()
            subprocess.run(cmd, check=True)
            with h5py.File(out_path, "r") as f:
                restored = f["restored"][...].astype(np.float64)
            entry = {"file": Path(path).name, "slices": int(len(clean)), "size": list(clean.shape[1:]),
                     "results": {}}
            entry["results"]["noisy input"] = dict(zip(("ssim", "psnr"), mean_scores(noisy, clean, rng)))
            entry["results"]["sira " + Path(a.model).stem] = dict(zip(("ssim", "psnr"),
                                                                      mean_scores(restored, clean, rng)))
            entry["sira_seconds"] = time.time() - t0
            for name, (fn, grid) in CLASSICAL.items():
                best = None
                for p in grid:
                    s = mean_scores([fn(x, p) for x in noisy], clean, rng)
                    if best is None or s[0] > best[1][0]:
                        best = (p, s)
                entry["results"][name] = {"ssim": best[1][0], "psnr": best[1][1], "param": best[0]}
            rows.append(entry)
            print(f"{entry['file']}: " + ", ".join(f"{k} {v['ssim']:.4f}/{v['psnr']:.2f}"
                                                     for k, v in entry["results"].items()), file=sys.stderr)
    # Mean over every test slice of every file (each file weighted by its slices).
    total = sum(r["slices"] for r in rows)
    methods = list(rows[0]["results"].keys())
    for m in methods:
        pooled[m] = {k: sum(r["results"][m][k] * r["slices"] for r in rows) / total for k in ("ssim", "psnr")}
    report = {"model": a.model, "files": rows, "mean_over_slices": pooled}
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2))
    lines = ["| data (test slices) | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for r in rows:
        cells = []
        for m in methods:
            v = r["results"][m]
            extra = f" ({v['param']})" if "param" in v else ""
            cells.append(f"{v['ssim']:.4f} / {v['psnr']:.2f}{extra}")
        lines.append(f"| {r['file']} ({r['slices']}, {r['size'][0]}x{r['size'][1]}) | " + " | ".join(cells) + " |")
    lines.append("| **mean over all slices** | " + " | ".join(f"**{pooled[m]['ssim']:.4f} / {pooled[m]['psnr']:.2f}**"
                                                        for m in methods) + " |")
    table = "\n".join(lines)
    print(table)
    if a.markdown:
        Path(a.markdown).write_text(table + "\n")
    sira_key = methods[1]
    beaten = all(pooled[sira_key][k] > pooled[m][k] for m in methods[2:] for k in ("ssim", "psnr"))
    print(f"\n{sira_key} beats every tuned classical denoiser in mean SSIM and PSNR: {beaten}")


if __name__ == "__main__":
    main()
