"""The dark-floor check: does a method keep the level of the air around the sample?

Air = pixels inside the reconstruction circle whose smoothed clean value
(Gaussian, sigma 3 px) lies in the lowest 10 % of the smoothed image's
1..99 percentile span there, eroded by 4 px away from the sample's edges.
The offset is mean(output - clean) over the air, in percent of the clean
image's range: a floor like the first default model's (everything below
~0.145 of the input's range lifted to it) shows as several %. A slice with
almost no air (< 1 % of the circle: a sample that fills the field of view)
has no background figure (None), and means skip it.

The darkest few % of pixels would be a biased choice: they are where the
clean reference's own noise is most negative, so any smoothing "lifts" them.
"""
import numpy as np
from scipy import ndimage

VERSION = 2  # cached figures of another version are recomputed


def background_mask(clean):
    h, w = clean.shape
    y, x = np.mgrid[0:h, 0:w]
    inside = (y - (h - 1) / 2) ** 2 + (x - (w - 1) / 2) ** 2 < (min(h, w) / 2 - 4) ** 2
    smooth = ndimage.gaussian_filter(np.asarray(clean, dtype=np.float64), 3.0)
    lo, hi = np.percentile(smooth[inside], [1, 99])
    air = inside & (smooth < lo + 0.1 * (hi - lo))
    air = ndimage.binary_erosion(air, iterations=4)
    return air if air.sum() >= 0.01 * inside.sum() else None


def background_offset(out, clean):
    m = background_mask(clean)
    if m is None:
        return None
    r = float(clean.max() - clean.min()) or 1.0
    return float(100.0 * (np.mean(out[m]) - np.mean(clean[m])) / r)


def mean_offset(outs, cleans):
    v = [x for x in (background_offset(o, c) for o, c in zip(outs, cleans)) if x is not None]
    return float(np.mean(v)) if v else None
