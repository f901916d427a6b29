#!/usr/bin/python3
"""Quantisation-aware training on a model, scored like bench/quant_recipes.py
(docs/quantization-results.md): for each recipe, `sira train --qat --init MODEL`
on the pair files, then denoise the test splits with the int8 model and score
vs the clean reference and vs the fp32 model's output.

  /usr/bin/python3 bench/qat_recipes.py --sira build/sira --model models/tomogan-1slice.sira \
      --data /work/data --work /tmp/qat-recipes [--iters 200] [--threads 1]

Training data: every pair file of --pairs (default: the default model's five);
validation: test_ns / test_gt of foam_dose, foam_sparse and tooth (13 slices),
means over all images, each set scored with its own reference data range.
Prints a Markdown table and writes results.json into --work.
"""
import argparse
import json
import os

from quant_common import SETS, run, score, select
PAIRS = ["foam_dose", "foam_sparse", "tooth", "dendrite", "neutron"]

# name, QAT options (None: the fp32 model itself)
RECIPES = [
    ("fp32", None),
    ("QAT from naive: minmax, per-tensor weights", ["--qat-method", "minmax", "--per-tensor"]),
    ("QAT from percentile + equalisation", ["--qat-method", "percentile", "--equalize"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sira", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="/work/data")
    ap.add_argument("--work", default="/tmp/qat-recipes")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--iters", default="200")
    ap.add_argument("--lr", default="1e-5")
    ap.add_argument("--crop", default="64")
    ap.add_argument("--batch", default="8")
    ap.add_argument("--weight-bits", default="7", help="7: oneDNN int8 runs it on AVX2 CPUs without VNNI")
    ap.add_argument("--loss-weights", default="0,10,1",
                    help="adv,mse,perc; default: the default model's mse/perc weights, no adversarial term "
                         "(the discriminator is not in the model file: it would start from random)")
    ap.add_argument("--d-steps", default="0")
    ap.add_argument("--calib-slices", default="1",
                    help="calibration slices per pair file (the ref fp32 calibration of the 1260x1260 dendrite "
                         "slice dominates the set-up time)")
    ap.add_argument("--only", action="append", default=[], help="run only recipes whose name contains this")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)

    recipes = select(RECIPES, a.only)
    pairs = []
    for p in PAIRS:
        pairs += ["-d", os.path.join(a.data, p + ".h5")]

    results = []
    for i, (name, args) in enumerate(recipes):
        model, precision, train_cmd, seconds = a.model, "fp32", None, None
        if args is not None:
            model = os.path.join(a.work, f"qat{i}.sira")
            train_cmd = [a.sira, "train", "--qat", "--init", a.model] + pairs + [
                "-o", model, "--iters", a.iters, "--lr", a.lr, "--crop", a.crop, "--batch", a.batch,
                "--threads", a.threads, "--normalization", "per_image", "--weight-bits", a.weight_bits,
                "--loss-weights", a.loss_weights, "--d-steps", a.d_steps, "--calib-slices", a.calib_slices,
                "--log", os.path.join(a.work, f"qat{i}.csv")] + args
            _, seconds = run(train_cmd)
            precision = "int8"
        results.append({"recipe": name, "args": args, "train_command": train_cmd, "train_seconds": seconds,
                        **score(a.sira, model, precision, a.data, a.work, i, a.threads)})
        print(name, json.dumps(results[-1]), flush=True)
        with open(os.path.join(a.work, "results.json"), "w") as f:
            json.dump(results, f, indent=1)

    fp32 = results[0]
    print("\n| recipe | QAT options | mean SSIM | ΔSSIM vs fp32 | mean PSNR (dB) | PSNR int8 vs fp32 (dB) | "
          "SSIM foam_dose / foam_sparse / tooth |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        opts = "(fp32 model)" if r["args"] is None else "`" + " ".join(r["args"]) + "`"
        vs = "—" if r["psnr_vs_fp32"] is None else f"{r['psnr_vs_fp32']:.2f}"
        sets = " / ".join(f"{r['per_set'][s]['ssim']:.4f}" for s in SETS)
        print(f"| {r['recipe']} | {opts} | {r['ssim']:.4f} | {r['ssim'] - fp32['ssim']:+.4f} | {r['psnr']:.2f} | "
              f"{vs} | {sets} |")


if __name__ == "__main__":
    main()
