"""sira adapt (thinning and Noise2Inverse) on a small phantom scan improves on its start model.

Only the scan's noisy sinograms go in (from sira pairs --noisy-sinograms-out); the
clean reconstruction is used for scoring alone. The start model and the adapted
models denoise the very same noisy slices (the pair file's), and skimage's SSIM
against the clean slices (data range from the clean image) must rise. --keep-grain
B must give exactly input + (1 - B) x the correction of the same run with 0; a run
checks the --minutes budget stops the fine-tuning, and bad input is refused."""
import os
import re
import sys
import tempfile
import time

import h5py
import numpy as np
from skimage.metrics import structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sira_cli import check, expect_error, failures, ok  # noqa: E402

d = tempfile.mkdtemp(prefix="sira_adapt_")
p = lambda name: os.path.join(d, name)  # noqa: E731

# A foam scan, 8 slices of 64x64 at 96 angles, measured at 5 % dose: the phantom's
# sinograms stand in for a measured scan that sira pairs thins to low dose.
ok("phantom", "-q", "foam", "--size", "64", "--slices", "8", "--seed", "3", "-o", p("foam.npy"))
ok("project", "-q", "-i", p("foam.npy"), "-o", p("sino.h5") + ":/sinogram", "--angles", "96")
with h5py.File(p("sino.h5"), "a") as f:
    f["/angles_rad"] = np.arange(96) * np.pi / 96
ok("pairs", "-q", "--from", p("sino.h5"), "--dose", "0.05", "--flux", "4000", "--center", "31.5",
   "--test-fraction", "0", "--seed", "3", "-o", p("pairs.h5"), "--noisy-sinograms-out", p("noisy.h5"))
with h5py.File(p("pairs.h5"), "r") as f:
    noisy, clean = f["train_ns"][()], f["train_gt"][()]
with h5py.File(p("noisy.h5"), "r") as f:
    center = float(f.attrs["center"])
    check(f["noisy_sinograms"].shape[0] == noisy.shape[0], "noisy sinograms: one per slice")
np.save(p("noisy.npy"), noisy)

# Start model: an untrained 1-slice residual TomoGAN (output = input + network).
ok("init", "-q", "--slices", "1", "--residual", "--seed", "4", "-o", p("start.sira"))
common = ("-i", p("noisy.h5") + ":/noisy_sinograms", "--theta", "/theta", "--angle-unit", "rad",
          "--center", str(center), "-m", p("start.sira"), "--iters", "150", "--crop", "32", "--batch", "4",
          "--lr", "1e-3", "--threads", "2", "--seed", "5")
ok("adapt", "-q", *common, "-o", p("n2i.sira"), "--method", "noise2inverse", "--splits", "2", "--keep-grain", "0")
ok("adapt", "-q", *common, "-o", p("thin.sira"), "--method", "thinning", "--keep-grain", "0")
ok("adapt", "-q", *common, "-o", p("thin-grain.sira"), "--method", "thinning", "--keep-grain", "0.3")
r = ok("adapt", *common, "-o", p("thin-auto.sira"))  # the defaults: thinning, grain as the start model keeps


def restore(model):
    out = p(os.path.basename(model) + ".npy")
    ok("denoise", "-q", "-m", model, "-i", p("noisy.npy"), "-o", out)
    return np.load(out)


def score(model):
    return float(np.mean([structural_similarity(c, o, data_range=float(c.max() - c.min()))
                          for c, o in zip(clean, restore(model))]))


s_in = float(np.mean([structural_similarity(c, n, data_range=float(c.max() - c.min()))
                      for c, n in zip(clean, noisy)]))
s_start = score(p("start.sira"))
for name in ("n2i", "thin"):
    s_adapted = score(p(name + ".sira"))
    check(s_adapted > s_start + 0.02,
          f"{name}: adapted SSIM {s_adapted:.4f} > start model's {s_start:.4f} + 0.02 (noisy input {s_in:.4f})")
    check(s_adapted > s_in, f"{name}: adapted SSIM {s_adapted:.4f} > noisy input's {s_in:.4f}")

# --keep-grain 0.3: the same training (same seed and threads), the correction scaled by 0.7.
y0, y3 = restore(p("thin.sira")), restore(p("thin-grain.sira"))
want = noisy + 0.7 * (y0 - noisy)
err = float(np.abs(y3 - want).max()) / float(np.abs(y0 - noisy).max())
check(err < 1e-4, f"--keep-grain 0.3 output = input + 0.7 x correction of --keep-grain 0 (max error {err:.2e} of it)")
info = ok("info", "-m", p("thin-auto.sira")).stdout
check("keep_grain=" in info and "(auto)" in info and "info.keep_grain:" in info,
      "the adapted model records the share of grain it keeps (auto)")
check("keeps" in r.stderr and "estimated" in r.stderr, f"adapt reports the estimated flux and the grain kept: {r.stderr[-300:]}")
# The scan was thinned to 5 % of a 4000-photon flux: 200 photons per unattenuated ray.
m = re.search(r"flux=([0-9.eE+]+) \(estimated\)", r.stderr)
flux = float(m.group(1)) if m else float("nan")
check(abs(flux / 200 - 1) < 0.2, f"the flux estimated from the noisy sinograms, {flux}, is within 20 % of 200")

# The wall-clock budget ends the fine-tuning long before 100000 iterations.
t = time.monotonic()
ok("adapt", "-q", "-i", p("noisy.h5") + ":/noisy_sinograms", "--theta", "/theta", "--angle-unit", "rad",
   "--center", str(center), "-m", p("start.sira"), "-o", p("budget.sira"), "--iters", "100000",
   "--minutes", "0.1", "--crop", "32", "--batch", "2", "--threads", "2")
took = time.monotonic() - t
check(took < 60, f"--minutes 0.1 stopped the run ({took:.1f} s including set-up)")

# Bad input: a missing dataset names the file and leaves no model.
expect_error(("adapt", "-q", "-i", p("noisy.h5") + ":/absent", "--theta", "/theta", "--angle-unit", "rad",
              "-m", p("start.sira"), "-o", p("bad.sira")), "absent", p("bad.sira"))
expect_error(("adapt", "-q", "-i", p("noisy.h5") + ":/noisy_sinograms", "--theta", "/theta",
              "--angle-unit", "rad", "--splits", "1", "-m", p("start.sira"), "-o", p("bad.sira")),
             "splits", p("bad.sira"), code=2)  # a command-line error
expect_error(("adapt", "-q", "-i", p("noisy.h5") + ":/noisy_sinograms", "--theta", "/theta",
              "--angle-unit", "rad", "--keep-grain", "2", "-m", p("start.sira"), "-o", p("bad.sira")),
             "--keep-grain", p("bad.sira"))
expect_error(("adapt", "-q", "-i", p("noisy.h5") + ":/noisy_sinograms", "--theta", "/theta",
              "--angle-unit", "rad", "--apply", "splits", "-m", p("start.sira"), "-o", p("bad.sira")),
             "noise2inverse", p("bad.sira"))

if failures:
    print(f"{len(failures)} check(s) failed: {failures}", file=sys.stderr)
    sys.exit(1)
print("sira adapt improves on its start model without clean data")
