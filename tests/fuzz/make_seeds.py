#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/NAME): small
valid inputs of each format, made with independent writers (tifffile, PIL,
numpy, h5py, cbor2 and the HDF5 bitshuffle/LZ4 plugins) and, for the model,
`sira init` of a narrow network. Run once by a developer; the files are kept in
the tree (each well under 64 KB).

    SIRA=build/sira /usr/bin/python3 tests/fuzz/make_seeds.py"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from serve_util import bslz4_chunk, lz4_chunk, v2_end, v2_image, v2_start  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from PIL import Image  # noqa: E402

SIRA = os.environ.get("SIRA", os.path.join(HERE, "..", "..", "build", "sira"))
rng = np.random.default_rng(7)
work = tempfile.mkdtemp(prefix="sira_seeds_")


def out(target, name):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def put(target, name, data):
    with open(out(target, name), "wb") as f:
        f.write(data)


img8 = (rng.random((6, 5)) * 255).astype(np.uint8)
img16 = (rng.random((6, 5)) * 60000).astype(np.uint16)
imgf = rng.random((3, 6, 5)).astype(np.float32)

# TIFF: 8/16-bit and float, one page and several, strips and tiles, compressed.
tifffile.imwrite(out("tiff", "u8.tif"), img8)
tifffile.imwrite(out("tiff", "u16_deflate.tif"), img16, compression="zlib")
tifffile.imwrite(out("tiff", "f32_pages.tif"), imgf, photometric="minisblack")
tifffile.imwrite(out("tiff", "u16_tiled.tif"), np.zeros((32, 32), np.uint16) + img16[0, 0], tile=(16, 16))

# PNG: gray 8/16-bit.
Image.fromarray(img8).save(out("png", "gray8.png"))
Image.fromarray(img16.astype(np.uint16)).save(out("png", "gray16.png"))

# npy: 2-D and 3-D, each dtype, Fortran order.
np.save(out("npy", "f32_3d.npy"), imgf)
np.save(out("npy", "u16.npy"), img16)
np.save(out("npy", "u8_fortran.npy"), np.asfortranarray(img8))

# HDF5 stacks (/data): contiguous, chunked + deflate, with attributes.
with h5py.File(out("hdf5", "contiguous.h5"), "w") as f:
    f["data"] = imgf
with h5py.File(out("hdf5", "chunked.h5"), "w") as f:
    d = f.create_dataset("data", data=img16[None], chunks=(1, 3, 5), compression="gzip")
    d.attrs["units"] = "counts"

# Projection files: Data Exchange and /sinogram + /angles_rad.
proj = (rng.random((8, 2, 6)) * 1000 + 100).astype(np.uint16)
with h5py.File(out("dxchange", "exchange.h5"), "w") as f:
    f["exchange/data"] = proj
    f["exchange/data_white"] = np.full((2, 2, 6), 1200, np.uint16)
    f["exchange/data_dark"] = np.full((1, 2, 6), 90, np.uint16)
    f["exchange/theta"] = np.linspace(0, 180, 8, endpoint=False)
with h5py.File(out("dxchange", "sinogram.h5"), "w") as f:
    f["sinogram"] = rng.random((6, 8)).astype(np.float32)
    f["angles_rad"] = np.linspace(0, np.pi, 8, endpoint=False)

# Location / row / angle-range specs.
for i, spec in enumerate(["recon.h5:/exchange/data", "a.tif", "0-10:2,15", "0:180:90", "x.npy", "f.h5:"]):
    put("location", f"spec{i}", spec.encode())

# Stream V2 (CBOR): start, plain typed arrays, lz4, bslz4, end.
img = (rng.random((9, 7)) * 4000).astype(np.uint16)
put("stream_v2", "start", v2_start(1, 9, 7, 3))
put("stream_v2", "image_plain", v2_image(1, 0, img))
put("stream_v2", "image_lz4", v2_image(1, 1, img, ("lz4", 0, lz4_chunk(img, work))))
put("stream_v2", "image_bslz4", v2_image(1, 2, img, ("bslz4", 2, bslz4_chunk(img, work))))
put("stream_v2", "image_u32", v2_image(1, 3, img.astype(np.uint32)))
put("stream_v2", "end", v2_end(1))

# array-1.0: JSON header, 0xFF, raw samples (the target's split).
for dtype in ("uint16", "float32"):
    raw = img.astype(dtype).tobytes()
    header = json.dumps({"htype": "array-1.0", "shape": list(img.shape), "type": dtype, "frame": 4}).encode()
    put("array_v1", f"{dtype}", header + b"\xff" + raw)

# Model: a narrow network, fp32 (the shipped models are MBs).
subprocess.run([SIRA, "init", "-q", "-o", out("model", "narrow.sira"), "--slices", "1", "--seed", "3",
                "--widths", "4,4,8,8,4,4,4"], check=True)
subprocess.run([SIRA, "init", "-q", "-o", out("model", "narrow_residual3.sira"), "--slices", "3", "--seed", "4",
                "--residual", "--upsample", "transposed", "--widths", "4,4,8,8,4,4,4"], check=True)
# ONNX (sira import): the narrow models exported by sira, bilinear and nearest +
# residual, 3 slices; the transposed model above, opset 17.
subprocess.run([SIRA, "export", "-q", "-m", out("model", "narrow.sira"), "-o", out("onnx_import", "narrow.onnx")],
               check=True)
subprocess.run([SIRA, "export", "-q", "-m", out("model", "narrow_residual3.sira"), "--opset", "17", "-o",
                out("onnx_import", "narrow_residual3_transposed.onnx")], check=True)
nearest = os.path.join(work, "nearest.sira")
subprocess.run([SIRA, "init", "-q", "-o", nearest, "--slices", "3", "--seed", "5", "--residual", "--upsample",
                "nearest", "--widths", "4,4,8,8,4,4,4"], check=True)
subprocess.run([SIRA, "export", "-q", "-m", nearest, "-o", out("onnx_import", "narrow_nearest3.onnx")], check=True)
for d in sorted(os.listdir(os.path.join(HERE, "corpus"))):
    files = os.listdir(os.path.join(HERE, "corpus", d))
    print(d, len(files), "files", sum(os.path.getsize(os.path.join(HERE, "corpus", d, x)) for x in files), "bytes")
