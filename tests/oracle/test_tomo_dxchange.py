"""Data Exchange / sinogram input of `sira` against NumPy computations from h5py and
tifffile reads (independent oracle), plus the errors on bad HDF5 files made with h5py.
sira's normalised sinograms come from `sira pairs --sinograms-out ... --sinograms-only`."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import tifffile

SIRA = os.environ["SIRA"]
REAL = os.path.join(os.environ["SIRA_SHARED_DATA"], "real")
TOOTH = os.path.join(REAL, "tooth_aps.h5")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def sinograms(source, out, *extra):
    r = subprocess.run([SIRA, "pairs", "--from", source, "--sinograms-out", out, "--sinograms-only", *extra],
                       capture_output=True, text=True)
    return r


def load3(path):
    """sira writes a single sinogram as a 2-D image: view every result as slices x angles x detector."""
    a = np.load(path)
    return a.reshape((-1,) + a.shape[-2:])


def expected_dxchange(data, white, dark, eps=1e-6):
    t = (data.astype(np.float64) - dark.mean(0)) / (white.mean(0) - dark.mean(0))
    return np.transpose(-np.log(np.maximum(t, eps)), (1, 0, 2))  # rows x angles x cols


def write_dx(path, data, white, dark, theta, skip=()):
    with h5py.File(path, "w") as f:
        for name, v in (("data", data), ("data_white", white), ("data_dark", dark), ("theta", theta)):
            if name not in skip:
                f[f"/exchange/{name}"] = v


tmp = tempfile.mkdtemp(prefix="sira_dx_")
with h5py.File(TOOTH, "r") as f:
    data = f["/exchange/data"][:]
    white = f["/exchange/data_white"][:]
    dark = f["/exchange/data_dark"][:]
    theta = f["/exchange/theta"][:]

# 1. The tooth: flat/dark normalisation and -log equal NumPy's to float32 precision.
out = os.path.join(tmp, "tooth.npy")
r = sinograms(TOOTH, out)
check(r.returncode == 0, f"sira reads {TOOTH}: {r.stderr.strip()}")
got = load3(out)
ref = expected_dxchange(data, white, dark)
check(got.shape == ref.shape == (2, 181, 640), f"shape rows x angles x cols {got.shape}")
err = np.abs(got - ref).max()
check(err < 2e-6 * max(1.0, np.abs(ref).max()), f"tooth sinogram equals NumPy's (max abs error {err:.2e})")
check("degrees" in r.stderr, "tooth angles (0..180) detected as degrees")

# 2. Row selection.
r = sinograms(TOOTH, os.path.join(tmp, "row1.npy"), "--rows", "1")
row1 = load3(os.path.join(tmp, "row1.npy"))
check(r.returncode == 0 and row1.shape == (1, 181, 640) and np.abs(row1[0] - ref[1]).max() < 1e-5,
      "--rows 1 selects detector row 1")
r = sinograms(TOOTH, os.path.join(tmp, "bad.npy"), "--rows", "5")
check(r.returncode != 0 and "out of range" in r.stderr, f"row 5 of 2 is refused: {r.stderr.strip()}")

# 3. Radians stay radians (no 'degrees' note); a small synthetic file checks the clip of T <= 0.
rng = np.random.default_rng(1)
small_white = rng.uniform(900, 1100, (4, 3, 16)).astype(np.float32)
small_dark = rng.uniform(5, 15, (3, 3, 16)).astype(np.float32)
small = rng.uniform(20, 1000, (12, 3, 16)).astype(np.float32)
small[2, 1, 3] = 0.0  # below the dark level: T < 0 is clipped to 1e-6
rad = os.path.join(tmp, "radians.h5")
write_dx(rad, small, small_white, small_dark, np.linspace(0, np.pi, 12, endpoint=False))
r = sinograms(rad, os.path.join(tmp, "rad.npy"))
got = load3(os.path.join(tmp, "rad.npy"))
check(r.returncode == 0 and "degrees" not in r.stderr, "radian angles are not converted")
check(np.abs(got - expected_dxchange(small, small_white, small_dark)).max() < 1e-5,
      "synthetic Data Exchange equals NumPy, including the clip at 1e-6")
check(abs(got[1, 2, 3] - (-np.log(1e-6))) < 1e-4, "non-positive transmission clipped to 1e-6 before -log")

# 4. Bad inputs: non-zero exit and a message naming the file and the problem.
def expect_error(name, needle, **changes):
    path = os.path.join(tmp, name + ".h5")
    args = dict(data=small, white=small_white, dark=small_dark, theta=np.linspace(0, 180, 12, endpoint=False))
    skip = changes.pop("skip", ())
    args.update(changes)
    write_dx(path, args["data"], args["white"], args["dark"], args["theta"], skip)
    r = sinograms(path, os.path.join(tmp, name + ".npy"))
    check(r.returncode != 0 and path in r.stderr and needle in r.stderr,
          f"{name}: exit {r.returncode}, message {r.stderr.strip()!r}")
    return r


expect_error("missing_data", "/exchange/data", skip=("data",))
expect_error("missing_white", "/exchange/data_white", skip=("data_white",))
expect_error("missing_theta", "/exchange/theta", skip=("theta",))
expect_error("theta_count", "11 angles for 12 projections", theta=np.linspace(0, 180, 11))
nan = small.copy()
nan[5, 0, 7] = np.nan
expect_error("nan_projection", "non-finite", data=nan)
zero_flat = small_white.copy()
zero_flat[:, 0, :] = small_dark.mean(0)[0, :]  # a whole detector row with white == dark
expect_error("zero_flats", "not brighter than the dark field", white=zero_flat)

# One bad flat pixel of 48 with a tolerance of 5 %: clipped (row mean flat) and reported.
one_bad = small_white.copy()
one_bad[:, 2, 5] = 0.0
path = os.path.join(tmp, "one_bad.h5")
write_dx(path, small, one_bad, small_dark, np.linspace(0, 180, 12, endpoint=False))
r = sinograms(path, os.path.join(tmp, "one_bad.npy"))
check(r.returncode != 0 and "1 of 48 flat pixels" in r.stderr, "1 bad flat pixel of 48 exceeds the default 0.1 %")
r = sinograms(path, os.path.join(tmp, "one_bad.npy"), "--max-bad-flats", "0.05")
check(r.returncode == 0 and "replaced" in r.stderr, f"... tolerated with --max-bad-flats 0.05: {r.stderr.strip()}")
if r.returncode == 0:
    got = load3(os.path.join(tmp, "one_bad.npy"))
    den = one_bad.mean(0)[2].astype(np.float64) - small_dark.mean(0)[2]
    good = np.delete(den, 5).mean()
    want = -np.log(max((small[:, 2, 5] - small_dark.mean(0)[2, 5])[4] / good, 1e-6))
    check(abs(got[2, 4, 5] - want) < 1e-5, "the bad pixel is normalised by its row's mean flat")

# 5. ToMoBAR-style dendrite file: /sinogram is detector x angles -> transposed.
dend = os.path.join(REAL, "dendrite_sinogram.h5")
r = sinograms(dend, os.path.join(tmp, "dend.npy"))
with h5py.File(dend, "r") as f:
    ref = f["/sinogram"][:].T
got = load3(os.path.join(tmp, "dend.npy"))
check(r.returncode == 0 and got.shape == (1, 360, 1260) and np.array_equal(got[0], ref),
      f"dendrite sinogram read transposed to angles x detector {got.shape}")

# 6. Neutron raw counts: each projection / median of its brightest 10 % pixels, -log.
neut = os.path.join(REAL, "neutron_sinogram_360.tif")
r = sinograms(neut, os.path.join(tmp, "neut.npy"), "--raw-counts", "--theta", "0:360")
counts = tifffile.imread(neut).astype(np.float64)
top = int(0.1 * counts.shape[1])
srt = np.sort(counts, axis=1)
open_beam = srt[:, counts.shape[1] - top + top // 2]
ref = -np.log(np.maximum(counts / open_beam[:, None], 1e-6))
got = load3(os.path.join(tmp, "neut.npy"))
check(r.returncode == 0 and got.shape == (1,) + counts.shape, f"neutron read {got.shape}: {r.stderr.strip()}")
check(np.abs(got[0] - ref).max() < 1e-4, "neutron raw counts normalised by the open-beam estimate, -log")
r = sinograms(neut, os.path.join(tmp, "neut2.npy"))
check(r.returncode != 0 and "no angles" in r.stderr, "a TIFF sinogram without angles is refused")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
