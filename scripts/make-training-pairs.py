#!/usr/bin/python3
"""Training pair files for sira's default models, made with `sira pairs`.

  scripts/make-training-pairs.py --sira build/sira --out DIR [--phantoms N] [--real]
                                 [--without SOURCE,SOURCE] [--data ../shared/data/real]

Phantoms: N "mixed" phantoms (every recipe drawn from its seed: sample size,
feature scale, container, faint inclusions), 8 slices of 256x256 each (3-D, so
3-slice models see real neighbours), each with its own degradation drawn here
from a fixed seed: a dose range (each slice log-uniform in it) or sparse view,
detector blur, angle count, attenuation and sometimes ring-making gain errors.

Measured phantoms (--measured-phantoms N): the same kind of phantoms, but the
clean target is the reconstruction of a simulated full-dose scan (Poisson counts
at a flux drawn log-uniformly from 300 to 100000 photons: references from very
noisy to nearly noise-free) and the noisy data are thinned from its counts
(`sira pairs --clean measured`), exactly as the pairs of a real scan are made.

Real scans (--real): every source of bench/real_validation/sources.py but the
--without ones (a leave-out fold), each at several doses (binomial thinning of
its measured counts) and sparse views, with noise seeds that the validation
never uses. The files are made once; an existing file is kept.
"""
import argparse
import math
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "real_validation"))
from sources import SOURCES  # noqa: E402

REAL_DEGRADATIONS = [  # (name, sira pairs arguments)
    ("d50", ["--dose", "0.5"]), ("d20", ["--dose", "0.2"]), ("d10", ["--dose", "0.1"]),
    ("d05", ["--dose", "0.05"]), ("d02", ["--dose", "0.02"]), ("d01", ["--dose", "0.01"]),
    ("s2", ["--dose", "1", "--sparse", "2"]), ("s4", ["--dose", "1", "--sparse", "4"]),
    ("s8", ["--dose", "1", "--sparse", "8"]), ("s4d25", ["--dose", "0.25", "--sparse", "4"]),
]


def run(cmd, out):
    if Path(out).exists():
        return
    tmp = str(out) + ".part.h5"
    subprocess.run([*cmd, "-q", "-o", tmp], check=True)
    Path(tmp).rename(out)


def phantom_pairs(sira, out_dir, count, first_seed, measured=False):
    rnd = random.Random(20261207 if measured else 20261202)
    files = []
    for i in range(count):
        seed = first_seed + i
        size = 256
        angles = int(round(math.pi / 2 * size * rnd.uniform(0.35, 1.5)))
        flux = round(math.exp(rnd.uniform(math.log(300), math.log(100000)))) if measured else 20000
        args = ["--from", "phantom", "--phantom", "mixed", "--size", str(size), "--slices", "8",
                "--seed", str(seed), "--angles", str(angles), "--attenuation", f"{rnd.uniform(1.0, 6.0):.3f}",
                "--flux", str(flux), "--blur", f"{rnd.choice([0, 0, 0.5, 0.8, 1.2, 1.6]):.2f}",
                "--test-fraction", "0"]
        if measured:
            # The real scans' task: 0.8-25 % of the dose (per slice) or every 3rd-12th angle.
            args += ["--clean", "measured"]
            if rnd.random() < 0.5:
                args += ["--dose", "0.25", "--dose-min", "0.008"]
            else:
                args += ["--sparse", str(rnd.choice([3, 4, 5, 6, 8, 10, 12])), "--dose", "1"]
        elif rnd.random() < 0.55:
            args += ["--dose", f"{rnd.uniform(0.2, 1.0):.3f}", "--dose-min", "0.002"]
        else:
            args += ["--sparse", str(rnd.choice([2, 3, 4, 6, 8, 12, 16])), "--dose", "1", "--dose-min", "0.05"]
        if rnd.random() < 0.25:
            args += ["--gain-spread", f"{rnd.uniform(0.002, 0.02):.4f}"]
        path = Path(out_dir) / f"{'mphantom' if measured else 'phantom'}-{seed}.h5"
        run([sira, "pairs", *args], path)
        files.append(path)
    return files


def real_pairs(sira, out_dir, data_dir, without):
    files = []
    for s in SOURCES:
        if s.name in without:
            continue
        for k, (name, args) in enumerate(REAL_DEGRADATIONS):
            path = Path(out_dir) / f"{s.name}-{name}.h5"
            run([sira, "pairs", "--from", str(Path(data_dir) / s.file), *s.args, *args,
                 "--test-fraction", "0", "--seed", str(100 + k)], path)
            files.append(path)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default=str(ROOT / "build" / "sira"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "real"))
    ap.add_argument("--phantoms", type=int, default=0)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--measured-phantoms", type=int, default=0)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--without", default="", help="sources left out (comma list of names)")
    ap.add_argument("--list", action="store_true", help="print the files, one per line")
    a = ap.parse_args()
    Path(a.out).mkdir(parents=True, exist_ok=True)
    files = phantom_pairs(a.sira, a.out, a.phantoms, a.first_seed)
    files += phantom_pairs(a.sira, a.out, a.measured_phantoms, a.first_seed + 1000, measured=True)
    if a.real:
        files += real_pairs(a.sira, a.out, a.data, {x for x in a.without.split(",") if x})
    if a.list:
        print("\n".join(str(f) for f in files))


if __name__ == "__main__":
    main()
