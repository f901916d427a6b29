"""An output that is the input is refused unless --in-place (issue 13, finding 6).

`sira convert` and `sira denoise` with -o naming the input (the same path, the
same file by another path or a symbolic link, or the same HDF5 dataset) used to
replace the input silently. Now, for .tif, .npy and .h5:/dataset:
- without --in-place: exit 1, a message naming the output and --in-place, the
  input byte for byte unchanged, no temporary left;
- another dataset of the input's HDF5 file is not the input: written, the input
  dataset kept;
- with --in-place: the input is replaced by what the same run writes to
  another file."""
import os
import sys
import tempfile

import h5py
import numpy as np
import tifffile

from sira_cli import check, failures, ok, run


def read(spec):
    if ".h5:" in spec:
        f, d = spec.split(":")
        with h5py.File(f, "r") as h:
            return h[d][()]
    return np.load(spec) if spec.endswith(".npy") else tifffile.imread(spec)


def main(tmp):
    j = lambda n: os.path.join(tmp, n)
    model = j("m.sira")
    ok("-q", "init", "-o", model, "--slices", "1", "--seed", "1", "--widths", "4,4,4,4,4,4,4")
    data = (np.random.default_rng(2).random((3, 32, 32)) * 200).astype(np.float32).round()

    def make_inputs():  # afresh for every case: the old code replaced them
        np.save(j("in.npy"), data)
        tifffile.imwrite(j("in.tif"), data, photometric="minisblack")
        with h5py.File(j("in.h5"), "w") as f:
            f["d"] = data

    make_inputs()
    os.mkdir(j("sub"))
    os.symlink(j("in.tif"), j("link.tif"))

    cases = [("in.npy", "in.npy"), ("in.tif", "in.tif"), ("in.tif", "sub/../in.tif"),
             ("in.tif", "link.tif"), ("in.h5:/d", "in.h5:/d"), ("in.h5:/d", "in.h5://d/")]
    for src, dst in cases:
        src_spec, dst_spec = j(src), j(dst)
        for cmd in (["convert", "--dtype", "uint8"], ["denoise", "-m", model]):
            make_inputs()
            before = open(j(src.split(":")[0]), "rb").read()
            r = run(*cmd, "-i", src_spec, "-o", dst_spec)
            check(r.returncode == 1 and "--in-place" in r.stderr and dst.split(":")[0].split("/")[-1] in r.stderr,
                  f"{cmd[0]} -i {src} -o {dst} refused: rc {r.returncode} {r.stderr.strip()[-160:]!r}")
            check(open(j(src.split(":")[0]), "rb").read() == before, f"{cmd[0]} -i {src} -o {dst}: input unchanged")
            check(not [n for n in os.listdir(tmp) if ".tmp" in n or ".lock" in n],
                  f"{cmd[0]} -i {src} -o {dst}: nothing left behind")

    # Another dataset of the input file is a new output.
    make_inputs()
    ok("convert", "-q", "-i", j("in.h5:/d"), "-o", j("in.h5:/e"), "--dtype", "uint8")
    check(np.array_equal(read(j("in.h5:/d")), data) and np.array_equal(read(j("in.h5:/e")), data),
          "in.h5:/d -> in.h5:/e written, /d kept")

    # --in-place replaces the input with what the same run writes elsewhere.
    for src, ext in [("in.npy", ".npy"), ("in.tif", ".tif"), ("in.h5:/d", ".h5:/d")]:
        ok("-q", "denoise", "-m", model, "-i", j(src), "-o", j("alone" + ext))
        expected = read(j("alone" + ext))
        r = run("-q", "denoise", "-m", model, "-i", j(src), "-o", j(src), "--in-place")
        check(r.returncode == 0 and np.array_equal(read(j(src)), expected),
              f"denoise --in-place {src}: rc {r.returncode}, replaced by the denoised stack")
    r = run("-q", "convert", "-i", j("in.npy"), "-o", j("in.npy"), "--in-place", "--dtype", "float32")
    check(r.returncode == 0 and np.array_equal(read(j("in.npy")), read(j("alone.npy"))),
          "convert --in-place in.npy: rc 0, same data")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sira_in_place_") as tmp:
        main(tmp)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("output over input: refused unless --in-place")
