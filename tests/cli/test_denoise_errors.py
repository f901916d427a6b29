"""sira denoise on bad input: every case exits non-zero with a clear message on
stderr and leaves no output (and no temporary file) behind. Plus the shape and
dtype contract on good input, checked with numpy/tifffile/PIL."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import tifffile
from PIL import Image

SIRA = os.environ["SIRA"]
failures = []


def run(*args):
    return subprocess.run([SIRA, *args], capture_output=True, text=True, timeout=300)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def expect_failure(name, args, out, needles, workdir):
    before = set(os.listdir(workdir))
    r = run(*args)
    msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    check(r.returncode != 0, f"{name}: exit code {r.returncode} != 0")
    for n in needles:
        check(n.lower() in r.stderr.lower(), f"{name}: stderr mentions '{n}' ({msg})")
    check(not os.path.exists(out), f"{name}: no output file")
    check(set(os.listdir(workdir)) == before, f"{name}: no stray files left")


with tempfile.TemporaryDirectory() as d:
    p = lambda name: os.path.join(d, name)
    r = run("init", "-o", p("m1.sira"), "--slices", "1", "--seed", "2",
            "--widths", "4,6,8,8,8,8,6,6,4")
    assert r.returncode == 0, r.stderr
    rng = np.random.default_rng(0)
    good = rng.random((40, 37), dtype=np.float32)
    np.save(p("good.npy"), good)

    expect_failure("missing model", ["denoise", "-m", p("absent.sira"), "-i", p("good.npy"),
                                     "-o", p("o1.npy")], p("o1.npy"), ["absent.sira"], d)

    with open(p("m1.sira"), "rb") as f:
        blob = f.read()
    with open(p("truncated.sira"), "wb") as f:
        f.write(blob[: len(blob) // 2])
    expect_failure("truncated model", ["denoise", "-m", p("truncated.sira"), "-i", p("good.npy"),
                                       "-o", p("o2.npy")], p("o2.npy"), ["truncated.sira"], d)
    with open(p("garbage.sira"), "wb") as f:
        f.write(os.urandom(4096))
    expect_failure("garbage model", ["denoise", "-m", p("garbage.sira"), "-i", p("good.npy"),
                                     "-o", p("o3.npy")], p("o3.npy"), ["garbage.sira"], d)

    nan = good.copy()
    nan[12, 30] = np.nan
    np.save(p("nan.npy"), nan)
    expect_failure("NaN input", ["denoise", "-m", p("m1.sira"), "-i", p("nan.npy"),
                                 "-o", p("o4.npy")], p("o4.npy"),
                   ["nan.npy", "non-finite", "row 12, column 30"], d)

    np.save(p("tiny.npy"), good[:5, :6])
    expect_failure("too small", ["denoise", "-m", p("m1.sira"), "-i", p("tiny.npy"),
                                 "-o", p("o5.npy")], p("o5.npy"),
                   ["tiny.npy", "5x6", "minimum 8x8"], d)

    Image.fromarray((rng.random((32, 32, 3)) * 255).astype(np.uint8), "RGB").save(p("rgb.png"))
    expect_failure("RGB PNG", ["denoise", "-m", p("m1.sira"), "-i", p("rgb.png"),
                               "-o", p("o6.tif")], p("o6.tif"), ["rgb.png", "RGB"], d)

    with open(p("a_file"), "w") as f:
        f.write("not a directory")
    expect_failure("output under a file", ["denoise", "-m", p("m1.sira"), "-i", p("good.npy"),
                                           "-o", p("a_file/out.npy")], p("a_file/out.npy"),
                   ["a_file/out.npy"], d)
    expect_failure("output dir missing", ["denoise", "-m", p("m1.sira"), "-i", p("good.npy"),
                                          "-o", p("nowhere/out.npy")], p("nowhere/out.npy"),
                   ["nowhere/out.npy"], d)

    expect_failure("unknown backend", ["denoise", "-m", p("m1.sira"), "-i", p("good.npy"),
                                       "-o", p("o7.npy"), "--backend", "gpu"], p("o7.npy"),
                   ["backend"], d)

    # Good input: a 2-D TIFF stays a 2-D float32 TIFF; a stack keeps its depth;
    # --dtype and --preview do what they say; the untrained warning is printed.
    tifffile.imwrite(p("img.tif"), (good * 1000).astype(np.uint16))
    r = run("denoise", "-m", p("m1.sira"), "-i", p("img.tif"), "-o", p("img_out.tif"),
            "--backend", "ref", "--threads", "2", "--preview", p("prev.png"))
    check(r.returncode == 0, f"2-D tif: exit 0 ({r.stderr.strip()})")
    check("UNTRAINED" in r.stderr, "2-D tif: warns that the model is untrained")
    check("backend ref" in r.stderr, "2-D tif: says which backend ran")
    out = tifffile.imread(p("img_out.tif"))
    check(out.shape == (40, 37) and out.dtype == np.float32,
          f"2-D tif: output 40x37 float32 (got {out.shape} {out.dtype})")
    check(np.isfinite(out).all(), "2-D tif: finite output")
    prev = Image.open(p("prev.png"))
    check(prev.size == (37, 40) and prev.mode == "L", f"preview 37x40 8-bit ({prev.size} {prev.mode})")

    np.save(p("stack.npy"), rng.random((3, 16, 24), dtype=np.float32) * 100)
    r = run("denoise", "-m", p("m1.sira"), "-i", p("stack.npy"), "-o", p("stack_out.npy"),
            "--dtype", "uint16", "-q")
    check(r.returncode == 0, f"stack: exit 0 ({r.stderr.strip()})")
    out = np.load(p("stack_out.npy"))
    check(out.shape == (3, 16, 24) and out.dtype == np.uint16,
          f"stack: output 3x16x24 uint16 (got {out.shape} {out.dtype})")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all denoise CLI checks passed")
