"""sira.ssim and sira.psnr against scikit-image on the same float32 samples
promoted to float64 (the arithmetic sira uses; tolerance 1e-9):
  structural_similarity(reference, image, data_range=R, gaussian_weights=True,
                        sigma=1.5, use_sample_covariance=False)
  peak_signal_noise_ratio(reference, image, data_range=R)
with R given, and R = max - min of the reference when data_range is None;
uint16 and strided inputs read as their float values; PSNR of a stack."""
import numpy as np
from skimage import data as skdata
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import sira
from binding_checks import check, finish


def sk_ssim(image, reference, r):
    return structural_similarity(reference.astype(np.float64), image.astype(np.float64), data_range=r,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def sk_psnr(image, reference, r):
    return peak_signal_noise_ratio(reference.astype(np.float64), image.astype(np.float64), data_range=r)


rng = np.random.default_rng(3)
camera = skdata.camera()[100:301, 50:283].astype(np.float32)  # odd sizes: 201 x 233
cases = {
    "camera + noise": (camera + rng.normal(0, 12, camera.shape).astype(np.float32), camera),
    "random 37x53": (rng.random((37, 53), dtype=np.float32), rng.random((37, 53), dtype=np.float32)),
}
for name, (img, ref) in cases.items():
    r_default = float(ref.astype(np.float64).max() - ref.astype(np.float64).min())
    for r in (None, 255.0):
        rr = r_default if r is None else r
        s, p = sira.ssim(img, ref, data_range=r), sira.psnr(img, ref, data_range=r)
        ws, wp = sk_ssim(img, ref, rr), sk_psnr(img, ref, rr)
        check(abs(s - ws) <= 1e-9, f"{name} ssim, data_range {r}: sira {s:.12f}, skimage {ws:.12f}")
        check(abs(p - wp) <= 1e-9, f"{name} psnr, data_range {r}: sira {p:.12f}, skimage {wp:.12f}")

# uint16 and a strided view are read as their values.
u16 = (camera * 100).astype(np.uint16)
u16_noisy = (u16 + rng.integers(0, 900, u16.shape)).astype(np.uint16)
check(abs(sira.ssim(u16_noisy, u16, 65535.0) - sk_ssim(u16_noisy, u16, 65535.0)) <= 1e-9, "uint16 ssim")
big = rng.random((80, 90), dtype=np.float32)
view, view_ref = big[::2, 1::2], big[1::2, ::2]
check(abs(sira.ssim(view, view_ref, 1.0) - sk_ssim(view, view_ref, 1.0)) <= 1e-9, "strided ssim")

# PSNR of a whole stack is one number over every sample.
stack_ref = rng.random((3, 20, 30), dtype=np.float32)
stack = stack_ref + rng.normal(0, 0.05, stack_ref.shape).astype(np.float32)
check(abs(sira.psnr(stack, stack_ref, 1.0) - sk_psnr(stack, stack_ref, 1.0)) <= 1e-9, "stack psnr")
check(sira.psnr(camera, camera, 255.0) == float("inf"), "psnr of identical images is inf")
finish()
