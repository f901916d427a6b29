"""sira quantize / denoise --precision from the command line: a working run,
and every unusable calibration set or precision refused with a message naming
the problem, exit code 1 (2 for a usage error) and no output file."""
import os
import sys
import tempfile

import numpy as np

from sira_cli import expect_error, failures, run

with tempfile.TemporaryDirectory() as tmp:
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    assert run("init", "-q", "-o", p("m.sira"), "--slices", "1", "--seed", "2", "--widths", "4,8,8,8,4").returncode == 0
    rng = np.random.default_rng(1)
    np.save(p("good.npy"), rng.random((2, 24, 24), dtype=np.float32))
    np.save(p("flat.npy"), np.full((2, 24, 24), 7.0, np.float32))
    nan = rng.random((2, 24, 24), dtype=np.float32)
    nan[1, 3, 4] = np.nan
    np.save(p("nan.npy"), nan)
    inf = rng.random((1, 24, 24), dtype=np.float32)
    inf[0, 0, 0] = np.inf
    np.save(p("inf.npy"), inf)

    q = p("q.sira")
    expect_error(["quantize", "-m", p("m.sira"), "-c", p("flat.npy"), "-o", q], "calibration set is constant", q)
    expect_error(["quantize", "-m", p("m.sira"), "-c", p("nan.npy"), "-o", q], "slice 1, row 3, column 4", q)
    expect_error(["quantize", "-m", p("m.sira"), "-c", p("inf.npy"), "-o", q], "non-finite", q)
    expect_error(["quantize", "-m", p("m.sira"), "-c", p("missing.npy"), "-o", q], "missing.npy", q)
    expect_error(["quantize", "-m", p("m.sira"), "-c", p("good.npy"), "-o", q, "--method", "median"], "median", q, code=2)
    expect_error(["denoise", "-m", p("m.sira"), "-i", p("good.npy"), "-o", p("o.npy"), "--precision", "int8"],
                 "needs a quantised model", p("o.npy"))

    r = run("quantize", "-m", p("m.sira"), "-c", p("good.npy"), "-c", p("flat.npy"), "-o", q, "--method", "mse",
            "--max-images", "3")
    if r.returncode != 0 or "3 calibration slice(s)" not in r.stderr:
        failures.append(f"quantize: rc {r.returncode} {r.stderr!r}")
    expect_error(["quantize", "-m", q, "-c", p("good.npy"), "-o", p("qq.sira")], "already quantised", p("qq.sira"))
    for precision in ("int8", "bf16", "fp32"):
        out = p(f"o_{precision}.npy")
        r = run("denoise", "-m", q, "-i", p("good.npy"), "-o", out, "--precision", precision, "--backend", "ref")
        if r.returncode != 0 or f"ref {precision}" not in r.stderr or np.load(out).shape != (2, 24, 24):
            failures.append(f"denoise --precision {precision}: rc {r.returncode} {r.stderr!r}")
    r = run("eval", "-i", p("o_int8.npy"), "-r", p("good.npy"), "--fp32", p("o_fp32.npy"), "--json")
    if r.returncode != 0 or '"baseline"' not in r.stdout:
        failures.append(f"eval --fp32: rc {r.returncode} {r.stderr!r}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
