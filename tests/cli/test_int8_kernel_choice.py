"""SIRA_INT8_CONV_KERNEL (src/engine/ref/int8_conv_kernels.hpp): forcing the portable
int8 convolution gives the same bits as the kernel sira picks itself (on an ARMv8.2
CPU, or QEMU_CPU=max under make test-aarch64, that is the SDOT kernel); an unknown
or unavailable name is a clear error before any output is written."""
import os
import sys
import subprocess
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from sira_cli import SIRA, check, finish  # noqa: E402

SRC = os.environ.get("SIRA_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
model = os.path.join(SRC, "models", "tomogan-1slice-int8.sira")

with tempfile.TemporaryDirectory() as tmp:
    rng = np.random.default_rng(3)
    noisy = os.path.join(tmp, "in.npy")
    np.save(noisy, rng.gamma(4.0, 0.05, size=(2, 72, 88)).astype(np.float32))
    args = ["denoise", "-q", "-m", model, "-i", noisy, "--backend", "ref", "--precision", "int8",
            "--int8-ranges", "model"]

    def denoise(out, kernel=None):
        env = dict(os.environ)
        env.pop("SIRA_INT8_CONV_KERNEL", None)
        if kernel is not None:
            env["SIRA_INT8_CONV_KERNEL"] = kernel
        return subprocess.run([SIRA, *args, "-o", out], capture_output=True, text=True, env=env, timeout=600)

    auto, portable = os.path.join(tmp, "auto.npy"), os.path.join(tmp, "portable.npy")
    r1, r2 = denoise(auto), denoise(portable, "portable")
    check(r1.returncode == 0 and r2.returncode == 0, f"both runs succeed ({r1.stderr.strip()} {r2.stderr.strip()})")
    if r1.returncode == 0 and r2.returncode == 0:
        a, b = np.load(auto), np.load(portable)
        check(np.array_equal(a.view(np.uint32), b.view(np.uint32)),
              f"the chosen kernel and the portable one give the same bits ({np.count_nonzero(a != b)} differ)")

    bad = os.path.join(tmp, "bad.npy")
    r = denoise(bad, "avx9000")
    check(r.returncode == 1 and "SIRA_INT8_CONV_KERNEL=avx9000: no such kernel" in r.stderr
          and "portable" in r.stderr and not os.path.exists(bad),
          f"an unknown kernel name is refused naming the choices (rc {r.returncode}: {r.stderr.strip()[:200]})")
    r = denoise(bad, "aarch64-dotprod")
    if sys.platform == "linux" and os.uname().machine == "x86_64" and "sira-emulated" not in os.environ["SIRA"]:
        check(r.returncode == 1 and "not built" in r.stderr and not os.path.exists(bad),
              f"a kernel this build lacks is refused with the reason (rc {r.returncode}: {r.stderr.strip()[:200]})")
    else:
        check(r.returncode in (0, 1) and (r.returncode == 0 or "dot-product" in r.stderr),
              f"the dot-product kernel runs, or is refused where the CPU lacks it ({r.stderr.strip()[:200]})")
finish()
