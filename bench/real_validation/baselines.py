"""Classical denoisers from scikit-image/SciPy, each grid-tuned on the test set.

Every filter runs on the image mapped by its own 0.5/99.5 percentiles to about
[0, 1] and is mapped back, so one grid serves every unit; the noise-dependent
parameters are multiples of the image's own noise estimate (skimage's
estimate_sigma). For each (source, degradation) the parameter with the best
mean SSIM and the parameter with the best mean PSNR are chosen separately, on
the very slices that are scored: the best each filter can do there, a higher
bar than any filter a user could tune without the clean image.
"""
import numpy as np
from scipy import ndimage
from skimage.restoration import (denoise_nl_means, denoise_tv_chambolle, denoise_wavelet,
                                 estimate_sigma)


def _normalised(fn):
    def run(img, p):
        lo, hi = np.percentile(img, [0.5, 99.5])
        s = float(hi - lo) if hi > lo else 1.0
        x = (img - lo) / s
        return fn(x, p) * s + lo
    return run


def _sigma(x):
    return max(float(estimate_sigma(x)), 1e-6)


def _gaussian(x, s):
    return ndimage.gaussian_filter(x, s)


def _median(x, k):
    return ndimage.median_filter(x, size=k)


def _tv(x, k):
    return denoise_tv_chambolle(x, weight=k * _sigma(x))


def _nlm(x, k):
    sigma = _sigma(x)
    return denoise_nl_means(x, h=k * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)


def _wavelet(x, k):
    return denoise_wavelet(x, sigma=k * _sigma(x), wavelet="db2", mode="soft", method="VisuShrink",
                           rescale_sigma=False)


# name -> (filter on the normalised image, full grid, small grid for quick runs and tests)
FILTERS = {
    "gaussian": (_gaussian, [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0], [0.75, 1.5, 3.0]),
    "median": (_median, [3, 5, 7, 9, 11, 13, 15], [3, 7]),
    "tv": (_tv, [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0], [0.5, 2.0]),
    "nlm": (_nlm, [0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5], [0.8, 1.5]),
    "wavelet": (_wavelet, [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0], [0.5, 1.5]),
}


def run_filter(name, image, param):
    fn = FILTERS[name][0]
    return _normalised(fn)(np.asarray(image, dtype=np.float64), param)


def grid(name, small=False):
    return FILTERS[name][2] if small else FILTERS[name][1]


def tune(name, noisy, clean, score_fn, small=False):
    """Best parameter by mean SSIM and by mean PSNR over the slices.
    Returns {"ssim": (value, param), "psnr": (value, param), "grid": {param: [ssim, psnr]}}."""
    table = {}
    for p in grid(name, small):
        outs = [run_filter(name, x, p) for x in noisy]
        table[p] = list(score_fn(outs, clean))
    best_ssim = max(table, key=lambda p: table[p][0])
    best_psnr = max(table, key=lambda p: table[p][1])
    return {"ssim": (table[best_ssim][0], best_ssim), "psnr": (table[best_psnr][1], best_psnr),
            "grid": {str(p): v for p, v in table.items()}}
