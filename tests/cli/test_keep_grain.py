"""sira keep-grain: output = input + (1 - b) x the trained network's correction, exactly.

Hand case: a seeded residual model (whose network output is not zero) denoises a
seeded image; with --share b the output must equal input + (1 - b) x (the
original's output - input), the share is relative to the trained network (a
second keep-grain from an already scaled model, and --share 0 undoing it), and
bad requests are refused without leaving an output."""
import os
import tempfile

import numpy as np

from sira_cli import check, expect_error, finish, ok

d = tempfile.mkdtemp(prefix="sira_keep_grain_")
p = lambda name: os.path.join(d, name)  # noqa: E731

ok("init", "-q", "--slices", "1", "--residual", "--seed", "7", "-o", p("m.sira"))
ok("init", "-q", "--slices", "1", "--seed", "7", "-o", p("plain.sira"))
x = np.random.default_rng(3).random((2, 64, 64), dtype=np.float32)
np.save(p("x.npy"), x)


def restore(model):
    out = p(os.path.basename(model) + ".npy")
    ok("denoise", "-q", "-m", model, "-i", p("x.npy"), "-o", out)
    return np.load(out).astype(np.float64)


y = restore(p("m.sira"))
corr = y - x
scale = float(np.abs(corr).max())
check(scale > 1e-3, f"the seeded model changes its input (max correction {scale:.3g})")

ok("keep-grain", "-q", "-m", p("m.sira"), "-o", p("b3.sira"), "--share", "0.3")
err = float(np.abs(restore(p("b3.sira")) - (x + 0.7 * corr)).max()) / scale
check(err < 1e-4, f"--share 0.3: output = input + 0.7 x correction (max error {err:.2e} of the correction)")

# From the already scaled model: shares stay relative to the trained network.
ok("keep-grain", "-q", "-m", p("b3.sira"), "-o", p("b5.sira"), "--share", "0.5")
err = float(np.abs(restore(p("b5.sira")) - (x + 0.5 * corr)).max()) / scale
check(err < 1e-4, f"0.3 then 0.5: input + 0.5 x correction (max error {err:.2e})")
ok("keep-grain", "-q", "-m", p("b5.sira"), "-o", p("b0.sira"), "--share", "0")
err = float(np.abs(restore(p("b0.sira")) - y).max()) / scale
check(err < 1e-4, f"--share 0 undoes it (max error {err:.2e})")
info = ok("info", "-m", p("b3.sira")).stdout
check("keep_grain" in info and "0.3" in info, "info.keep_grain records the share")

# Refusals: out of range, a model without the global residual; no output left.
expect_error(("keep-grain", "-q", "-m", p("m.sira"), "-o", p("bad.sira"), "--share", "0.95"),
             "share", p("bad.sira"), code=2)
expect_error(("keep-grain", "-q", "-m", p("plain.sira"), "-o", p("bad.sira"), "--share", "0.2"),
             "residual", p("bad.sira"))
finish()
