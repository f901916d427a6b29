"""Scores in the reconstruction's own units, data range from the clean image."""
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def data_range(clean):
    return float(clean.max() - clean.min())


def score(out, clean):
    """(SSIM, PSNR) of one image: scikit-image's SSIM with its defaults (7x7
    uniform window) and PSNR, both with data range = max - min of the clean image."""
    out = np.asarray(out, dtype=np.float64)
    clean = np.asarray(clean, dtype=np.float64)
    r = data_range(clean)
    return (float(structural_similarity(clean, out, data_range=r)),
            float(peak_signal_noise_ratio(clean, out, data_range=r)))


def mean_score(outs, cleans):
    s = [score(o, c) for o, c in zip(outs, cleans)]
    return float(np.mean([a for a, _ in s])), float(np.mean([b for _, b in s]))
