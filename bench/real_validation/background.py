"""The dark-floor check: does a method keep the clean background's level?

Background = pixels inside the reconstruction circle whose smoothed clean value
is in the lowest 5 % there (air or the darkest material of the slice). The
offset is mean(output - clean) over them, in percent of the clean image's range.
"""
import numpy as np
from scipy import ndimage


def background_mask(clean):
    h, w = clean.shape
    y, x = np.mgrid[0:h, 0:w]
    inside = (y - (h - 1) / 2) ** 2 + (x - (w - 1) / 2) ** 2 < (min(h, w) / 2 - 2) ** 2
    smooth = ndimage.gaussian_filter(clean, 2.0)
    return inside & (smooth <= np.percentile(smooth[inside], 5))


def background_offset(out, clean):
    m = background_mask(clean)
    r = float(clean.max() - clean.min()) or 1.0
    return float(100.0 * (out[m].mean() - clean[m].mean()) / r)


def mean_offset(outs, cleans):
    return float(np.mean([background_offset(o, c) for o, c in zip(outs, cleans)]))
