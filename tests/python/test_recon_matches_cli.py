"""sira.recon is `sira recon` (FBP) on the same sinograms: a stack of three
(slices, angles, detector) sinograms of a projected phantom and one 2-D
sinogram, the angles in radians, the default centre and a given one, every
filter, another output size and no circle mask; the oracle is the CLI run on
the same data written as HDF5 (--theta, --angle-unit rad). The CLI's FBP is
checked against scikit-image's iradon in tests/oracle/test_tomo_iradon.py."""
import os
import tempfile

import h5py
import numpy as np

import sira
from binding_checks import check, cli, finish

n_angles, width = 90, 64
theta = np.linspace(0, np.pi, n_angles, endpoint=False)
# Line integrals of three discs (the analytic projection of a disc: 2 sqrt(r^2 - s^2)).
s = np.arange(width) - (width - 1) / 2
sino = np.zeros((3, n_angles, width))
for k, (cx, cy, r) in enumerate([(0, 0, 20), (8, -5, 10), (-10, 6, 14)]):
    for i, t in enumerate(theta):
        d = s - (cx * np.cos(t) + cy * np.sin(t))
        sino[k, i] = 2 * np.sqrt(np.clip(r * r - d * d, 0, None))
sino = sino.astype(np.float32)

with tempfile.TemporaryDirectory() as tmp:
    def cli_recon(data, *extra):
        src, dst = os.path.join(tmp, "sino.h5"), os.path.join(tmp, "rec.npy")
        with h5py.File(src, "w") as f:
            f["sino"] = data
            f["theta"] = theta
        cli("-q", "recon", "-i", src + ":/sino", "--theta", "/theta", "--angle-unit", "rad", "-o", dst, *extra)
        return np.load(dst)

    def compare(name, got, want):
        same = got.dtype == np.float32 and got.shape == want.shape and np.array_equal(got, want)
        check(same, f"{name}: {got.shape} equals sira recon bit for bit")

    compare("3 slices, default centre", sira.recon(sino, theta), cli_recon(sino))
    compare("3 slices, centre 32.5", sira.recon(sino, theta, center=32.5), cli_recon(sino, "--center", "32.5"))
    for f in ("shepp-logan", "cosine", "hann"):
        compare(f"filter {f}", sira.recon(sino, theta, filter=f), cli_recon(sino, "--filter", f))
    compare("size 48, no mask", sira.recon(sino, theta, size=48, circle_mask=False),
            cli_recon(sino, "--size", "48", "--no-mask"))
    one = sira.recon(sino[1], theta)
    compare("one 2-D sinogram (float64 theta list)", sira.recon(sino[1], list(theta)), one)
    check(one.shape == (width, width), f"one sinogram gives one slice: {one.shape}")
    compare("one 2-D sinogram vs the CLI", one, cli_recon(sino[1:2]).reshape(-1, width, width)[0])
    compare("float64 sinogram read as float32", sira.recon(sino.astype(np.float64), theta), sira.recon(sino, theta))
    # The reconstruction is the phantom: disc 0 (radius 20, value 1 where alone).
    rec = sira.recon(sino, theta)
    check(abs(float(rec[0, 32, 32]) - 1.0) < 0.05, f"centre of the unit disc reconstructs to ~1: {rec[0, 32, 32]:.3f}")
finish()
