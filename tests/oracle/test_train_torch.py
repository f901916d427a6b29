"""sira train against independent oracles:
- the libtorch generator's restoration of test_ns (--test-output) equals the
  PyTorch generator (tests/oracle/sira_torch.py) run on the exported model file,
  to 1e-5 relative;
- the logged validation SSIM/PSNR equal scikit-image's on that restoration;
- the stored normalisation is NumPy's [0.5, 99.5] percentile range;
- a TorchScript identity feature extractor makes the perceptual term equal the
  pixel MSE (hand-derived: grey repeated to 3 channels has the same MSE);
- bad input is an error naming the problem, exit code 1.
Run with Debian's /usr/bin/python3; $SIRA is the CLI."""
import csv
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sira_torch  # noqa: E402

SIRA = os.environ.get("SIRA", "build/sira")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def sira(*args):
    return subprocess.run([SIRA, *map(str, args)], capture_output=True, text=True)


def write_pairs(path, size=(44, 52), slices=5, test_slices=3, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[0], 0:size[1]] / 16.0

    def clean(n, shift):
        return np.stack([100 + 40 * np.sin(x + k + shift) * np.cos(0.7 * y - k) for k in range(n)]).astype(np.float32)

    gt, tgt = clean(slices, 0.0), clean(test_slices, 0.5)
    with h5py.File(path, "w") as f:
        f["train_gt"] = gt
        f["train_ns"] = (gt + 15 * rng.standard_normal(gt.shape)).astype(np.float32)
        f["test_gt"] = tgt
        f["test_ns"] = (tgt + 15 * rng.standard_normal(tgt.shape)).astype(np.float32)
    return gt


def restore_with_pytorch(module, norm, noisy):
    """Each slice with its neighbours (edges replicated), normalised, reflect-padded
    to a multiple of 8, through the PyTorch generator, cropped and denormalised."""
    slices, (depth, h, w) = module.cfg.slices, noisy.shape
    ph, pw = (-h) % 8, (-w) % 8
    out = np.empty_like(noisy)
    for z in range(depth):
        idx = [min(max(z + c - slices // 2, 0), depth - 1) for c in range(slices)]
        x = (noisy[idx].astype(np.float64) - norm.offset) * norm.scale
        x = np.pad(x, ((0, 0), (0, ph), (0, pw)), mode="reflect").astype(np.float32)
        with torch.no_grad():
            y = module(torch.from_numpy(x)[None])[0, 0, :h, :w].double().numpy()
        out[z] = y / norm.scale + norm.offset
    return out


def read_log(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        pairs = os.path.join(tmp, "pairs.h5")
        gt = write_pairs(pairs)
        with h5py.File(pairs, "r") as f:
            train_ns, test_ns, test_gt = f["train_ns"][()], f["test_ns"][()], f["test_gt"][()]

        for slices in (3, 1):
            model = os.path.join(tmp, f"model{slices}.safetensors")
            log = os.path.join(tmp, f"log{slices}.csv")
            restored_loc = os.path.join(tmp, f"restored{slices}.h5") + ":/restored"
            r = sira("train", "-q", "-d", pairs, "-o", model, "--slices", slices, "--crop", 32, "--batch", 2,
                     "--iters", 3, "--threads", 2, "--seed", 5, "--lr", 1e-3, "--log", log,
                     "--test-output", restored_loc)
            check(r.returncode == 0, f"sira train --slices {slices} runs ({r.stderr.strip()})")
            if r.returncode != 0:
                continue
            with h5py.File(restored_loc.split(":")[0], "r") as f:
                restored = f["restored"][()]
            module, norm, trained, info = sira_torch.load_module(model)
            check(trained and info.get("iterations") == "3", f"model is trained, info {info.get('iterations')}")
            expected = restore_with_pytorch(module, norm, test_ns)
            rel = np.abs(restored - expected).max() / np.abs(expected).max()
            check(restored.shape == test_ns.shape and rel < 1e-5,
                  f"{slices}-slice libtorch generator == PyTorch sira_torch (max rel diff {rel:.2e})")

            # Validation metrics of the last logged row vs scikit-image on the same restoration.
            last = read_log(log)[-1]
            rng_ = float(test_gt.max() - test_gt.min())
            ssim = np.mean([structural_similarity(restored[z], test_gt[z], data_range=rng_, gaussian_weights=True,
                                                  sigma=1.5, use_sample_covariance=False)
                            for z in range(len(test_gt))])
            psnr = np.mean([peak_signal_noise_ratio(test_gt[z], restored[z], data_range=rng_)
                            for z in range(len(test_gt))])
            check(abs(float(last["val_ssim"]) - ssim) < 1e-5,
                  f"logged SSIM {last['val_ssim']} == scikit-image {ssim:.6f}")
            check(abs(float(last["val_psnr"]) - psnr) < 1e-4,
                  f"logged PSNR {last['val_psnr']} == scikit-image {psnr:.6f}")

            # Normalisation: NumPy percentiles of noisy and clean training data together.
            both = np.concatenate([train_ns.ravel(), gt.ravel()])
            lo, hi = np.percentile(both, 0.5), np.percentile(both, 99.5)
            tol = 1e-3 * (hi - lo)
            check(norm.mode == "fixed" and abs(norm.offset - lo) < tol and abs(1.0 / norm.scale - (hi - lo)) < 2 * tol,
                  f"normalisation offset {norm.offset:.4f} scale {norm.scale:.6f} == NumPy [0.5, 99.5] "
                  f"percentiles {lo:.4f}..{hi:.4f}")

        # A TorchScript perceptual extractor: identity features -> perceptual == pixel MSE.
        class Identity(torch.nn.Module):
            def forward(self, x):
                return x

        extractor = os.path.join(tmp, "identity.pt")
        torch.jit.script(Identity()).save(extractor)
        log = os.path.join(tmp, "log_ts.csv")
        r = sira("train", "-q", "-d", pairs, "-o", os.path.join(tmp, "ts.safetensors"), "--crop", 32, "--batch", 2,
                 "--iters", 2, "--threads", 2, "--perceptual", extractor, "--log", log)
        check(r.returncode == 0, f"sira train --perceptual TorchScript runs ({r.stderr.strip()})")
        if r.returncode == 0:
            rows = read_log(log)
            check(all(abs(float(w["g_perceptual"]) - float(w["g_mse"])) <= 1e-6 * float(w["g_mse"]) for w in rows),
                  "identity TorchScript features: perceptual term == pixel MSE")

        # Bad input.
        out = os.path.join(tmp, "bad.safetensors")
        cases = [
            (["--loss-weights", "1,2"], "--loss-weights expects three numbers"),
            (["--crop", 64], "larger than the training images"),
            (["--crop", 30], "multiple of 8"),
            (["--perceptual", pairs], "TorchScript"),
            (["--resume", pairs], "checkpoint"),
        ]
        for extra, message in cases:
            crop = [] if "--crop" in extra else ["--crop", 32]
            r = sira("train", "-q", "-d", pairs, "-o", out, "--iters", 1, "--batch", 1, *crop, *extra)
            check(r.returncode == 1 and message in r.stderr and "sira train: error:" in r.stderr,
                  f"{extra}: exit {r.returncode}, '{r.stderr.strip()}'")
        r = sira("train", "-q", "-d", os.path.join(tmp, "absent.h5"), "-o", out, "--iters", 1, "--crop", 32)
        check(r.returncode == 1 and "absent.h5" in r.stderr, f"missing pair file: '{r.stderr.strip()}'")
        check(not os.path.exists(out), "no model written after an error")

    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
