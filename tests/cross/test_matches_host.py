"""The aarch64 build (env SIRA: its binary under qemu-aarch64) against the x86-64 build
of the same sources (env SIRA_HOST): int8 restoration bit-identical, fp32 restoration
and FBP within 1e-5 of the host result's range. The host backend is its default
(oneDNN where built), the aarch64 one the portable reference kernels, so this also
checks the two backends against each other across ISAs. Run by make test-aarch64
under each QEMU_CPU it tries (with and without the dot-product extension)."""
import os
import sys
import subprocess
import tempfile

import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from sira_cli import SIRA, check, finish, ok  # noqa: E402

HOST = os.environ["SIRA_HOST"]
SRC = os.environ["SIRA_SOURCE_DIR"]
if not os.access(HOST, os.X_OK):
    raise SystemExit(f"SIRA_HOST={HOST}: no host build to compare with (make build first)")


def host(*args):
    r = subprocess.run([HOST, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"host sira {' '.join(args)}: {r.stderr}"


def relative_gap(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b))) / float(b.max() - b.min())


with tempfile.TemporaryDirectory() as tmp:
    # Three 160² crops of the shipped low-dose tooth slice, as a 3-slice stack.
    tooth = tifffile.imread(os.path.join(SRC, "samples", "tooth_lowdose.tif")).astype(np.float32)
    stack = np.stack([tooth[200:360, 200:360], tooth[240:400, 230:390], tooth[280:440, 260:420]])
    noisy = os.path.join(tmp, "noisy.npy")
    np.save(noisy, np.ascontiguousarray(stack))

    cases = [  # (model, precision, extra options)
        ("tomogan-1slice.sira", "fp32", []),
        ("tomogan-3slice.sira", "fp32", []),
        ("tomogan-1slice-int8.sira", "int8", ["--int8-ranges", "model"]),
        ("tomogan-3slice-int8.sira", "int8", ["--int8-ranges", "model"]),
        ("tomogan-1slice-int8.sira", "int8", ["--int8-ranges", "input", "--int8-calibration-window", "128"]),
    ]
    for i, (model, precision, extra) in enumerate(cases):
        m = os.path.join(SRC, "models", model)
        ours, theirs = os.path.join(tmp, f"arm{i}.npy"), os.path.join(tmp, f"x86_{i}.npy")
        common = ["-q", "-m", m, "-i", noisy, "--precision", precision, *extra]
        ok("denoise", *common, "-o", ours, "--backend", "ref", "--threads", "2")
        host("denoise", *common, "-o", theirs, "--backend", "ref")
        a, b = np.load(ours), np.load(theirs)
        what = f"{model} {precision} {' '.join(extra)}".strip()
        if precision == "int8":
            same = a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))
            check(same, f"{what}: aarch64 ref bit-identical to x86-64 ref "
                        f"({np.count_nonzero(a != b)} of {a.size} samples differ)")
        else:
            gap = relative_gap(a, b)
            check(gap <= 1e-5, f"{what}: aarch64 ref within 1e-5 of the x86-64 ref range ({gap:.2e})")
        # The host's default backend (oneDNN where built) is held to its own contract
        # with ref: fp32 within 1e-5 of the range; int8 codes within 1 LSB inside the
        # network, which reaches the output as a small fraction of the range.
        fast = os.path.join(tmp, f"x86_default_{i}.npy")
        host("denoise", *common, "-o", fast)
        gap = relative_gap(a, np.load(fast))
        limit = 1e-5 if precision == "fp32" else 0.05
        check(gap <= limit, f"{what}: aarch64 ref within {limit:g} of the x86-64 default backend's range ({gap:.2e})")

    # The fp32 fast path on ARM: aarch64 XNNPACK (NEON kernels) against the x86-64 ref.
    for i, model in enumerate(["tomogan-1slice.sira", "tomogan-3slice.sira"]):
        m = os.path.join(SRC, "models", model)
        ours, theirs = os.path.join(tmp, f"arm_xnn{i}.npy"), os.path.join(tmp, f"x86_ref{i}.npy")
        r = subprocess.run([SIRA, "denoise", "-q", "-m", m, "-i", noisy, "-o", ours, "--backend", "xnnpack",
                            "--threads", "2"], capture_output=True, text=True)
        if r.returncode != 0 and "without XNNPACK" in r.stderr:
            print(f"note: the aarch64 build has no XNNPACK backend: {r.stderr.strip()}")
            break
        check(r.returncode == 0, f"{model}: aarch64 --backend xnnpack runs ({r.stderr.strip()})")
        host("denoise", "-q", "-m", m, "-i", noisy, "-o", theirs, "--backend", "ref")
        gap = relative_gap(np.load(ours), np.load(theirs))
        check(gap <= 1e-5, f"{model} fp32: aarch64 XNNPACK within 1e-5 of the x86-64 ref range ({gap:.2e})")

    # FBP of a sinogram the host projects from a phantom.
    phantom, sino = os.path.join(tmp, "phantom.npy"), os.path.join(tmp, "sino.npy")
    host("phantom", "-q", "foam", "--size", "128", "--slices", "2", "--seed", "5", "-o", phantom)
    host("project", "-q", "-i", phantom, "-o", sino, "--angles", "180")
    ours, theirs = os.path.join(tmp, "rec_arm.npy"), os.path.join(tmp, "rec_x86.npy")
    ok("recon", "-q", "-i", sino, "-o", ours, "--angles", "0:180")
    host("recon", "-q", "-i", sino, "-o", theirs, "--angles", "0:180")
    gap = relative_gap(np.load(ours), np.load(theirs))
    check(gap <= 1e-5, f"FBP: aarch64 within 1e-5 of the x86-64 range ({gap:.2e})")

finish()
