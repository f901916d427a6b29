"""HDF5 datasets written by h5py (any numeric type, byte order, chunked and
compressed) are read by sira exactly; sira's HDF5 output reads identically in
h5py; the real tooth and dendrite files match h5py."""
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.environ["SIRA_SOURCE_DIR"], "tests", "cli"))
from sira_cli import convert as sira_convert, convert_ok  # noqa: E402
SHARED = os.environ.get("SIRA_SHARED_DATA", "")


def main(tmp):
    rng = np.random.default_rng(11)
    src = os.path.join(tmp, "h5py.h5")
    cases = {}
    with h5py.File(src, "w") as f:
        for dtype in ("<u1", "<u2", ">u2", "<f4", ">f4", "<i2", ">i4", "<f8", "<u4"):
            for shape in ((17, 29), (3, 17, 29)):
                if np.dtype(dtype).kind == "f":
                    a = (rng.standard_normal(shape) * 100).astype(dtype)
                else:
                    info = np.iinfo(dtype)
                    lo, hi = max(info.min, -(1 << 20)), min(info.max, 1 << 20)
                    a = rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
                    a.flat[0], a.flat[-1] = lo, hi
                for storage in ("plain", "gzip"):
                    name = f"/g/{dtype.replace('<', 'le').replace('>', 'be')}_{len(shape)}d_{storage}"
                    kw = {"chunks": True, "compression": "gzip"} if storage == "gzip" else {}
                    f.create_dataset(name, data=a, **kw)
                    cases[name] = a
    # What sira keeps: uint8/uint16/float32 tags; everything else becomes float32.
    keep = {"u1": np.uint8, "u2": np.uint16, "f4": np.float32}
    for name, a in cases.items():
        out = os.path.join(tmp, "out.npy")
        convert_ok("-i", f"{src}:{name}", "-o", out)
        b = np.load(out)
        expected_dtype = keep.get(a.dtype.str[1:], np.float32)
        assert b.dtype == expected_dtype, (name, b.dtype)
        assert b.shape == a.shape, (name, b.shape)
        assert np.array_equal(b, a.astype(np.float32).astype(expected_dtype)), name

    # Slices of a 3-D dataset (hyperslab read).
    convert_ok("-i", f"{src}:/g/leu2_3d_gzip", "--first", "1", "--count", "2",
               "-o", os.path.join(tmp, "part.npy"))
    assert np.array_equal(np.load(os.path.join(tmp, "part.npy")), cases["/g/leu2_3d_gzip"][1:3])

    # sira -> h5py, several datasets into one file (copy-on-write keeps the others).
    out = os.path.join(tmp, "sira.h5")
    written = {}
    for dtype in (np.uint8, np.uint16, np.float32):
        for shape in ((9, 11), (2, 9, 11)):
            a = (rng.random(shape) * (200 if dtype != np.float32 else 1)).astype(dtype)
            npy = os.path.join(tmp, "in.npy")
            np.save(npy, a)
            name = f"/pairs/{np.dtype(dtype).name}_{len(shape)}d"
            convert_ok("-i", npy, "-o", f"{out}:{name}")
            written[name] = a
    with h5py.File(out, "r") as f:
        for name, a in written.items():
            assert f[name].dtype == a.dtype, (name, f[name].dtype)
            assert f[name].shape == a.shape, (name, f[name].shape)
            assert np.array_equal(f[name][...], a), name
    # Replacing one dataset leaves the rest untouched.
    np.save(os.path.join(tmp, "in.npy"), np.full((4, 4), 7, np.uint16))
    convert_ok("-i", os.path.join(tmp, "in.npy"), "-o", f"{out}:/pairs/uint8_2d")
    with h5py.File(out, "r") as f:
        assert np.array_equal(f["/pairs/uint8_2d"][...], np.full((4, 4), 7, np.uint16))
        assert np.array_equal(f["/pairs/float32_3d"][...], written["/pairs/float32_3d"])

    # Real data files.
    tooth = os.path.join(SHARED, "real", "tooth_aps.h5")
    dendrite = os.path.join(SHARED, "real", "dendrite_sinogram.h5")
    if os.path.exists(tooth) and os.path.exists(dendrite):
        for path, name in ((tooth, "/exchange/data"), (tooth, "/exchange/data_white"),
                           (tooth, "/exchange/data_dark"), (dendrite, "/sinogram")):
            npy = os.path.join(tmp, "real.npy")
            convert_ok("-i", f"{path}:{name}", "-o", npy)
            with h5py.File(path, "r") as f:
                expected = f[name][...]
            b = np.load(npy)
            assert b.shape == expected.shape and b.dtype == np.float32, (name, b.shape)
            assert np.array_equal(b, expected.astype(np.float32)), name
    else:
        print("note: real HDF5 files not found, skipped")

    # Bad input: 4-D and missing datasets, no output left.
    bad = os.path.join(tmp, "bad.h5")
    with h5py.File(bad, "w") as f:
        f["four"] = np.zeros((2, 3, 4, 5), np.float32)
    for spec, words in ((f"{bad}:/four", ["bad.h5", "/four", "(2, 3, 4, 5)"]),
                        (f"{bad}:/exchange/dta", ["bad.h5", "no dataset '/exchange/dta'"])):
        never = os.path.join(tmp, "never.npy")
        r = sira_convert("-i", spec, "-o", never)
        assert r.returncode != 0, spec
        for w in words:
            assert w in r.stderr, (w, r.stderr)
        assert "HDF5-DIAG" not in r.stderr, "HDF5 error stack printed"
        assert not os.path.exists(never)
    assert not [n for n in os.listdir(tmp) if ".tmp-" in n]
    print(f"HDF5 oracle: {len(cases) + len(written)} datasets exact against h5py")


if __name__ == "__main__":
    try:
        with tempfile.TemporaryDirectory(prefix="sira_io_h5_") as tmp:
            main(tmp)
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
