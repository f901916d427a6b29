"""`sira eval` against scikit-image's SSIM and PSNR on real images.

Images: the neutron sinogram (TIFF) and the dendrite sinogram (HDF5) from
$SIRA_SHARED_DATA/real, cropped to odd sizes, and scikit-image's bundled
camera/coins/page/phantom images; test images are noisy and blurred versions,
all float32. The oracle is
  structural_similarity(result, reference, data_range=R, gaussian_weights=True,
                        sigma=1.5, use_sample_covariance=False)
  peak_signal_noise_ratio(reference, result, data_range=R)
What is asserted, per image:
  * against skimage run on the same float32 values promoted to float64 (the
    arithmetic sira uses): |SSIM diff| <= 1e-9 and |PSNR diff| <= 1e-9 dB;
  * against skimage run on the float32 arrays (the task's bar):
    |SSIM diff| <= 1e-5 and |PSNR diff| <= 1e-6 relative;
  * data_range = max - min of the reference (float64) unless --data-range;
  * means = numpy mean of the per-image skimage values.
Bad input (shape mismatch, too small, NaN, constant reference, bad range,
missing file) must give a non-zero exit and a message naming the problem.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import tifffile
from scipy import ndimage
from skimage import data as skdata
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

SIRA = os.environ["SIRA"]
REAL = os.path.join(os.environ["SIRA_SHARED_DATA"], "real")
failures = []
worst = {"ssim vs float64": 0.0, "ssim vs float32": 0.0, "psnr vs float64": 0.0,
         "psnr vs float32 (relative)": 0.0}


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def sk_ssim(x, y, r):
    return structural_similarity(x, y, data_range=r, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)


def run(*args):
    p = subprocess.run([SIRA, "eval", *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def eval_json(*args):
    rc, out, err = run(*args, "--json")
    if rc != 0:
        raise RuntimeError(f"sira eval {' '.join(args)} failed ({rc}): {err}")
    return json.loads(out)


def compare_image(name, got, result, reference, r):
    """Checks one {'ssim','psnr'} entry of sira's JSON against skimage."""
    r64, f64 = reference.astype(np.float64), result.astype(np.float64)
    ssim64 = sk_ssim(f64, r64, r)
    ssim32 = sk_ssim(result, reference, r)
    psnr64 = peak_signal_noise_ratio(r64, f64, data_range=r)
    psnr32 = peak_signal_noise_ratio(reference, result, data_range=r)
    for key, diff in (("ssim vs float64", abs(got["ssim"] - ssim64)),
                      ("ssim vs float32", abs(got["ssim"] - ssim32)),
                      ("psnr vs float64", abs(got["psnr"] - psnr64)),
                      ("psnr vs float32 (relative)", abs(got["psnr"] - psnr32) / abs(psnr32))):
        worst[key] = max(worst[key], diff)
    check(abs(got["ssim"] - ssim64) <= 1e-9, f"{name}: ssim {got['ssim']} vs skimage(float64) {ssim64}")
    check(abs(got["ssim"] - ssim32) <= 1e-5, f"{name}: ssim {got['ssim']} vs skimage(float32) {ssim32}")
    check(abs(got["psnr"] - psnr64) <= 1e-9, f"{name}: psnr {got['psnr']} vs skimage(float64) {psnr64}")
    check(abs(got["psnr"] - psnr32) <= 1e-6 * abs(psnr32),
          f"{name}: psnr {got['psnr']} vs skimage(float32) {psnr32}")
    return ssim64, psnr64


def degrade(ref, kind, rng):
    """Noisy or blurred float32 copy of a float32 reference."""
    r = float(ref.max()) - float(ref.min())
    if kind == "noisy":
        return (ref + rng.normal(0.0, 0.05 * r, ref.shape)).astype(np.float32)
    if kind == "blurred":
        return ndimage.gaussian_filter(ref.astype(np.float64), 1.2).astype(np.float32)
    raise ValueError(kind)


def references():
    """Named float32 2-D references of several (odd) sizes."""
    neutron = tifffile.imread(os.path.join(REAL, "neutron_sinogram_360.tif")).astype(np.float32)
    with h5py.File(os.path.join(REAL, "dendrite_sinogram.h5"), "r") as f:
        dendrite = f["sinogram"][()].astype(np.float32)
    return {
        "neutron 97x131": neutron[100:197, 200:331],
        "neutron full 459x503": neutron,
        "dendrite 211x97": dendrite[500:711, 40:137],
        "dendrite 11x360 (minimum height)": dendrite[300:311],
        "camera 512x512": skdata.camera().astype(np.float32),
        "coins 303x384": skdata.coins().astype(np.float32),
        "page 191x384 scaled": skdata.page().astype(np.float32) / 255.0,
        "phantom 400x400": skdata.shepp_logan_phantom().astype(np.float32),
    }


