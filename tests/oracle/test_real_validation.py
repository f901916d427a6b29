"""bench/real_validation at a tiny size, every figure recomputed independently.

One real scan (the dendrite sinogram of ../shared/data/real), one degradation
(every 8th angle), two filters on their small grids and one sira model:
- the noisy input's SSIM/PSNR equal scikit-image's on the evaluation file's
  slices (read with h5py, data range from the clean slice);
- each filter's tuned figure equals the best over its grid recomputed here with
  SciPy (percentile-normalised Gaussian / median, as baselines.py documents);
- the model's figure equals scikit-image's on `sira denoise` run here on each
  scored slice;
- the leave-out rule: a model declared as trained on the scan is refused.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from sira_cli import SIRA, check, failures, ok  # noqa: E402

ROOT = Path(os.environ["SIRA_SOURCE_DIR"])
DATA = Path(os.environ["SIRA_SHARED_DATA"]) / "real"
if not (DATA / "dendrite_sinogram.h5").exists():
    print(f"SKIP: {DATA}/dendrite_sinogram.h5 is absent")
    sys.exit(0)

d = Path(tempfile.mkdtemp(prefix="sira_rv_"))
ok("init", "-q", "--slices", "1", "--residual", "--seed", "2", "-o", str(d / "m.sira"))
bench = [sys.executable, str(ROOT / "bench" / "real_validation"), "--sira", SIRA, "--data", str(DATA),
         "--work", str(d / "work"), "--sources", "dendrite", "--degradations", "sparse8",
         "--baselines", "gaussian,median", "--small-grid", "--jobs", "1"]
r = subprocess.run(bench + ["--model", f"m={d / 'm.sira'}", "--seen", "m=other_scan.h5", "--json", str(d / "r.json")],
                   capture_output=True, text=True, timeout=900)
check(r.returncode == 0, f"validation run: exit 0 ({r.stderr.strip()[-300:]})")
cell = json.loads((d / "r.json").read_text())["cells"]["dendrite/sparse8"]

with h5py.File(d / "work" / "eval" / "dendrite-sparse8.h5", "r") as f:
    groups = int(f.attrs["groups"])
    noisy = [f[f"noisy_g{k}"][i].astype(np.float64) for k in range(groups) for i in f.attrs[f"scored_g{k}"]]
    clean = [f[f"clean_g{k}"][i].astype(np.float64) for k in range(groups) for i in f.attrs[f"scored_g{k}"]]
    angles, kept = int(f.attrs["angles_g0"]), int(f.attrs["noisy_angles_g0"])
check(kept * 8 >= angles > (kept - 1) * 8, f"sparse8: the noisy scan keeps every 8th of {angles} angles ({kept})")


def scores(outs):
    s = [structural_similarity(c, o, data_range=c.max() - c.min()) for o, c in zip(outs, clean)]
    p = [peak_signal_noise_ratio(c, o, data_range=c.max() - c.min()) for o, c in zip(outs, clean)]
    return float(np.mean(s)), float(np.mean(p))


def close(a, b, tol, what):
    check(abs(a - b) <= tol, f"{what}: {a:.6f} == {b:.6f} (independent)")


ss, ps = scores(noisy)
close(cell["noisy input"]["ssim"], ss, 1e-9, "noisy input SSIM")
close(cell["noisy input"]["psnr"], ps, 1e-9, "noisy input PSNR")
check(ss < 0.9, f"the degradation is visible (noisy SSIM {ss:.3f})")


def normalised(fn, x):
    lo, hi = np.percentile(x, [0.5, 99.5])
    s = hi - lo if hi > lo else 1.0
    return fn((x - lo) / s) * s + lo


for name, grid, fn in (("gaussian", [0.75, 1.5, 3.0], lambda x, p: ndimage.gaussian_filter(x, p)),
                       ("median", [3, 7], lambda x, p: ndimage.median_filter(x, size=p))):
    table = {p: scores([normalised(lambda y: fn(y, p), x) for x in noisy]) for p in grid}
    best_s = max(table, key=lambda p: table[p][0])
    best_p = max(table, key=lambda p: table[p][1])
    close(cell[name]["ssim"], table[best_s][0], 1e-9, f"{name} tuned SSIM (param {best_s})")
    close(cell[name]["psnr"], table[best_p][1], 1e-9, f"{name} tuned PSNR (param {best_p})")
    check(cell[name]["ssim_param"] == best_s and cell[name]["psnr_param"] == best_p, f"{name}: tuned parameters")

outs = []
for k, x in enumerate(noisy):
    np.save(d / f"s{k}.npy", x.astype(np.float32))
    ok("denoise", "-q", "-m", str(d / "m.sira"), "-i", str(d / f"s{k}.npy"), "-o", str(d / f"o{k}.npy"))
    outs.append(np.load(d / f"o{k}.npy").astype(np.float64))
ms, mp = scores(outs)
close(cell["m"]["ssim"], ms, 1e-6, "model SSIM")
close(cell["m"]["psnr"], mp, 1e-6, "model PSNR")

r = subprocess.run(bench + ["--model", f"m={d / 'm.sira'}", "--seen", "m=dendrite_sinogram.h5"],
                   capture_output=True, text=True, timeout=900)
check(r.returncode != 0 and "leave-out rule" in r.stderr,
      f"a model trained on the scan is refused (rc {r.returncode}: {r.stderr.strip()[-200:]})")

if failures:
    print(f"{len(failures)} check(s) failed: {failures}", file=sys.stderr)
    sys.exit(1)
print("real validation figures agree with independent scikit-image / SciPy computations")
