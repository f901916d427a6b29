#!/usr/bin/python3
"""A side-by-side PNG of one evaluation slice on ONE intensity scale: noisy |
clean | each model | the best-tuned filters (the clean image's 0.5-99.5 %
range for every panel, so lifted backgrounds and lost contrast show).

  /usr/bin/python3 bench/real_validation/figure.py --work rv --source beads --degradation low \\
      --model p1=models/p1.sira --filter tv=0.5 --filter nlm=1.0 -o beads-low.png [--crop Y0:Y1,X0:X1]
"""
import argparse
import sys
from pathlib import Path

import numpy as np
from skimage import io

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baselines  # noqa: E402
import eval_data  # noqa: E402
import models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default="build/sira")
    ap.add_argument("--work", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--degradation", required=True)
    ap.add_argument("--group", type=int, default=0)
    ap.add_argument("--model", action="append", default=[], help="NAME=PATH[@int8]")
    ap.add_argument("--filter", action="append", default=[], help="NAME=PARAM")
    ap.add_argument("--crop", help="Y0:Y1,X0:X1")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    groups = eval_data.load(Path(a.work) / "eval" / f"{a.source}-{a.degradation}.h5")
    g = groups[a.group]
    i = g[2][0]
    noisy, clean = g[0][i], g[1][i]
    panels = [noisy, clean]
    for spec in a.model:
        m = models.parse_model_spec(spec)
        panels.append(models.denoise_groups(str(Path(a.sira).resolve()), m.path, m.precision, [g], 2)[0][i])
    for spec in a.filter:
        name, p = spec.split("=")
        panels.append(baselines.run_filter(name, noisy, float(p) if "." in p else int(p)))
    lo, hi = np.percentile(clean, [0.5, 99.5])
    if a.crop:
        (y0, y1), (x0, x1) = [tuple(int(v) for v in part.split(":")) for part in a.crop.split(",")]
        panels = [p[y0:y1, x0:x1] for p in panels]
    row = np.concatenate([np.clip((p - lo) / (hi - lo), 0, 1) for p in panels], axis=1)
    io.imsave(a.output, (row * 255).astype(np.uint8), check_contrast=False)
    print("panels: noisy, clean, " + ", ".join(a.model + a.filter))


if __name__ == "__main__":
    main()