def test_single_images(tmp, rng):
    for name, ref in references().items():
        for kind in ("noisy", "blurred"):
            res = degrade(ref, kind, rng)
            np.save(os.path.join(tmp, "ref.npy"), ref)
            np.save(os.path.join(tmp, "res.npy"), res)
            out = eval_json("-i", os.path.join(tmp, "res.npy"), "-r", os.path.join(tmp, "ref.npy"))
            r = float(ref.max()) - float(ref.min())
            check(out["data_range"] == r, f"{name}: data_range {out['data_range']} != {r}")
            check(len(out["images"]) == 1 and out["images"][0]["index"] == 0, f"{name}: one image")
            compare_image(f"{name} {kind}", out["images"][0], res, ref, r)
            check(out["mean"]["ssim"] == out["images"][0]["ssim"], f"{name}: mean of one image")


def test_explicit_range_and_other_formats(tmp, rng):
    # Reference as TIFF, result as an HDF5 dataset, range from the option.
    ref = references()["neutron 97x131"]
    res = degrade(ref, "noisy", rng)
    tifffile.imwrite(os.path.join(tmp, "ref.tif"), ref)
    with h5py.File(os.path.join(tmp, "res.h5"), "w") as f:
        f["/exchange/data"] = res
    out = eval_json("-i", os.path.join(tmp, "res.h5") + ":/exchange/data",
                    "-r", os.path.join(tmp, "ref.tif"), "--data-range", "65535")
    check(out["data_range"] == 65535.0, "explicit data range reported")
    compare_image("tif/h5 --data-range 65535", out["images"][0], res, ref, 65535.0)

    # The real 16-bit big-endian neutron TIFF itself as the reference.
    neutron_file = os.path.join(REAL, "neutron_sinogram_360.tif")
    ref = tifffile.imread(neutron_file).astype(np.float32)
    res = degrade(ref, "blurred", rng)
    np.save(os.path.join(tmp, "res.npy"), res)
    out = eval_json("-i", os.path.join(tmp, "res.npy"), "-r", neutron_file)
    r = float(ref.max()) - float(ref.min())
    check(out["data_range"] == r, f"neutron TIFF: data_range {out['data_range']} != {r}")
    compare_image("neutron TIFF as reference", out["images"][0], res, ref, r)


def test_stack(tmp, rng):
    neutron = references()["neutron full 459x503"]
    ref = np.stack([neutron[0:97, 0:131], neutron[150:247, 300:431], neutron[362:459, 372:503]])
    res = np.stack([degrade(ref[0], "noisy", rng), degrade(ref[1], "blurred", rng), ref[2] + 7.0])
    res = res.astype(np.float32)
    np.save(os.path.join(tmp, "ref3.npy"), ref)
    np.save(os.path.join(tmp, "res3.npy"), res)
    out = eval_json("-i", os.path.join(tmp, "res3.npy"), "-r", os.path.join(tmp, "ref3.npy"))
    r = float(ref.max()) - float(ref.min())  # over the whole stack, not per slice
    check(out["data_range"] == r, f"stack: data_range {out['data_range']} != {r}")
    check([im["index"] for im in out["images"]] == [0, 1, 2], "stack: three indexed images")
    ssims, psnrs = [], []
    for i in range(3):
        s, p = compare_image(f"stack slice {i}", out["images"][i], res[i], ref[i], r)
        ssims.append(s)
        psnrs.append(p)
    check(abs(psnrs[2] - 20 * math.log10(r / 7.0)) < 1e-9, "stack: offset slice has analytic PSNR")
    check(abs(out["mean"]["ssim"] - np.mean(ssims)) <= 1e-9, "stack: mean ssim")
    check(abs(out["mean"]["psnr"] - np.mean(psnrs)) <= 1e-9, "stack: mean psnr")

    # --baseline: RESULT is also scored against BASELINE with the reference's range.
    base = (res + rng.normal(0.0, 0.01 * r, res.shape)).astype(np.float32)
    np.save(os.path.join(tmp, "base3.npy"), base)
    out = eval_json("-i", os.path.join(tmp, "res3.npy"), "-r", os.path.join(tmp, "ref3.npy"),
                    "--baseline", os.path.join(tmp, "base3.npy"))
    bs = []
    for i in range(3):
        compare_image(f"stack slice {i}", out["images"][i], res[i], ref[i], r)
        bs.append(compare_image(f"baseline slice {i}", out["images"][i]["baseline"], res[i], base[i], r))
    check(abs(out["mean"]["baseline"]["ssim"] - np.mean([b[0] for b in bs])) <= 1e-9, "baseline mean ssim")
    check(abs(out["mean"]["baseline"]["psnr"] - np.mean([b[1] for b in bs])) <= 1e-9, "baseline mean psnr")

    # The text table carries the same numbers.
    rc, text, err = run("-i", os.path.join(tmp, "res3.npy"), "-r", os.path.join(tmp, "ref3.npy"))
    check(rc == 0, f"text output exit code {rc}: {err}")
    mean_line = [line for line in text.splitlines() if line.split()[:1] == ["mean"]]
    check(len(mean_line) == 1 and abs(float(mean_line[0].split()[1]) - np.mean(ssims)) < 1e-6,
          f"text table mean line: {text}")
    check("max - min of the reference" in text, "text output states the data range source")


