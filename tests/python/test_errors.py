"""Bad input raises a Python exception carrying sira's message, and nothing
crashes: a NaN sample (sira.Error naming slice, row and column), a wrong ndim or
axis (ValueError), an unsupported dtype (TypeError), a model path that does not
exist or is not a model (sira.Error with the same message `sira denoise` prints),
int8 on an fp32 model, an unknown precision or backend, an image smaller than
the network accepts, and bad recon / metric arguments."""
import os
import subprocess
import tempfile

import numpy as np

import sira
from binding_checks import MODELS, SIRA, check, finish

model = sira.load_model(os.path.join(MODELS, "tomogan-1slice.sira"))
good = np.ones((2, 32, 32), np.float32)


def raises(kind, needle, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except kind as e:
        check(needle in str(e), f"{kind.__name__} says {needle!r}: {e}")
        return str(e)
    except Exception as e:
        check(False, f"wanted {kind.__name__} with {needle!r}, got {type(e).__name__}: {e}")
        return None
    check(False, f"wanted {kind.__name__} with {needle!r}, nothing raised")
    return None


check(issubclass(sira.Error, RuntimeError), "sira.Error is a RuntimeError")
nan = good.copy()
nan[1, 2, 3] = np.nan
raises(sira.Error, "non-finite value (nan) at slice 1, row 2, column 3", sira.denoise, nan, model)
inf = good[:, ::2, ::2].copy()
inf[0, 4, 5] = np.inf
raises(sira.Error, "non-finite value (inf) at slice 0, row 4, column 5", sira.denoise, inf[:, :, :], model)
raises(ValueError, "4-D array", sira.denoise, good[None], model)
raises(ValueError, "1-D array", sira.denoise, good[0, 0], model)
raises(ValueError, "axis 3 is out of range", sira.denoise, good, model, axis=3)
raises(ValueError, "axis 1 given for a 2-D array", sira.denoise, good[0], model, axis=1)
raises(TypeError, "dtype float64 is not supported", sira.denoise, good.astype(np.float64), model)
raises(TypeError, "dtype int32 is not supported", sira.denoise, good.astype(np.int32), model)
raises(sira.Error, "precision int8 needs a quantised model", sira.denoise, good, model, precision="int8")
raises(sira.Error, "precision 'fp16' is unknown", sira.denoise, good, model, precision="fp16")
raises(sira.Error, "unknown backend 'gpu'", sira.denoise, good, model, backend="gpu")
raises(ValueError, "int8_ranges 'file' is unknown", sira.denoise, good, model, int8_ranges="file")
raises(sira.Error, "is smaller than the minimum", sira.denoise, np.ones((3, 5), np.float32), model)
raises(sira.Error, "empty image", sira.denoise, np.ones((0, 32, 32), np.float32), model)

with tempfile.TemporaryDirectory() as tmp:
    for name, content in (("missing.sira", None), ("junk.sira", b"not a model at all")):
        path = os.path.join(tmp, name)
        if content is not None:
            with open(path, "wb") as f:
                f.write(content)
        np.save(os.path.join(tmp, "in.npy"), good)
        r = subprocess.run([SIRA, "denoise", "-m", path, "-i", os.path.join(tmp, "in.npy"), "-o",
                            os.path.join(tmp, "out.npy")], capture_output=True, text=True)
        msg = raises(sira.Error, path, sira.load_model, path)
        check(r.returncode != 0 and msg is not None and msg in r.stderr,
              f"{name}: the CLI prints the same message ({r.stderr.strip()!r})")

theta = np.linspace(0, np.pi, 10, endpoint=False)
raises(ValueError, "theta: 9 angles for sinograms of 10 rows", sira.recon, np.ones((10, 16), np.float32), theta[:9])
raises(sira.Error, "non-finite", sira.recon, np.full((10, 16), np.nan, np.float32), theta)
raises(sira.Error, "centre", sira.recon, np.ones((10, 16), np.float32), theta, center=40.0)
raises(sira.Error, "unknown", sira.recon, np.ones((10, 16), np.float32), theta, filter="lanczos")
raises(ValueError, "differ in shape", sira.ssim, np.ones((20, 20), np.float32), np.ones((20, 21), np.float32))
raises(ValueError, "3-D arrays", sira.ssim, np.ones((2, 20, 20), np.float32), np.ones((2, 20, 20), np.float32))
raises(sira.Error, "constant image", sira.psnr, np.ones((20, 20), np.float32), np.ones((20, 20), np.float32))
raises(sira.Error, "non-finite", sira.psnr, np.full((20, 20), np.nan, np.float32), np.ones((20, 20), np.float32))
raises(sira.Error, "smaller", sira.ssim, np.ones((5, 5), np.float32), np.arange(25, dtype=np.float32).reshape(5, 5))
finish()
