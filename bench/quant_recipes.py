#!/usr/bin/python3
"""int8 recipes on a model: quantise with each recipe, denoise the test splits,
score vs the clean reference and vs the fp32 output (docs/quantization-results.md).

  /usr/bin/python3 bench/quant_recipes.py --sira build/sira --model MODEL.sira \
      --data /work/data --work /tmp/quant-recipes [--calib-per-set 2] [--threads 2] [--weight-bits 7]

Calibration: the first --calib-per-set train_ns slices of foam_dose.h5 and
foam_sparse.h5 and a centre 256x256 crop of tooth.h5's train_ns slice.
Validation: test_ns / test_gt of the same three files; the table's means are
over all their images (each set scored with its own reference data range).
Prints a Markdown table and writes results.json into --work.
"""
import argparse
import json
import os

import h5py
import numpy as np

from quant_common import run, score, select

# name, sira quantize arguments (None: the fp32 model itself)
RECIPES = [
    ("fp32", None),
    ("naive: minmax, per-tensor weights", ["--method", "minmax", "--per-tensor"]),
    ("minmax, per-channel", ["--method", "minmax"]),
    ("percentile (default 99.9999), per-channel", ["--method", "percentile"]),
    ("mse, per-channel", ["--method", "mse"]),
    ("entropy, per-channel", ["--method", "entropy"]),
    ("naive + bias correction", ["--method", "minmax", "--per-tensor", "--bias-correction"]),
    ("naive + equalisation", ["--method", "minmax", "--per-tensor", "--equalize"]),
    ("naive + equalisation + bias correction", ["--method", "minmax", "--per-tensor", "--equalize", "--bias-correction"]),
    ("percentile + bias correction", ["--method", "percentile", "--bias-correction"]),
    ("percentile + equalisation", ["--method", "percentile", "--equalize"]),
    ("percentile + equalisation + bias correction", ["--method", "percentile", "--equalize", "--bias-correction"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sira", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="/work/data")
    ap.add_argument("--work", default="/tmp/quant-recipes")
    ap.add_argument("--calib-per-set", type=int, default=2)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--weight-bits", default="7",
                    help="7 (default): oneDNN runs it on AVX2 without VNNI, ~100x faster than the ref int8 "
                         "backend that 8-bit weights need on such CPUs")
    ap.add_argument("--target-psnr", type=float, action="append", default=[],
                    help="add a mixed-precision recipe (percentile + bias correction) at this target")
    ap.add_argument("--mixed-max-images", type=int, default=1,
                    help="calibration slices of the mixed-precision recipes (their search runs the ref int8 "
                         "backend ~2 x layers times: oneDNN runs all-int8 models only)")
    ap.add_argument("--only", action="append", default=[], help="run only recipes whose name contains this")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)

    calib = os.path.join(a.work, "calib.h5")
    with h5py.File(calib, "w") as out:
        slices = []
        for s in ["foam_dose", "foam_sparse"]:
            with h5py.File(os.path.join(a.data, s + ".h5")) as f:
                slices += list(f["train_ns"][: a.calib_per_set])
        with h5py.File(os.path.join(a.data, "tooth.h5")) as f:
            t = f["train_ns"][0]
            y, x = (t.shape[0] - 256) // 2, (t.shape[1] - 256) // 2
            slices.append(t[y:y + 256, x:x + 256])
        out["data"] = np.stack(slices).astype(np.float32)

    recipes = list(RECIPES)  # the mixed-precision recipes join the selection below
    for t in a.target_psnr:
        recipes.append((f"percentile + bias correction + mixed precision, target {t:g} dB",
                        ["--method", "percentile", "--bias-correction", "--target-psnr", str(t),
                         "--max-images", str(a.mixed_max_images)]))
    recipes = select(recipes, a.only)

    results = []
    for i, (name, args) in enumerate(recipes):
        model, precision, status = a.model, "fp32", ""
        if args is not None:
            model = os.path.join(a.work, f"recipe{i}.sira")
            r, qs = run([a.sira, "quantize", "-m", a.model, "-c", calib + ":/data", "-o", model,
                         "--threads", a.threads, "--weight-bits", a.weight_bits] + args)
            status = r.stderr.strip()
            precision = "int8"
        results.append({"recipe": name, "args": args, "status": status,
                        **score(a.sira, model, precision, a.data, a.work, i, a.threads)})
        print(name, json.dumps(results[-1]), flush=True)
        with open(os.path.join(a.work, "results.json"), "w") as f:
            json.dump(results, f, indent=1)

    fp32 = results[0]
    print("\n| recipe | `sira quantize` options | mean SSIM | ΔSSIM vs fp32 | mean PSNR (dB) | PSNR int8 vs fp32 (dB) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        opts = "(fp32 model)" if r["args"] is None else "`" + " ".join(r["args"]) + "`"
        vs = "—" if r["psnr_vs_fp32"] is None else f"{r['psnr_vs_fp32']:.2f}"
        print(f"| {r['recipe']} | {opts} | {r['ssim']:.4f} | {r['ssim'] - fp32['ssim']:+.4f} | {r['psnr']:.2f} | {vs} |")


if __name__ == "__main__":
    main()