def test_identical(tmp):
    ref = references()["coins 303x384"]
    np.save(os.path.join(tmp, "same.npy"), ref)
    out = eval_json("-i", os.path.join(tmp, "same.npy"), "-r", os.path.join(tmp, "same.npy"))
    check(out["images"][0]["psnr"] is None and out["mean"]["psnr"] is None,
          "identical images: infinite PSNR written as null")
    check(abs(out["images"][0]["ssim"] - 1.0) <= 1e-12, "identical images: SSIM 1")


def expect_failure(name, args, needle):
    rc, out, err = run(*args)
    check(rc != 0, f"{name}: exit code {rc} should be non-zero")
    check(needle in err, f"{name}: stderr should mention '{needle}': {err!r}")


def test_bad_input(tmp):
    ref = references()["neutron 97x131"]
    p = lambda n: os.path.join(tmp, n)  # noqa: E731
    np.save(p("a.npy"), ref)
    np.save(p("b.npy"), ref[:, :130])
    expect_failure("shape mismatch", ["-i", p("b.npy"), "-r", p("a.npy")], "b.npy")
    np.save(p("stack2.npy"), np.stack([ref, ref]))
    expect_failure("depth mismatch", ["-i", p("stack2.npy"), "-r", p("a.npy")], "shapes must match")
    expect_failure("baseline mismatch", ["-i", p("a.npy"), "-r", p("a.npy"), "--baseline", p("b.npy")],
                   "b.npy")
    np.save(p("small.npy"), ref[:10, :40])
    expect_failure("smaller than window", ["-i", p("small.npy"), "-r", p("small.npy")], "11x11")
    check("small.npy" in run("-i", p("small.npy"), "-r", p("small.npy"))[2], "too small: names the file")
    nan = ref.copy()
    nan[5, 7] = np.nan
    np.save(p("nan.npy"), nan)
    expect_failure("NaN in result", ["-i", p("nan.npy"), "-r", p("a.npy")], "nan.npy")
    expect_failure("NaN in reference", ["-i", p("a.npy"), "-r", p("nan.npy")], "nan.npy")
    np.save(p("flat.npy"), np.full_like(ref, 3.0))
    expect_failure("constant reference", ["-i", p("a.npy"), "-r", p("flat.npy")], "--data-range")
    expect_failure("zero data range", ["-i", p("a.npy"), "-r", p("a.npy"), "--data-range", "0"],
                   "data-range")
    expect_failure("missing file", ["-i", p("absent.npy"), "-r", p("a.npy")], "absent.npy")
    rc, _, _ = run("-r", p("a.npy"))
    check(rc != 0, "missing -i is a usage error")


def main():
    rng = np.random.default_rng(20240601)
    with tempfile.TemporaryDirectory() as tmp:
        test_single_images(tmp, rng)
        test_explicit_range_and_other_formats(tmp, rng)
        test_stack(tmp, rng)
        test_identical(tmp)
        test_bad_input(tmp)
    print("largest differences to skimage:", ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all metric checks passed")


if __name__ == "__main__":
    main()
