"""sira denoise --precision int8 --int8-ranges input|model: activation ranges
re-observed on the input bring the int8 result closer to the fp32 network
(the oracle: the same model's dequantised weights run in fp32) than the
ranges stored in a model calibrated on data of another kind; bad options are
refused; the run says which ranges it used."""
import os
import sys
import tempfile

import numpy as np

from sira_cli import check, expect_error, failures, run

with tempfile.TemporaryDirectory() as tmp:
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    rng = np.random.default_rng(5)
    check(run("init", "-q", "-o", p("m.sira"), "--slices", "1", "--seed", "4",
              "--widths", "4,8,8,8,4").returncode == 0, "init")
    # Calibration data of another kind: strong noise with sparse bright spikes
    # (zingers) that stretch every activation range far beyond what a smooth
    # scan needs.
    calib = rng.normal(0.0, 1.0, (4, 32, 32)).astype(np.float32)
    calib[rng.random(calib.shape) < 0.01] = 400.0
    np.save(p("calib.npy"), calib)
    y, x = np.mgrid[0:32, 0:32]
    smooth = (np.sin(x / 5.0) + np.cos(y / 7.0))[None].repeat(3, 0).astype(np.float32)
    smooth += rng.normal(0.0, 0.02, smooth.shape).astype(np.float32)
    np.save(p("scan.npy"), smooth)
    q = p("q.sira")
    check(run("quantize", "-q", "-m", p("m.sira"), "-c", p("calib.npy"), "-o", q, "--method", "minmax").returncode == 0,
          "quantize on spiky data")

    def denoise(name, *extra):
        r = run("denoise", "-m", q, "-i", p("scan.npy"), "-o", p(name), "--backend", "ref", *extra)
        check(r.returncode == 0, f"denoise {extra}: rc {r.returncode} {r.stderr.strip()}")
        return (np.load(p(name)) if r.returncode == 0 else None), r.stderr

    fp32, _ = denoise("fp32.npy", "--precision", "fp32")
    # What the input's ranges should approach: the model quantised afresh on
    # this very scan by sira quantize (its weights re-quantised too).
    check(run("quantize", "-q", "-m", p("m.sira"), "-c", p("scan.npy"), "-o", p("own.sira")).returncode == 0,
          "quantize on the scan")
    r = run("denoise", "-q", "-m", p("own.sira"), "-i", p("scan.npy"), "-o", p("own.npy"), "--backend", "ref",
            "--precision", "int8", "--int8-ranges", "model")
    own_fp32 = run("denoise", "-q", "-m", p("own.sira"), "-i", p("scan.npy"), "-o", p("own32.npy"),
                   "--backend", "ref", "--precision", "fp32")
    check(r.returncode == 0 and own_fp32.returncode == 0, "denoise with the scan's own quantisation")
    model_ranges, log_m = denoise("model.npy", "--precision", "int8", "--int8-ranges", "model")
    input_ranges, log_i = denoise("input.npy", "--precision", "int8", "--int8-calibration-slices", "2")
    check("int8 ranges of the model" in log_m, f"status names the model's ranges: {log_m.strip()!r}")
    check("int8 ranges from 2 input slice(s)" in log_i, f"status names the input's ranges: {log_i.strip()!r}")
    if fp32 is not None and model_ranges is not None and input_ranges is not None:
        span = float(fp32.max() - fp32.min())
        err_m = float(np.sqrt(np.mean((model_ranges - fp32) ** 2))) / span
        err_i = float(np.sqrt(np.mean((input_ranges - fp32) ** 2))) / span
        own, own32 = np.load(p("own.npy")), np.load(p("own32.npy"))
        err_own = float(np.sqrt(np.mean((own - own32) ** 2))) / float(own32.max() - own32.min())
        print(f"RMS error vs fp32 / range: model ranges {err_m:.5f}, input ranges {err_i:.5f}, "
              f"quantised on the scan {err_own:.5f}")
        check(err_i < 0.5 * err_m, "input ranges at least twice as close to fp32 as the model's")
        check(err_i < 1.25 * err_own, "input ranges about as close as a quantisation on the scan itself")

    expect_error(["denoise", "-m", q, "-i", p("scan.npy"), "-o", p("bad.npy"), "--precision", "int8",
                  "--int8-ranges", "file"], "--int8-ranges", p("bad.npy"), code=2)
    expect_error(["denoise", "-m", q, "-i", p("scan.npy"), "-o", p("bad.npy"), "--precision", "int8",
                  "--int8-calibration-slices", "0"], "--int8-calibration-slices", p("bad.npy"), code=2)

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
