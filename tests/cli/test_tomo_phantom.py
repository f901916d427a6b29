"""`sira phantom`: the modified Shepp-Logan against scikit-image's
shepp_logan_phantom() (400 x 400, same modified/Toft intensities, not anti-aliased),
determinism by seed, 3-D output, help text and bad options."""
import os
import subprocess
import sys
import tempfile

import numpy as np
from skimage.data import shepp_logan_phantom

from sira_cli import SIRA, check, failures
from sira_cli import run as run_sira


def run(*args):
    return run_sira("phantom", *args)


tmp = tempfile.mkdtemp(prefix="sira_phantom_")

# Shepp-Logan at 400 x 400 vs scikit-image. sira's values are attenuation per pixel:
# density * attenuation / size (default attenuation 4). scikit-image samples each pixel
# once (hard edges) and stores 8-bit values, sira averages 4 x 4 samples, so they
# differ on edge pixels and by the 8-bit rounding.
out = os.path.join(tmp, "sl.npy")
r = run("shepp-logan", "--size", "400", "-o", out)
check(r.returncode == 0, f"shepp-logan written: {r.stderr.strip()}")
ours = np.load(out) / (4.0 / 400)
ref = shepp_logan_phantom()
check(ours.shape == ref.shape, f"shape {ours.shape}")
close = np.abs(ours - ref) < 0.01
check(close.mean() > 0.97, f"{close.mean():.4f} of pixels equal scikit-image's within 0.01 (edges differ)")
check(np.abs(ours - ref).mean() < 0.01, f"mean |difference| {np.abs(ours - ref).mean():.4f} < 0.01")
# scikit-image's phantom is stored as 8-bit (0.3 reads 76/255 = 0.298), hence 0.005.
for (row, col, value) in [(200, 200, 0.2), (20, 200, 1.0), (130, 200, 0.3), (200, 140, 0.0)]:
    check(abs(ref[row, col] - value) < 0.005 and abs(ours[row, col] - value) < 1e-5,
          f"pixel ({row}, {col}) = {value} in both")

# Foam: deterministic by seed, different across seeds.
a, b, c = (os.path.join(tmp, n) for n in ("a.npy", "b.npy", "c.npy"))
run("foam", "--size", "128", "--seed", "5", "-o", a)
run("foam", "--size", "128", "--seed", "5", "-o", b)
run("foam", "--size", "128", "--seed", "6", "-o", c)
A, B, C = np.load(a), np.load(b), np.load(c)
check(np.array_equal(A, B), "same seed -> identical foam")
check(np.abs(A - C).mean() > 0.1 * A.mean(), "different seed -> different foam")
yy, xx = np.mgrid[0:128, 0:128]
rad = np.hypot((xx + 0.5) / 64 - 1, (yy + 0.5) / 64 - 1)
check(np.all(A[rad > 0.92] == 0), "foam lies inside the cylinder (radius 0.9)")

# 3-D volume, HDF5 output with a preview.
vol = os.path.join(tmp, "vol.h5")
r = run("foam", "--size", "64", "--slices", "10", "-o", vol + ":/phantom", "--preview", os.path.join(tmp, "v.png"))
import h5py
with h5py.File(vol, "r") as f:
    v = f["/phantom"][:]
check(r.returncode == 0 and v.shape == (10, 64, 64) and v.dtype == np.float32, f"3-D foam {v.shape}")
check(os.path.getsize(os.path.join(tmp, "v.png")) > 100, "preview PNG written")

h = subprocess.run([SIRA, "phantom", "--help"], capture_output=True, text=True)
check("Examples" in h.stdout, "--help has examples")
r = run("cube", "-o", os.path.join(tmp, "x.npy"))
check(r.returncode != 0, "unknown phantom type refused")
r = run("foam", "--size", "1", "-o", os.path.join(tmp, "x.npy"))
check(r.returncode != 0, "size 1 refused")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
