#!/usr/bin/python3
"""A TomoPy-shaped workflow with sira: reconstruct, then denoise the volume.

    PYTHONPATH=build/python /usr/bin/python3 examples/tomopy_denoise.py [scan.h5] [-o out.npy]

With a Data Exchange file (dxchange layout: /exchange/data, data_white,
data_dark, theta) the projections are flat/dark normalised and -log'ed here in
numpy, as tomopy.normalize and tomopy.minus_log would; with no file a phantom's
sinograms are made instead. The reconstruction is sira.recon (tomopy.recon with
algorithm='fbp' would do as well: any float32 (slices, H, W) volume works), and
sira.denoise(recon_volume, model) restores it with a 3-slice TomoGAN.
"""
import argparse
import os
import sys

import numpy as np

import sira

HERE = os.path.dirname(os.path.abspath(__file__))


def read_dxchange(path, rows):
    import h5py

    with h5py.File(path, "r") as f:
        proj = f["/exchange/data"][:, rows[0]:rows[1], :].astype(np.float32)
        flat = f["/exchange/data_white"][:, rows[0]:rows[1], :].astype(np.float32).mean(axis=0)
        dark = f["/exchange/data_dark"][:, rows[0]:rows[1], :].astype(np.float32).mean(axis=0)
        theta = np.asarray(f["/exchange/theta"][:], dtype=np.float64)
    if np.abs(theta).max() > 2 * np.pi:
        theta = np.deg2rad(theta)
    trans = np.clip((proj - dark) / np.maximum(flat - dark, 1e-6), 1e-6, None)
    return -np.log(trans), theta  # (angles, rows, detector), as tomopy holds projections


def phantom_projections(n_angles=360, rows=6, width=256, seed=0, noise=0.1):
    """Line integrals of random discs (the analytic projection of a disc), plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, np.pi, n_angles, endpoint=False)
    s = np.arange(width) - (width - 1) / 2
    proj = np.zeros((n_angles, rows, width))
    for _ in range(12):
        cx, cy = rng.uniform(-60, 60, 2)
        r, mu = rng.uniform(8, 30), rng.uniform(0.005, 0.02)
        d = s[None, :] - (cx * np.cos(theta)[:, None] + cy * np.sin(theta)[:, None])
        proj += (mu * 2 * np.sqrt(np.clip(r * r - d * d, 0, None)))[:, None, :]
    if noise > 0:  # drawn after the discs, so noise=0 gives the same discs clean
        proj += rng.normal(0, noise, proj.shape)
    return proj.astype(np.float32), theta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scan", nargs="?", help="Data Exchange HDF5 (default: a phantom)")
    ap.add_argument("--rows", default="0:4", help="detector rows A:B to reconstruct")
    ap.add_argument("--center", type=float, default=None, help="rotation centre (default: detector middle)")
    ap.add_argument("-m", "--model", default=os.path.join(HERE, "..", "models", "tomogan-3slice.sira"))
    ap.add_argument("-o", "--output", help="write the denoised volume here (.npy)")
    a = ap.parse_args()

    if a.scan:
        first, stop = (int(v) for v in a.rows.split(":"))
        proj, theta = read_dxchange(a.scan, (first, stop))
    else:
        proj, theta = phantom_projections()
    # tomopy.recon(proj, theta, center=..., algorithm="fbp") gives the same kind of volume.
    recon_volume = sira.recon(proj.swapaxes(0, 1), theta, center=a.center)  # (slices, N, N) float32
    model = sira.load_model(a.model)
    denoised = sira.denoise(recon_volume, model)  # same shape, float32; GIL released meanwhile
    print(f"{recon_volume.shape[0]} slice(s) of {recon_volume.shape[1]}x{recon_volume.shape[2]} "
          f"reconstructed and denoised with {model!r}")
    middle = recon_volume.shape[0] // 2
    print(f"PSNR of the denoised middle slice against the reconstruction: "
          f"{sira.psnr(denoised[middle], recon_volume[middle]):.2f} dB")
    if a.output:
        np.save(a.output, denoised)
        print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
