"""Pre-processing of measured projections (--remove-zingers, --fix-dead-pixels,
--remove-stripes) against NumPy/scipy re-implementations of the published rules:
TomoPy's remove_outlier made relative (scipy.ndimage.median_filter, mode 'reflect',
where(a - m > t * |m|, m, a)) on every flat, dark and flat-corrected projection
before -log; algotom's remove_stripe_based_sorting (sort each column along the
angles, median across SIZE columns, unsort) on the -log sinograms. sira's sinograms
come from `sira pairs --sinograms-out ... --sinograms-only`."""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import scipy.ndimage as ndi

SIRA = os.environ["SIRA"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def sinograms(source, out, *extra):
    r = subprocess.run([SIRA, "pairs", "--from", source, "--sinograms-out", out, "--sinograms-only", *extra],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
    return r


def zingers(a, t, size):
    """a: frames x rows x cols (float32); the rule on each frame."""
    m = ndi.median_filter(a, size=(1, size, size), mode="reflect")
    hit = a - m > t * np.abs(m)
    return np.where(hit, m, a), int(hit.sum())


def stripes(sino, size):
    idx = np.argsort(sino, axis=0, kind="stable")
    s = ndi.median_filter(np.take_along_axis(sino, idx, 0), size=(1, size), mode="reflect")
    out = np.empty_like(sino)
    np.put_along_axis(out, idx, s, 0)
    return out


tmp = tempfile.mkdtemp(prefix="sira_pre_")
rng = np.random.default_rng(5)
A, R, C = 24, 6, 40
cols = np.arange(C)
flat = (1000 + 5 * cols)[None, None, :] * np.ones((1, R, 1))
theta = np.linspace(0, 180, A, endpoint=False)
p = 0.6 * np.clip(1 - ((cols[None, :] - 20 - 6 * np.cos(np.radians(theta))[:, None]) / 12) ** 2, 0, None)
white = rng.poisson(np.repeat(flat, 4, 0) + 100).astype(np.float32)
dark = rng.poisson(100 * np.ones((3, R, C))).astype(np.float32)
data = rng.poisson(100 + flat * np.exp(-p)[:, None, :]).astype(np.float32)
for arr, n in ((data, 60), (white, 6), (dark, 3)):  # zingers: +50 % .. +300 %
    idx = tuple(rng.integers(0, s, n) for s in arr.shape)
    arr[idx] *= rng.uniform(1.5, 4.0, n).astype(np.float32)
path = os.path.join(tmp, "z.h5")
with h5py.File(path, "w") as f:
    f["/exchange/data"], f["/exchange/data_white"], f["/exchange/data_dark"] = data, white, dark
    f["/exchange/theta"] = theta

# 1. Zingers: sira equals the rule applied to flats, darks and corrected projections.
for t, size in ((0.2, 3), (0.3, 5)):
    out = os.path.join(tmp, f"z{size}.npy")
    flag = "--remove-zingers" if t == 0.2 else f"--remove-zingers={t}"
    r = sinograms(path, out, flag, "--zinger-size", str(size))
    w, nw = zingers(white, t, size)
    d, nd = zingers(dark, t, size)
    dm, wm = d.astype(np.float64).mean(0), w.astype(np.float64).mean(0)
    T = ((data - dm) / (wm - dm)).astype(np.float32)
    T, nt = zingers(T, t, size)
    ref = np.transpose(-np.log(np.maximum(T.astype(np.float64), 1e-6)), (1, 0, 2))
    got = np.load(out) if r.returncode == 0 else None
    check(got is not None and np.abs(got - ref).max() < 1e-5,
          f"zingers t={t} {size}x{size}: sinograms equal scipy's rule "
          f"(max error {np.abs(got - ref).max() if got is not None else 'n/a'})")
    m = re.search(r"zingers: (\d+) of (\d+) samples .*; (\d+) in the flats, (\d+) in the darks", r.stderr)
    check(m is not None and (int(m[1]), int(m[3]), int(m[4])) == (nt, nw, nd),
          f"... counts reported {m.groups() if m else r.stderr!r} == scipy's ({nt}, {nw}, {nd})")
    check(nt >= 50, f"... the planted projection zingers are found ({nt} of 60 planted)")

# 2. Zingers on one row: the neighbour rows still enter the median.
out = os.path.join(tmp, "row.npy")
r = sinograms(path, out, "--remove-zingers", "--rows", "2")
full = np.load(os.path.join(tmp, "z3.npy"))
got = np.load(out) if r.returncode == 0 else None
check(got is not None and np.abs(got.reshape(full[2].shape) - full[2]).max() < 1e-6,
      "--rows 2 gives row 2 of the full filtered read")

# 3. Stripes: sira's -log sinograms with --remove-stripes equal the sort/median/unsort of
# its plain ones.
plain = os.path.join(tmp, "plain.npy")
sinograms(path, plain)
out = os.path.join(tmp, "stripes.npy")
r = sinograms(path, out, "--remove-stripes=5")
ref = np.stack([stripes(s, 5) for s in np.load(plain)])
got = np.load(out) if r.returncode == 0 else None
check(got is not None and np.abs(got - ref).max() < 1e-6, "--remove-stripes=5 equals NumPy sort / median (1, 5) / unsort")
r = sinograms(path, out, "--remove-stripes=4")
check(r.returncode != 0 and "odd" in r.stderr, f"an even window is refused: {r.stderr.strip()}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all passed")
