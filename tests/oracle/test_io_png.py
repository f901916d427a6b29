"""PNG: 8- and 16-bit grayscale written by PIL are read by sira exactly and
sira's PNGs read identically in PIL; colour PNGs are refused."""
import os
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.environ["SIRA_SOURCE_DIR"], "tests", "cli"))
from sira_cli import convert as sira_convert, convert_ok  # noqa: E402


def main(tmp):
    rng = np.random.default_rng(5)
    for dtype, mode in ((np.uint8, "L"), (np.uint16, "I;16")):
        top = np.iinfo(dtype).max
        a = rng.integers(0, top, size=(31, 45), endpoint=True).astype(dtype)
        a[0, 0], a[-1, -1] = 0, top
        for interlace in (False, True):
            src = os.path.join(tmp, "pil.png")
            Image.fromarray(a, mode=mode).save(src, interlace=interlace)
            out = os.path.join(tmp, "out.npy")
            convert_ok("-i", src, "-o", out)
            b = np.load(out)
            assert b.dtype == dtype and np.array_equal(a, b), (dtype, interlace)

        # sira -> PIL
        npy = os.path.join(tmp, "in.npy")
        np.save(npy, a)
        png = os.path.join(tmp, "sira.png")
        convert_ok("-i", npy, "-o", png)
        with Image.open(png) as im:
            assert im.mode in ("L", "I;16", "I"), im.mode
            assert np.array_equal(np.array(im).astype(np.int64), a.astype(np.int64)), dtype
        # float data into a PNG needs an integer --dtype
        f32 = os.path.join(tmp, "f.npy")
        np.save(f32, a.astype(np.float32))
        r = sira_convert("-i", f32, "-o", os.path.join(tmp, "f.png"))
        assert r.returncode != 0 and "f.png" in r.stderr and "float32" in r.stderr, r.stderr
        convert_ok("-i", f32, "-o", os.path.join(tmp, "f.png"), "--dtype", np.dtype(dtype).name)
        with Image.open(os.path.join(tmp, "f.png")) as im:
            assert np.array_equal(np.array(im).astype(np.int64), a.astype(np.int64))

    for mode in ("RGB", "RGBA", "LA", "P"):
        src = os.path.join(tmp, f"colour_{mode}.png")
        Image.new(mode, (6, 4)).save(src)
        never = os.path.join(tmp, "never.npy")
        r = sira_convert("-i", src, "-o", never)
        assert r.returncode != 0, mode
        assert f"colour_{mode}.png" in r.stderr and "grayscale" in r.stderr, r.stderr
        assert not os.path.exists(never)
    print("PNG oracle: 8/16-bit grayscale exact against PIL, colour refused")


if __name__ == "__main__":
    try:
        with tempfile.TemporaryDirectory(prefix="sira_io_png_") as tmp:
            main(tmp)
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
