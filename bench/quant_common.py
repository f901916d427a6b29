"""What bench/quant_recipes.py and bench/qat_recipes.py share: running sira, and
scoring one model (fp32 or int8) on the test splits of the validation sets the
way docs/quantization-results.md reports it."""
import json
import os
import subprocess
import time

import numpy as np

SETS = ["foam_dose", "foam_sparse", "tooth"]


def run(cmd):
    """Runs a command, exits naming it if it fails; returns (result, seconds)."""
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r, time.time() - t


def select(recipes, only):
    """The recipes whose name contains one of `only` (all if empty), always with the fp32 baseline."""
    if not only:
        return list(recipes)
    return [r for r in recipes if r[1] is None or any(o in r[0] for o in only)]


def score(sira, model, precision, data, work, index, threads):
    """Denoises test_ns of every set into work/<set>_<index>.h5 and scores it against
    test_gt (and, for int8, against the fp32 output work/<set>_0.h5): means over all
    images (each set scored with its own reference data range) and per set."""
    per_image = []
    for s in SETS:
        h5 = os.path.join(data, s + ".h5")
        out = os.path.join(work, f"{s}_{index}.h5")
        run([sira, "denoise", "-m", model, "-i", h5 + ":/test_ns", "-o", out + ":/data",
             "--precision", precision, "--threads", threads])
        cmd = [sira, "eval", "-i", out + ":/data", "-r", h5 + ":/test_gt", "--json"]
        if precision == "int8":
            cmd += ["--fp32", os.path.join(work, f"{s}_0.h5") + ":/data"]
        e = json.loads(run(cmd)[0].stdout)
        per_image += [(s, im["ssim"], im["psnr"], im.get("baseline", {}).get("psnr")) for im in e["images"]]
    vs = [p[3] for p in per_image if p[3] is not None]
    return {"ssim": float(np.mean([p[1] for p in per_image])),
            "psnr": float(np.mean([p[2] for p in per_image])),
            "psnr_vs_fp32": float(np.mean(vs)) if vs else None,
            "per_set": {s: {"ssim": float(np.mean([p[1] for p in per_image if p[0] == s])),
                            "psnr": float(np.mean([p[2] for p in per_image if p[0] == s]))}
                        for s in SETS}}
