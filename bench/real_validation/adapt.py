"""`sira adapt` in the real-data validation: the scan's noisy projections only.

For one (source, degradation) cell, the evaluation file's `sira pairs` command is
run again with the same seed and `--noisy-sinograms-out`: the same noisy
sinograms its noisy slices were reconstructed from (checked: the pairs must
equal the evaluation file's). `sira adapt` fine-tunes the fold's start model on
those sinograms alone -- the clean reconstruction never enters -- and the adapted
model restores the evaluation slices like any other model.
"""
import subprocess
import tempfile
from pathlib import Path

import h5py
import numpy as np

import eval_data


def noisy_sinograms(sira, data_dir, source, degradation, seed, groups, out):
    """Writes OUT (.h5, /noisy_sinograms + /theta, attr center) for every scored group stacked."""
    sinos, theta, center = [], None, None
    with tempfile.TemporaryDirectory() as tmp:
        for k, (rows, _) in enumerate(eval_data._groups(source)):
            pairs, noisy = Path(tmp) / f"p{k}.h5", Path(tmp) / f"n{k}.h5"
            cmd = eval_data.pairs_command(sira, data_dir, source, degradation, rows, pairs, seed)
            subprocess.run(cmd + ["--noisy-sinograms-out", str(noisy)], check=True)
            with h5py.File(pairs, "r") as f:
                same = np.array_equal(f["train_ns"][...].astype(np.float64), groups[k][0])
            if not same:
                raise SystemExit(f"{source.name}/{degradation.name}: re-running sira pairs did not reproduce "
                                 "the evaluation file's noisy slices (seed or command changed?)")
            with h5py.File(noisy, "r") as f:
                sinos.append(f["noisy_sinograms"][...])
                theta, center = f["theta"][...], float(f.attrs["center"])
    with h5py.File(out, "w") as f:
        f["noisy_sinograms"] = np.concatenate(sinos)
        f["theta"] = theta
        f.attrs["center"] = center
    return center


def adapt(sira, start_model, sinograms, center, out, minutes, threads, log, apply, method="thinning"):
    """Runs sira adapt; returns (command, restored slices of the stacked groups).

    apply "splits" is Noise2Inverse's estimator (the adapted network on each
    angle subset's reconstruction, averaged: the noise level it was trained
    on; method noise2inverse only); "full" runs it on the reconstruction of
    all angles."""
    restored = Path(out).with_suffix(".denoised.h5")
    cmd = [sira, "adapt", "-q", "-i", f"{sinograms}:/noisy_sinograms", "--theta", "/theta", "--angle-unit", "rad",
           "--center", repr(center), "-m", str(start_model), "-o", str(out), "--minutes", str(minutes),
           "--threads", str(threads), "--denoised", f"{restored}:/denoised", "--apply", apply, "--method", method]
    with open(log, "w") as f:
        subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)
    with h5py.File(restored, "r") as f:
        volume = f["denoised"][...].astype(np.float64)
    return cmd, volume[None] if volume.ndim == 2 else volume  # one slice is written as a 2-D image


def split_groups(volume, groups):
    """The stacked restored volume cut back into the evaluation groups."""
    out, first = [], 0
    for noisy, _, _ in groups:
        out.append(volume[first:first + len(noisy)])
        first += len(noisy)
    if first != len(volume):
        raise SystemExit(f"sira adapt restored {len(volume)} slices, the groups hold {first}")
    return out
