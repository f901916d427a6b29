"""`sira pairs`: the TomoGAN layout (four datasets, matching shapes), recorded
attributes, a test block disjoint from training (with a guard slice), the noisy set
measurably noisier than the clean one against the phantom (PSNR, scikit-image), and
pairs from the real tooth scan."""
import os
import sys
import tempfile

import h5py
import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from sira_cli import check, failures, run

REAL = os.path.join(os.environ["SIRA_SHARED_DATA"], "real")


tmp = tempfile.mkdtemp(prefix="sira_pairs_")
size, slices, seed = 96, 12, 4
pairs = os.path.join(tmp, "foam.h5")
r = run("pairs", "--from", "phantom", "--size", str(size), "--slices", str(slices), "--seed", str(seed),
        "--dose", "0.05", "--flux", "5000", "--test-fraction", "0.25", "-o", pairs,
        "--preview", os.path.join(tmp, "p.png"))
check(r.returncode == 0, f"phantom pairs written: {r.stderr.strip()}")
phantom_file = os.path.join(tmp, "phantom.npy")
run("phantom", "foam", "--size", str(size), "--slices", str(slices), "--seed", str(seed), "-o", phantom_file)
phantom = np.load(phantom_file)

with h5py.File(pairs, "r") as f:
    names = ["train_ns", "train_gt", "test_ns", "test_gt"]
    check(all(n in f for n in names), "train_ns, train_gt, test_ns, test_gt present")
    d = {n: f[n][:] for n in names}
    train_idx = f["train_slices"][:].astype(int)
    test_idx = f["test_slices"][:].astype(int)
    attrs = dict(f.attrs)
check(d["train_ns"].shape == d["train_gt"].shape == (8, size, size), f"train shapes {d['train_ns'].shape}")
check(d["test_ns"].shape == d["test_gt"].shape == (3, size, size), f"test shapes {d['test_ns'].shape}")
check(all(v.dtype == np.float32 for v in d.values()), "float32 datasets")
check(set(train_idx).isdisjoint(test_idx), "test slices never used for training")
check(list(test_idx) == [9, 10, 11] and list(train_idx) == list(range(8)),
      f"contiguous test block with a guard slice: train {list(train_idx)}, test {list(test_idx)}")
check(min(abs(a - b) for a in train_idx for b in test_idx) >= 2, "3-slice neighbourhoods of training never reach a test slice")
for key, want in [("source", "phantom"), ("phantom_type", "foam"), ("seed", str(seed)), ("dose", 0.05),
                  ("flux", 5000.0), ("sparse", 1.0), ("recon", "fbp"), ("angles", float(round(np.pi / 2 * size))),
                  ("test_fraction", 0.25), ("sira_version", None), ("noise_seed", None), ("clean_target", "recon")]:
    got = attrs.get(key)
    if isinstance(got, bytes):
        got = got.decode()
    check(got is not None and (want is None or got == want), f"attribute {key} = {got!r}")
check(attrs.get("sira_version") not in (None, "unknown", b"unknown"), "sira version recorded")

# Noisier: PSNR against the phantom, inside the reconstruction circle, on the test slices.
yy, xx = np.mgrid[0:size, 0:size]
mask = np.hypot(xx - (size - 1) / 2, yy - (size - 1) / 2) < size / 2 - 2
rng_ = phantom.max() - phantom.min()
p_clean = np.mean([peak_signal_noise_ratio(phantom[i][mask], d["test_gt"][k][mask], data_range=rng_)
                   for k, i in enumerate(test_idx)])
p_noisy = np.mean([peak_signal_noise_ratio(phantom[i][mask], d["test_ns"][k][mask], data_range=rng_)
                   for k, i in enumerate(test_idx)])
check(p_noisy + 3 < p_clean, f"noisy PSNR {p_noisy:.1f} dB well below clean {p_clean:.1f} dB vs the phantom")

# --clean measured: the clean target is a simulated full-dose scan and the noisy data
# are thinned from its counts, so (Poisson splitting) against the noise-free recon
# the clean noise has ~dose x the noisy variance and their correlation is ~sqrt(dose).
def phantom_pair(clean, dose, name):
    out = os.path.join(tmp, name)
    r = run("pairs", "--from", "phantom", "--size", "96", "--slices", "8", "--seed", "11", "--dose", str(dose),
            "--flux", "2000", "--test-fraction", "0", "--clean", clean, "-o", out)
    check(r.returncode == 0, f"--clean {clean} --dose {dose}: {r.stderr.strip()}")
    with h5py.File(out, "r") as f:
        return f["train_ns"][:].astype(np.float64), f["train_gt"][:].astype(np.float64), dict(f.attrs)


