"""TIFF files written by tifffile are read by sira exactly, and sira's TIFFs
read identically in tifffile (sira convert drives the reader/writer; NumPy's
own .npy loader is the other end)."""
import os
import sys
import tempfile

import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.environ["SIRA_SOURCE_DIR"], "tests", "cli"))
from sira_cli import convert as sira_convert, convert_ok  # noqa: E402
SHARED = os.environ.get("SIRA_SHARED_DATA", "")


def sample(dtype, shape, rng):
    if dtype == np.float32:
        a = rng.standard_normal(shape).astype(np.float32) * 1e3
        a.flat[:4] = [0.0, -0.0, 3.4e38, -1e-40]
        return a
    info = np.iinfo(dtype)
    a = rng.integers(0, info.max + 1, size=shape, dtype=np.int64).astype(dtype)
    a.flat[0], a.flat[-1] = 0, info.max
    return a


def main(tmp):
    rng = np.random.default_rng(7)
    checked = 0
    # tifffile -> sira: dtype x 2-D/3-D x byte order x strips/tiles/compression
    for dtype in (np.uint8, np.uint16, np.float32):
        for shape in ((37, 53), (4, 37, 53)):
            for byteorder in ("<", ">"):
                for layout in ({}, {"tile": (16, 16)}, {"compression": "zlib"},
                               {"rowsperstrip": 5}):
                    a = sample(dtype, shape, rng)
                    src = os.path.join(tmp, "in.tif")
                    tifffile.imwrite(src, a, photometric="minisblack", byteorder=byteorder,
                                     **layout)
                    out = os.path.join(tmp, "out.npy")
                    convert_ok("-i", src, "-o", out)
                    b = np.load(out)
                    assert b.dtype == a.dtype, (b.dtype, a.dtype, layout)
                    assert b.shape == a.shape, (b.shape, a.shape)
                    assert np.array_equal(a, b), (dtype, shape, byteorder, layout)
                    checked += 1

    # Multi-page written page by page (separate series) is still a stack.
    a = sample(np.uint16, (5, 20, 30), rng)
    src = os.path.join(tmp, "pages.tif")
    with tifffile.TiffWriter(src) as w:
        for page in a:
            w.write(page, photometric="minisblack", contiguous=False)
    convert_ok("-i", src, "-o", os.path.join(tmp, "pages.npy"))
    assert np.array_equal(np.load(os.path.join(tmp, "pages.npy")), a)
    convert_ok("-i", src, "--first", "2", "--count", "2", "-o", os.path.join(tmp, "two.npy"))
    assert np.array_equal(np.load(os.path.join(tmp, "two.npy")), a[2:4])

    # sira -> tifffile
    for dtype in (np.uint8, np.uint16, np.float32):
        for shape in ((19, 23), (3, 19, 23)):
            a = sample(dtype, shape, rng)
            src = os.path.join(tmp, "src.npy")
            np.save(src, a)
            out = os.path.join(tmp, "sira.tif")
            convert_ok("-i", src, "-o", out)
            b = tifffile.imread(out)
            assert b.dtype == a.dtype and b.shape == a.shape, (b.dtype, b.shape)
            assert np.array_equal(a, b), (dtype, shape)
            with tifffile.TiffFile(out) as t:
                assert len(t.pages) == (shape[0] if len(shape) == 3 else 1)
            checked += 1

    # The real 16-bit big-endian neutron sinogram.
    real = os.path.join(SHARED, "real", "neutron_sinogram_360.tif")
    if os.path.exists(real):
        expected = tifffile.imread(real)
        with tifffile.TiffFile(real) as t:
            assert t.byteorder == ">"
        out = os.path.join(tmp, "neutron.npy")
        convert_ok("-i", real, "-o", out)
        b = np.load(out)
        assert b.dtype == expected.dtype == np.uint16
        assert b.shape == expected.shape == (459, 503)
        assert np.array_equal(b, expected)
        checked += 1
    else:
        print("note: real neutron TIFF not found, skipped")

    # Truncated tifffile files (directory before the data, the rest at the end)
    # and an RGB image: clear error naming the file, no output.
    a = sample(np.uint16, (3, 64, 80), rng)
    full = os.path.join(tmp, "full.tif")
    tifffile.imwrite(full, a, photometric="minisblack")
    data = open(full, "rb").read()
    for fraction in (0.95, 0.6, 0.2, 0.01):
        cut = os.path.join(tmp, f"cut{int(fraction * 100)}.tif")
        open(cut, "wb").write(data[: int(len(data) * fraction)])
        out = os.path.join(tmp, "never.npy")
        r = sira_convert("-i", cut, "-o", out)
        assert r.returncode != 0, f"truncated {fraction} accepted"
        assert os.path.basename(cut) in r.stderr, r.stderr
        assert not os.path.exists(out)
    rgb = os.path.join(tmp, "rgb.tif")
    tifffile.imwrite(rgb, sample(np.uint8, (8, 9, 3), rng), photometric="rgb")
    r = sira_convert("-i", rgb, "-o", os.path.join(tmp, "never.npy"))
    assert r.returncode != 0 and "rgb.tif" in r.stderr and "grayscale" in r.stderr, r.stderr

    leftovers = [n for n in os.listdir(tmp) if ".tmp-" in n]
    assert not leftovers, leftovers
    print(f"TIFF oracle: {checked} exact round trips with tifffile")


if __name__ == "__main__":
    try:
        with tempfile.TemporaryDirectory(prefix="sira_io_tiff_") as tmp:
            main(tmp)
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
