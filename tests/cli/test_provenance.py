"""Provenance in every output: denoise/recon/convert outputs say what made them,
read back independently (h5py for HDF5 attributes and their types, Pillow for
TIFF tags and PNG text) and by `sira info FILE`; integers are stored as
integers (also in `sira pairs` files); .npy is reported as having no place."""
import json
import os
import sys
import tempfile

import h5py
import numpy as np
from PIL import Image

from sira_cli import check, failures, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "tomogan-1slice.sira")
MODEL8 = os.path.join(ROOT, "models", "tomogan-1slice-int8.sira")


def fnv1a64(path):
    h = 1469598103934665603
    for b in open(path, "rb").read():
        h = ((h ^ b) * 1099511628211) % (1 << 64)
    return f"fnv1a64:{h:016x}"


with tempfile.TemporaryDirectory() as tmp:
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    rng = np.random.default_rng(3)
    np.save(p("x.npy"), rng.random((2, 48, 48), dtype=np.float32))

    # denoise -> HDF5: attributes with their types, checked with h5py.
    r = run("denoise", "-q", "-m", MODEL8, "-i", p("x.npy"), "-o", p("o.h5") + ":/data", "--precision", "int8",
            "--backend", "ref", "--threads", "1", "--tile", "32")
    check(r.returncode == 0, f"denoise to HDF5: {r.stderr.strip()}")
    with h5py.File(p("o.h5"), "r") as f:
        a = dict(f["data"].attrs)
    check(isinstance(a.get("sira_version"), str) and a["sira_version"], f"sira_version {a.get('sira_version')!r}")
    check("denoise" in a.get("command", "") and "--tile 32" in a.get("command", ""), f"command {a.get('command')!r}")
    check(a.get("model") == MODEL8, f"model {a.get('model')!r}")
    check(a.get("model_hash") == fnv1a64(MODEL8), f"model_hash {a.get('model_hash')!r} vs {fnv1a64(MODEL8)}")
    check(a.get("precision") == "int8" and a.get("backend") == "ref", f"precision/backend {a.get('precision')!r}")
    for key, want in (("threads", 1), ("tile", 32)):
        check(isinstance(a.get(key), np.integer) and a[key] == want, f"{key} stored as the integer {want}: {a.get(key)!r}")
    check(isinstance(a.get("halo"), np.integer) and a["halo"] > 0, f"halo {a.get('halo')!r}")
    check("percentiles" in a.get("normalization", ""), f"normalization {a.get('normalization')!r}")
    check(a.get("int8_ranges", "").startswith("input"), f"int8_ranges {a.get('int8_ranges')!r}")
    check(a.get("input") == p("x.npy"), f"input {a.get('input')!r}")

    info = run("info", p("o.h5") + ":/data")
    check(info.returncode == 0 and f"model_hash: {fnv1a64(MODEL8)}" in info.stdout and "tile: 32" in info.stdout,
          f"sira info on the HDF5 output: {info.stdout!r} {info.stderr!r}")
    info = run("info", p("o.h5") + ":/data", "--json")
    check(info.returncode == 0 and json.loads(info.stdout).get("precision") == "int8", "sira info --json")

    # denoise -> TIFF: Software and ImageDescription (JSON) on every page, read with Pillow.
    r = run("denoise", "-q", "-m", MODEL, "-i", p("x.npy"), "-o", p("o.tif"), "--threads", "1")
    check(r.returncode == 0, f"denoise to TIFF: {r.stderr.strip()}")
    with Image.open(p("o.tif")) as im:
        for page in range(2):
            im.seek(page)
            software, description = im.tag_v2.get(305), im.tag_v2.get(270)
            check(isinstance(software, str) and software.startswith("sira "), f"TIFF page {page} Software {software!r}")
            d = json.loads(description or "{}")
            check(d.get("model_hash") == fnv1a64(MODEL) and d.get("precision") == "fp32" and d.get("tile") == 0,
                  f"TIFF page {page} ImageDescription {description!r}")
    info = run("info", p("o.tif"))
    check(info.returncode == 0 and "precision: fp32" in info.stdout, f"sira info on TIFF: {info.stdout!r}")

    # convert -> PNG text chunks.
    r = run("convert", "-q", "-i", p("x.npy"), "--count", "1", "-o", p("o.png"), "--dtype", "uint16",
            "--range", "minmax")
    check(r.returncode == 0, f"convert to PNG: {r.stderr.strip()}")
    with Image.open(p("o.png")) as im:
        text = dict(im.text)
    d = json.loads(text.get("Description", "{}"))
    check(text.get("Software", "").startswith("sira ") and d.get("range") == "minmax" and d.get("count") == 1,
          f"PNG text {text!r}")

    # recon -> HDF5: the rotation centre it printed, the filter, the angle count.
    theta = np.linspace(0, np.pi, 90, endpoint=False)
    y, x = np.mgrid[-1:1:64j, -1:1:64j]
    disk = ((x - 0.2) ** 2 + y ** 2 < 0.2).astype(np.float32)
    from skimage.transform import radon
    sino = radon(disk, np.degrees(theta), circle=True).T.astype(np.float32)[None]
    with h5py.File(p("sino.h5"), "w") as f:
        f["sino"] = sino
        f["theta"] = theta
    r = run("recon", "-q", "-i", p("sino.h5") + ":/sino", "--theta", "/theta", "-o", p("rec.h5") + ":/rec",
            "--center", "31.5")
    check(r.returncode == 0, f"recon: {r.stderr.strip()}")
    if r.returncode == 0:
        with h5py.File(p("rec.h5"), "r") as f:
            a = dict(f["rec"].attrs)
        check(isinstance(a.get("center"), float) and a["center"] == 31.5, f"recon centre {a.get('center')!r}")
        check(a.get("filter") == "ramp" and a.get("algorithm") == "fbp", f"recon filter {a.get('filter')!r}")
        check(isinstance(a.get("angles"), np.integer) and a["angles"] == 90, f"recon angles {a.get('angles')!r}")

    # .npy: no place for it, said so.
    info = run("info", p("x.npy"))
    check(info.returncode == 0 and "no provenance" in info.stdout, f"sira info on .npy: {info.stdout!r}")

    # sira pairs stores integers as integers.
    r = run("pairs", "-q", "--phantom", "foam", "--size", "64", "--slices", "2", "-o", p("pairs.h5"))
    if r.returncode == 0:
        with h5py.File(p("pairs.h5"), "r") as f:
            s = f.attrs.get("slices")
        check(isinstance(s, np.integer) and s == 2, f"pairs slices stored as an integer: {s!r}")
    else:
        check(False, f"sira pairs: {r.stderr.strip()}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
