"""Float data to integer samples: never silently flattened.
- sira convert --dtype uint16 of float data that are not integers is refused
  (it used to write an all-zero file and exit 0), leaving no output;
- --range LO:HI and --range minmax map onto the type's full range, equal to a
  NumPy computation of round(clip((v - lo) / (hi - lo), 0, 1) * top);
- float data that are already integers convert as before;
- sira denoise --dtype uint16 of a float input spanning less than 64 integers is refused
  before any output is written."""
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sira_cli import check, convert, expect_error, failures, ok  # noqa: E402

d = tempfile.mkdtemp(prefix="sira_int_out_")
rng = np.random.default_rng(5)
recon = (0.01 * rng.standard_normal((40, 52)) + 0.004).astype(np.float32)  # attenuation-like values
src = os.path.join(d, "recon.npy")
np.save(src, recon)

out = os.path.join(d, "flat.tif")
expect_error(("convert", "-i", src, "-o", out, "--dtype", "uint16"), "not an integer", out)

for spec, lo, hi, dtype, top in (("-0.01:0.02", -0.01, 0.02, "uint16", 65535),
                                 ("minmax", float(recon.min()), float(recon.max()), "uint8", 255)):
    dst = os.path.join(d, f"mapped_{dtype}.npy")
    r = convert("-i", src, "-o", dst, "--dtype", dtype, "--range", spec)
    check(r.returncode == 0, f"convert --range {spec} --dtype {dtype} succeeds ({r.stderr.strip()})")
    if r.returncode == 0:
        got = np.load(dst)
        want = np.round(np.clip((recon.astype(np.float64) - lo) / (hi - lo), 0, 1) * top)
        check(got.dtype == np.dtype(dtype) and np.array_equal(got.astype(np.float64), want),
              f"--range {spec}: {dtype} samples equal NumPy's mapping (max diff "
              f"{np.abs(got.astype(np.float64) - want).max():.0f})")
        check(len(np.unique(got)) > 100, f"--range {spec}: the data keep their levels ({len(np.unique(got))})")

bad = os.path.join(d, "bad.tif")
expect_error(("convert", "-i", src, "-o", bad, "--dtype", "uint16", "--range", "5:1"), "LO < HI", bad)
expect_error(("convert", "-i", src, "-o", bad, "--range", "0:1"), "integer type", bad)

whole = os.path.join(d, "whole.npy")
np.save(whole, np.round(recon * 1e4 + 500).astype(np.float32))
dst = os.path.join(d, "whole16.npy")
ok("convert", "-q", "-i", whole, "-o", dst, "--dtype", "uint16")
check(np.array_equal(np.load(dst), np.load(whole).astype(np.uint16)), "integer-valued float data convert unchanged")

model = os.path.join(d, "m.sira")
ok("init", "-o", model, "--slices", "1", "--widths", "4,4,4,4,4,4,4")
den = os.path.join(d, "den.tif")
expect_error(("denoise", "-m", model, "-i", src, "-o", den, "--dtype", "uint16"), "lose its values", den)

if failures:
    print(f"{len(failures)} check(s) failed: {failures}")
    sys.exit(1)
print("all checks passed")
