"""sira train --qat from the command line: bad use is refused with a message
naming the problem, exit code 1 (2 for a CLI usage error), no output file; a
one-iteration QAT run writes an int8 model that sira info reports as such."""
import os
import sys
import tempfile

import h5py
import numpy as np

from sira_cli import expect_error, failures, run

with tempfile.TemporaryDirectory() as tmp:
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    assert run("init", "-q", "-o", p("m.sira"), "--slices", "1", "--seed", "2", "--widths", "4,8,8,8,4").returncode == 0
    rng = np.random.default_rng(1)
    clean = rng.random((3, 32, 32), dtype=np.float32)
    with h5py.File(p("pairs.h5"), "w") as f:
        f["train_gt"] = clean
        f["train_ns"] = clean + 0.1 * rng.standard_normal(clean.shape).astype(np.float32)
    np.save(p("calib.npy"), clean)
    assert run("quantize", "-m", p("m.sira"), "-c", p("calib.npy"), "-o", p("int8.sira")).returncode == 0

    out = p("q.sira")
    base = ["train", "-d", p("pairs.h5"), "-o", out, "--crop", "16", "--batch", "1", "--threads", "1"]
    expect_error(base + ["--qat"], "--qat needs --init MODEL", out)
    expect_error(base + ["--qat", "--init", p("int8.sira")], "already quantised", out)
    expect_error(base + ["--init", p("m.sira"), "--equalize"], "only apply with --qat", out)
    expect_error(base + ["--init", p("m.sira"), "--weight-bits", "7"], "only apply with --qat", out)
    expect_error(base + ["--qat", "--init", p("m.sira"), "--weight-bits", "6"], "weight-bits", out, code=2)
    expect_error(base + ["--qat", "--init", p("m.sira"), "--qat-method", "median"], "qat-method", out, code=2)

    r = run(*base, "--qat", "--init", p("m.sira"), "--iters", "1", "--weight-bits", "7", "--qat-method", "minmax")
    if r.returncode != 0:
        failures.append(f"QAT run failed: {r.stderr.strip()}")
    else:
        info = run("info", "-m", out).stdout
        for needle in ["format version 2", "info.qat: method=minmax weight_bits=7"]:
            if needle not in info:
                failures.append(f"sira info of the QAT model lacks {needle!r}:\n{info}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