_, ideal, _ = phantom_pair("recon", 1.0, "ideal.h5")
ns, gt, attrs = phantom_pair("measured", 0.25, "measured.h5")
check(attrs.get("clean_target") in ("measured", b"measured"), f"clean_target attribute {attrs.get('clean_target')!r}")
e_clean, e_noisy = (gt - ideal)[:, mask], (ns - ideal)[:, mask]
ratio = e_clean.var() / e_noisy.var()
corr = np.corrcoef(e_clean.ravel(), e_noisy.ravel())[0, 1]
check(0.2 < ratio < 0.3, f"clean/noisy noise variance {ratio:.3f} ~ dose 0.25")
check(0.42 < corr < 0.58, f"clean and noisy noise correlate {corr:.3f} ~ sqrt(0.25)")
ns1, gt1, _ = phantom_pair("measured", 1.0, "measured-full.h5")
check(np.array_equal(ns1, gt1), "--clean measured at dose 1: noisy == clean (nothing thinned)")
check(np.array_equal(gt1, gt), "the full-dose measurement does not depend on the dose asked for the noisy data")

# --clean phantom: the ground truth is the phantom itself; sparse view + SIRT.
p2 = os.path.join(tmp, "sl.h5")
r = run("pairs", "--from", "phantom", "--phantom", "shepp-logan", "--size", "64", "--slices", "4",
        "--clean", "phantom", "--sparse", "4", "--recon", "sirt", "--iterations", "20", "-o", p2)
check(r.returncode == 0, f"Shepp-Logan sparse-view SIRT pairs: {r.stderr.strip()}")
sl = os.path.join(tmp, "sl.npy")
run("phantom", "shepp-logan", "--size", "64", "--slices", "4", "-o", sl)
with h5py.File(p2, "r") as f:
    check(np.array_equal(f["train_gt"][:], np.load(sl)[f["train_slices"][:].astype(int)]),
          "--clean phantom: train_gt is the phantom")
    check(f.attrs["noisy_angles"] == np.ceil(f.attrs["angles"] / 4), "sparse view keeps every 4th angle")

# Determinism: the same command gives the same file contents.
p3 = os.path.join(tmp, "again.h5")
run("pairs", "--from", "phantom", "--size", str(size), "--slices", str(slices), "--seed", str(seed),
    "--dose", "0.05", "--flux", "5000", "--test-fraction", "0.25", "-o", p3)
with h5py.File(p3, "r") as f:
    check(np.array_equal(f["test_ns"][:], d["test_ns"]), "same seed -> same noisy data")

# Real data: the tooth (2 detector rows): one train and one test slice. Binomial thinning
# to dose d gives count variance n d (1 - d), i.e. relative noise sqrt((1 - d) / (n d)):
# the noise added at d = 0.1 is 3x that at d = 0.5 (checked > 2x on the reconstructions).
def tooth_pairs(dose):
    path = os.path.join(tmp, f"tooth_{dose}.h5")
    r = run("pairs", "--from", os.path.join(REAL, "tooth_aps.h5"), "--dose", str(dose), "--flux", "20000",
            "--test-fraction", "0.5", "--center", "296", "-o", path)
    check(r.returncode == 0, f"tooth pairs at dose {dose}: {r.stderr.strip()}")
    return h5py.File(path, "r")


inside = np.hypot(*np.mgrid[-320:320, -320:320]) < 250
with tooth_pairs(0.1) as f, tooth_pairs(0.5) as g:
    ns, gt = f["train_ns"][:], f["train_gt"][:]
    check(ns.shape == gt.shape == (1, 640, 640) and f["test_ns"].shape == (1, 640, 640), f"tooth shapes {ns.shape}")
    src = f.attrs["source_layout"]
    check((src.decode() if isinstance(src, bytes) else src) == "data-exchange", "layout recorded")
    check(np.array_equal(gt, g["train_gt"][:]), "clean tooth slice does not depend on the dose")
    sd_low = np.std((ns - gt)[0][inside])
    sd_half = np.std((g["train_ns"][:] - g["train_gt"][:])[0][inside])
    check(sd_low > 2 * sd_half, f"noise added at dose 0.1 ({sd_low:.4g}) > 2x that at 0.5 ({sd_half:.4g})")
r = run("pairs", "--from", os.path.join(REAL, "tooth_aps.h5"), "--test-fraction", "0.5", "-o",
        os.path.join(tmp, "auto.h5"))
with h5py.File(os.path.join(tmp, "auto.h5"), "r") as f:
    check(r.returncode == 0 and abs(f.attrs["center"] - 296) < 5, f"tooth centre found near 296: {f.attrs['center']:.2f}")

r = run("pairs", "--from", os.path.join(REAL, "tooth_aps.h5"), "--clean", "phantom", "-o", os.path.join(tmp, "x.h5"))
check(r.returncode != 0 and "phantom" in r.stderr, "--clean phantom refused for measured data")
r = run("pairs", "--from", "phantom", "--slices", "1", "--test-fraction", "0.5", "-o", os.path.join(tmp, "x.h5"))
check(r.returncode != 0 and "training" in r.stderr, f"1 slice with a test split refused: {r.stderr.strip()}")
r = run("pairs", "--from", os.path.join(REAL, "dendrite_sinogram.h5"), "--dose", "0.5", "-o", os.path.join(tmp, "x.h5"))
check(r.returncode != 0 and "--scale" in r.stderr, f"thinning scaled line integrals (up to 2124) refused: {r.stderr.strip()}")
h = run("pairs", "--help")
check("Examples" in h.stdout, "--help has examples")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
