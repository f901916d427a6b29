"""Pre-processing on the real scans in $SIRA_SHARED_DATA/real (skipped when absent):
- neutron beads CT (128 rows, ~0.4 % gamma spots per the data's README):
  `--remove-zingers` replaces a share of the projection samples of that order;
- neutron 360-degree sinogram: `--fix-dead-pixels` finds its two dead columns
  (314 and 346: 0 counts in ~25 % of the projections, too bright in the others);
- wood sinogram (neutron, -log, with rings): `--remove-stripes` lowers the stripe
  index (RMS of the column means minus their 21-column median) several times;
- raw counts reconstructed as line integrals draw a warning naming --raw-counts.
The figures are printed for docs/tomography-data.md ("Pre-processing")."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import scipy.ndimage as ndi

SIRA = os.environ["SIRA"]
REAL = os.path.join(os.environ["SIRA_SHARED_DATA"], "real")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    return subprocess.run([SIRA, *args], capture_output=True, text=True)


if not os.path.isdir(REAL):
    print(f"skipped: {REAL} is absent")
    sys.exit(0)
tmp = tempfile.mkdtemp(prefix="sira_prereal_")

# 1. Zingers on the beads CT (8 rows in the middle, reconstructed).
beads = os.path.join(REAL, "neutron_beads_ct_psi.h5")
r = run("recon", "-i", beads, "--rows", "60:68", "--center", "399", "--size", "64", "--remove-zingers",
        "-o", os.path.join(tmp, "beads.npy"))
m = re.search(r"zingers: (\d+) of (\d+) samples \(([\d.]+) %\).*; (\d+) in the flats, (\d+) in the darks", r.stderr)
check(r.returncode == 0 and m is not None, f"sira recon --remove-zingers on the beads CT reports a count: {r.stderr[-400:]!r}")
if m:
    share = float(m[3])
    print(f"     beads CT rows 60-67: {m[1]} of {m[2]} projection samples ({share} %), {m[4]} in flats, {m[5]} in darks")
    check(0.2 <= share <= 0.8, f"... {share} % is of the order of the README's ~0.4 %")

# 2. Dead columns of the 360-degree neutron sinogram.
neut = os.path.join(REAL, "neutron_sinogram_360.tif")
r = run("recon", "-i", neut, "--raw-counts", "--angles", "0:360", "--center", "244.5", "--size", "64",
        "--fix-dead-pixels", "-o", os.path.join(tmp, "neut.npy"))
m = re.search(r"dead pixels \(from the projections; no flat field\): (\d+) dead/hot.*?columns? ([\d, ]+)", r.stderr)
check(r.returncode == 0 and m is not None, f"--fix-dead-pixels reports the defects: {r.stderr[-400:]!r}")
if m:
    cols = [int(c) for c in m[2].replace(" ", "").split(",") if c]
    print(f"     neutron sinogram: {m[1]} defective pixel(s), columns {cols}")
    check(cols == [314, 346], f"... the dead columns are 314 and 346 (found {cols})")

# 3. Raw counts without --raw-counts: a warning that says what to pass.
r = run("recon", "-i", neut, "--angles", "0:360", "--size", "32", "-o", os.path.join(tmp, "bad.npy"))
check("warning" in r.stderr and "--raw-counts" in r.stderr, f"raw counts read as line integrals warn: {r.stderr[-300:]!r}")
r = run("recon", "-i", neut, "--angles", "0:360", "--size", "32", "--raw-counts", "-o", os.path.join(tmp, "ok.npy"))
check(r.returncode == 0 and "warning" not in r.stderr, "... and not with --raw-counts")


# 4. Stripes of the wood sinogram.
def stripe_index(sino):
    profile = sino.mean(0)
    return float(np.sqrt(np.mean((profile - ndi.median_filter(profile, 21, mode="reflect")) ** 2)))


wood = os.path.join(REAL, "wood_sinogram_neutron.tif")
plain, fixed = os.path.join(tmp, "wood.npy"), os.path.join(tmp, "wood_fixed.npy")
r1 = run("pairs", "--from", wood, "--theta", "0:180", "--sinograms-out", plain, "--sinograms-only")
r2 = run("pairs", "--from", wood, "--theta", "0:180", "--sinograms-out", fixed, "--sinograms-only", "--remove-stripes")
check(r1.returncode == 0 and r2.returncode == 0, f"wood sinograms read: {r2.stderr[-300:]!r}")
if r1.returncode == 0 and r2.returncode == 0:
    before, after = stripe_index(np.load(plain)), stripe_index(np.load(fixed))
    print(f"     wood sinogram stripe index {before:.5f} -> {after:.5f} ({before / after:.1f}x lower)")
    check(after < before / 3, "... --remove-stripes lowers it at least 3x")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all passed")
