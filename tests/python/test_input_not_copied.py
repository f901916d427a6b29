"""A C-contiguous float32 array with its slices along axis 0 is read where it
lies: sira.input_copies() (the binding's count of arrays converted into a
float32 copy) does not move for it, and moves by one for each array that must
be converted (uint16, a strided view, another slice axis). The in-place result
equals the converted one."""
import os

import numpy as np

import sira
from binding_checks import MODELS, check, finish

model = sira.load_model(os.path.join(MODELS, "tomogan-1slice.sira"))
rng = np.random.default_rng(1)
volume = rng.normal(0.3, 0.05, (2, 64, 64)).astype(np.float32)


def copies_made(array, **kw):
    before = sira.input_copies()
    out = sira.denoise(array, model, **kw)
    return sira.input_copies() - before, out


n, in_place = copies_made(volume)
check(n == 0, f"C-contiguous float32 (N,H,W): {n} copies")
n, _ = copies_made(volume[0])
check(n == 0, f"C-contiguous float32 (H,W): {n} copies")
n, converted = copies_made(np.asfortranarray(volume))
check(n == 1 and np.array_equal(converted, in_place), f"Fortran-ordered view: {n} copy, same result")
n, _ = copies_made(volume[:, ::2, :])
check(n == 1, f"strided view: {n} copy")
n, _ = copies_made(np.ascontiguousarray(volume.transpose(1, 0, 2)), axis=1)
check(n == 1, f"slices along axis 1: {n} copy")
n, _ = copies_made((volume * 1000).astype(np.uint16))
check(n == 1, f"uint16: {n} copy")
finish()
