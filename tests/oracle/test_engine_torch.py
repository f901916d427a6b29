"""sira denoise (every backend) vs PyTorch on the same model file and input.

The PyTorch side (sira_torch.TomoGAN, loaded from the .sira file) repeats the
engine's contract from docs/engine.md independently: neighbourhood [i-1, i, i+1]
with the ends repeated, normalisation from the centre slice (numpy.percentile
for per_image models), F.pad(mode='reflect') on the bottom/right to a multiple of
8, crop, denormalise. Random-weight models (`sira init`, published widths) cover
1 and 3 slices and the three upsampling modes; sizes 97x131, 256x256 and 45x77;
a per_image (pixel and 8x8-block percentiles) and a fixed normalisation; untiled
and tiled runs; a global-residual model.
Pass: max |sira - torch| <= 1e-4 x (torch output range), per case."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sira_torch  # noqa: E402

SIRA = os.environ["SIRA"]
torch.set_num_threads(2)
failures = []


def run(*args):
    return subprocess.run([SIRA, *args], capture_output=True, text=True, timeout=600)


def torch_denoise(model_path, stack):
    """stack: D x H x W float32 -> D x H x W float64, as docs/engine.md specifies."""
    module, norm, _, _ = sira_torch.load_module(model_path)
    slices, levels = module.cfg.slices, module.cfg.levels
    m = 2 ** levels
    d, h, w = stack.shape
    ph, pw = (-h) % m, (-w) % m
    out = np.empty((d, h, w), dtype=np.float64)
    for i in range(d):
        centre = stack[i].astype(np.float64)
        if norm.mode == "per_image":
            b = min(norm.block, h, w)
            # Means of the whole b x b tiles (the last partial row/column left out).
            tiles = centre[:h // b * b, :w // b * b].reshape(h // b, b, w // b, b).mean(axis=(1, 3))
            lo, hi = np.percentile(tiles, list(norm.percentiles))
            offset, scale = lo, (1.0 / (hi - lo) if hi > lo else 1.0)
        else:
            offset, scale = norm.offset, norm.scale
        picks = [min(max(i + c - slices // 2, 0), d - 1) for c in range(slices)]
        x = (stack[picks].astype(np.float64) - offset) * scale
        x = torch.from_numpy(x.astype(np.float32))[None]
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        with torch.no_grad():
            y = module(x)[0, 0, :h, :w].double().numpy()
        out[i] = y / scale + offset
    return out


def compare(label, model_path, stack, backends, extra=()):
    with tempfile.TemporaryDirectory() as d:
        inp = os.path.join(d, "in.npy")
        np.save(inp, stack if stack.shape[0] > 1 else stack[0])
        want = torch_denoise(model_path, stack)
        rng = float(want.max() - want.min())
        for backend in backends:
            outp = os.path.join(d, f"out_{backend}.npy")
            r = run("denoise", "-m", model_path, "-i", inp, "-o", outp, "--backend", backend,
                    "--threads", "2", "-q", *extra)
            if r.returncode != 0:
                print(f"FAIL {label} [{backend}]: exit {r.returncode}: {r.stderr.strip()}")
                failures.append(label)
                continue
            got = np.load(outp)
            got = got.reshape(stack.shape)
            err = float(np.abs(got.astype(np.float64) - want).max())
            ok = rng > 0 and err <= 1e-4 * rng
            print(f"{'ok  ' if ok else 'FAIL'} {label} [{backend}{' ' + ' '.join(extra) if extra else ''}]: "
                  f"max abs err {err:.3g}, output range {rng:.3g}, ratio {err / rng if rng else float('inf'):.2g}")
            if not ok:
                failures.append(f"{label} [{backend}]")


def main():
    backends = ["ref"]
    with tempfile.TemporaryDirectory() as d:
        probe = os.path.join(d, "probe.sira")
        assert run("init", "-o", probe, "--slices", "1", "--widths", "4,4,4,4,4,4,4").returncode == 0
        np.save(os.path.join(d, "p.npy"), np.ones((16, 16), np.float32))
        # The optional backends this build has (a build without one says so).
        for name, library in (("onednn", "oneDNN"), ("xnnpack", "XNNPACK")):
            r = run("denoise", "-m", probe, "-i", os.path.join(d, "p.npy"), "-o",
                    os.path.join(d, "q.npy"), "--backend", name, "-q")
            if r.returncode == 0:
                backends.append(name)
            elif f"without {library}" in r.stderr:
                print(f"note: this sira was built without {library}")
            else:
                print(f"FAIL {name} probe: {r.stderr.strip()}")
                failures.append(f"{name} probe")

        rng = np.random.default_rng(1234)

        def model(name, slices, upsample, seed):
            path = os.path.join(d, name)
            r = run("init", "-o", path, "--slices", str(slices), "--upsample", upsample,
                    "--seed", str(seed))
            assert r.returncode == 0, r.stderr
            return path

        # Intensities like a reconstruction: smooth structure plus noise, offset from 0.
        def stack(depth, h, w):
            yy, xx = np.mgrid[0:h, 0:w]
            base = np.sin(xx / 9.0) * np.cos(yy / 13.0)
            s = np.stack([base * (1 + 0.1 * k) for k in range(depth)])
            return (s + 0.3 * rng.standard_normal(s.shape) + 2.0).astype(np.float32) * 50

        m3b = model("m3_bilinear.sira", 3, "bilinear", 1)
        m1n = model("m1_nearest.sira", 1, "nearest", 2)
        m3t = model("m3_transposed.sira", 3, "transposed", 3)
        m1b = model("m1_bilinear.sira", 1, "bilinear", 4)

        compare("3-slice bilinear, stack 3x97x131", m3b, stack(3, 97, 131), backends)
        compare("1-slice nearest, 256x256", m1n, stack(1, 256, 256), backends)
        compare("3-slice transposed, 45x77 (one 2-D image)", m3t, stack(1, 45, 77), backends)
        compare("3-slice transposed, stack 2x97x131", m3t, stack(2, 97, 131), backends)
        compare("1-slice bilinear, 256x256 tiled", m1b, stack(1, 256, 256), backends,
                ("--tile", "64"))
        compare("3-slice bilinear, 97x131 tiled", m3b, stack(2, 97, 131), backends, ("--tile", "48"))

        # A fixed normalisation (as trained models carry), written by PyTorch. The offset
        # is kept small: an untrained net varies little, and float32 output rounding at a
        # large offset would swamp the comparison.
        module, _, _, _ = sira_torch.load_module(m3b)
        fixed = os.path.join(d, "m3_fixed.sira")
        sira_torch.write_sira(fixed, module, sira_torch.Normalization("fixed", -0.5, 0.02))
        compare("3-slice bilinear, fixed normalisation, 3x97x131", fixed, stack(3, 97, 131), backends)

        # A global-residual model with block percentiles (the shipped models' form),
        # untiled and tiled.
        module.cfg.residual = True
        resid = os.path.join(d, "m3_residual.sira")
        sira_torch.write_sira(resid, module, sira_torch.Normalization("per_image", block=8))
        compare("3-slice residual, 8x8-block percentiles, 3x97x131", resid, stack(3, 97, 131), backends)
        compare("3-slice residual, 8x8-block percentiles, tiled", resid, stack(3, 97, 131), backends,
                ("--tile", "48"))
        module1, _, _, _ = sira_torch.load_module(m1b)
        module1.cfg.residual = True
        resid1 = os.path.join(d, "m1_residual.sira")
        sira_torch.write_sira(resid1, module1, sira_torch.Normalization("per_image", block=5))
        compare("1-slice residual, 5x5-block percentiles, 45x77", resid1, stack(1, 45, 77), backends)

    if failures:
        print(f"{len(failures)} case(s) failed: {failures}", file=sys.stderr)
        sys.exit(1)
    print("sira denoise matches PyTorch on every case")


main()
