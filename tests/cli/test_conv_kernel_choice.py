"""SIRA_INT8_CONV_KERNEL and SIRA_FP32_CONV_KERNEL (src/engine/ref/kernel_table.hpp):
every conv kernel of the ref backend this build has and this CPU runs can be forced
from the command line, and gives what the kernel sira picks itself gives:
- int8: the same bits (on x86-64 the portable kernel compiled for x86-64-v4, -v3 and
  the baseline; on an ARMv8.2 CPU, or QEMU_CPU=max under make test-aarch64, the SDOT
  kernel);
- fp32: the FMA variants (x86-64-v4, -v3) the same bits, the baseline without FMA
  within rounding (1e-5 of the output's range).
An unknown or unavailable name is a clear error before any output is written."""
import os
import sys
import subprocess
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from sira_cli import SIRA, check, finish  # noqa: E402

SRC = os.environ.get("SIRA_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ON_X86 = sys.platform == "linux" and os.uname().machine == "x86_64" and "sira-emulated" not in SIRA
VARIABLES = ("SIRA_INT8_CONV_KERNEL", "SIRA_FP32_CONV_KERNEL")
CASES = {  # precision: (model, extra arguments, environment variable, kernels to try)
    "int8": ("tomogan-1slice-int8.sira", ["--precision", "int8", "--int8-ranges", "model"], "SIRA_INT8_CONV_KERNEL",
             ["aarch64-dotprod", "x86-64-v4", "x86-64-v3", "portable"]),
    "fp32": ("tomogan-1slice.sira", ["--precision", "fp32"], "SIRA_FP32_CONV_KERNEL",
             ["x86-64-v4", "x86-64-v3", "portable"]),
}

with tempfile.TemporaryDirectory() as tmp:
    rng = np.random.default_rng(3)
    noisy = os.path.join(tmp, "in.npy")
    np.save(noisy, rng.gamma(4.0, 0.05, size=(2, 72, 88)).astype(np.float32))

    def denoise(precision, out, kernel=None):
        model, extra, variable, _ = CASES[precision]
        env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
        if kernel is not None:
            env[variable] = kernel
        args = ["denoise", "-q", "-m", os.path.join(SRC, "models", model), "-i", noisy, "--backend", "ref", *extra]
        return subprocess.run([SIRA, *args, "-o", out], capture_output=True, text=True, env=env, timeout=600)

    for precision, (_, _, variable, kernels) in CASES.items():
        auto = os.path.join(tmp, f"{precision}-auto.npy")
        r = denoise(precision, auto)
        check(r.returncode == 0, f"{precision}: the kernel sira picks runs ({r.stderr.strip()[:200]})")
        if r.returncode:
            continue
        a = np.load(auto)
        ran = []
        for kernel in kernels:
            out = os.path.join(tmp, f"{precision}-{kernel}.npy")
            r = denoise(precision, out, kernel)
            if r.returncode:
                # Refused: only for a kernel the build lacks or the CPU cannot run, with the reason.
                reason = r.stderr.strip()
                check(f"{variable}={kernel}:" in reason and ("not built" in reason or "lacks" in reason
                                                           or "no dot-product" in reason)
                      and not os.path.exists(out), f"{precision}: {kernel} refused with the reason ({reason[:200]})")
                if ON_X86:
                    check(kernel != "portable" and (kernel == "aarch64-dotprod" or "lacks" in reason),
                          f"{precision}: on x86-64 only an ARM kernel or one this CPU lacks is refused ({kernel})")
                continue
            ran.append(kernel)
            b = np.load(out)
            if precision == "int8" or kernel != "portable" or not ON_X86:
                check(np.array_equal(a.view(np.uint32), b.view(np.uint32)),
                      f"{precision}: {kernel} gives the chosen kernel's bits ({np.count_nonzero(a != b)} differ)")
            else:  # the x86-64 baseline has no FMA
                gap = float(np.max(np.abs(a - b)) / (np.ptp(a) or 1.0))
                check(gap <= 1e-5, f"{precision}: portable (no FMA) within 1e-5 of the range of the chosen ({gap:.2e})")
        check("portable" in ran, f"{precision}: the portable kernel runs everywhere (ran: {ran})")
        print(f"{precision}: kernels run {ran}")

        bad = os.path.join(tmp, f"{precision}-bad.npy")
        r = denoise(precision, bad, "avx9000")
        check(r.returncode == 1 and f"{variable}=avx9000: no such" in r.stderr and "portable" in r.stderr
              and not os.path.exists(bad),
              f"{precision}: an unknown kernel name is refused naming the choices "
              f"(rc {r.returncode}: {r.stderr.strip()[:200]})")
finish()
