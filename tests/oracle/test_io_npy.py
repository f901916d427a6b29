"""NumPy .npy files written by numpy (byte orders, dtypes, Fortran order,
format versions 1-3) are read by sira exactly (checked through sira's TIFF
and HDF5 output, read back by tifffile/h5py); sira's .npy loads in numpy."""
import os
import sys
import tempfile

import h5py
import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.environ["SIRA_SOURCE_DIR"], "tests", "cli"))
from sira_cli import convert_ok  # noqa: E402


def save_npy(path, a, version=None):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version, allow_pickle=False)


def main(tmp):
    rng = np.random.default_rng(3)
    keep = {"u1": np.uint8, "u2": np.uint16, "f4": np.float32}
    checked = 0
    for dtype in ("|u1", "<u2", ">u2", "<f4", ">f4", "<i2", ">i2", "<u4", "<i8", "<f8", ">f8", "|i1"):
        for shape in ((13, 21), (3, 13, 21)):
            for order in ("C", "F"):
                for version in ((1, 0), (2, 0), (3, 0)):
                    dt = np.dtype(dtype)
                    if dt.kind == "f":
                        a = (rng.standard_normal(shape) * 50).astype(dt)
                    else:
                        info = np.iinfo(dt)
                        a = rng.integers(max(info.min, -(1 << 20)), min(info.max, 1 << 20),
                                         size=shape, endpoint=True).astype(dt)
                    a = np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
                    src = os.path.join(tmp, "in.npy")
                    save_npy(src, a, version)
                    expected_dtype = keep.get(dt.str[1:], np.float32)
                    expected = a.astype(np.float32).astype(expected_dtype)
                    out = os.path.join(tmp, "out.h5")
                    convert_ok("-i", src, "-o", f"{out}:/x")
                    with h5py.File(out, "r") as f:
                        b = f["/x"][...]
                    assert b.dtype == expected_dtype, (dtype, b.dtype)
                    assert np.array_equal(b, expected), (dtype, shape, order, version)
                    checked += 1
            if shape == (3, 13, 21):  # also through TIFF once per dtype
                convert_ok("-i", src, "-o", os.path.join(tmp, "out.tif"))
                assert np.array_equal(tifffile.imread(os.path.join(tmp, "out.tif")), expected)

    # sira -> numpy: a little-endian, C-order, version 1 file.
    for dtype in (np.uint8, np.uint16, np.float32):
        for shape in ((5, 7), (2, 5, 7)):
            a = (rng.random(shape) * 250).astype(dtype)
            tif = os.path.join(tmp, "a.tif")
            tifffile.imwrite(tif, a, photometric="minisblack")
            out = os.path.join(tmp, "sira.npy")
            convert_ok("-i", tif, "-o", out)
            with open(out, "rb") as f:
                assert np.lib.format.read_magic(f) == (1, 0)
                header_shape, fortran, header_dtype = np.lib.format.read_array_header_1_0(f)
                assert not fortran and header_shape == shape and header_dtype == a.dtype
            b = np.load(out)
            assert b.dtype == a.dtype and np.array_equal(a, b), (dtype, shape)
            checked += 1
    print(f".npy oracle: {checked} arrays exact against numpy")


if __name__ == "__main__":
    try:
        with tempfile.TemporaryDirectory(prefix="sira_io_npy_") as tmp:
            main(tmp)
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
