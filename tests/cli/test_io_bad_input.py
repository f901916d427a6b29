"""sira convert on bad input: exit code != 0, a message naming the file, no
output (nor temporary) file left behind."""
import os
import subprocess
import sys
import tempfile

import numpy as np

SIRA = os.environ["SIRA"]


def check_refused(tmp, args, output, words):
    r = subprocess.run([SIRA, "convert", *args, "-o", output], capture_output=True, text=True)
    assert r.returncode != 0, f"{args} -> {output} accepted"
    assert "sira convert: error:" in r.stderr, r.stderr
    for w in words:
        assert w in r.stderr, f"'{w}' missing from: {r.stderr}"
    path = output.split(".h5:")[0] + ".h5" if ".h5:" in output else output
    assert not os.path.exists(path), f"{path} left behind"
    assert not [n for n in os.listdir(tmp) if ".tmp-" in n], os.listdir(tmp)


def npy_bytes(dict_text, data=b""):
    header = dict_text.encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


def main(tmp):
    j = lambda name: os.path.join(tmp, name)
    good = j("good.npy")
    np.save(good, np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 100)
    open(j("corrupt.npy"), "wb").write(npy_bytes("{'descr': '<f4', 'fortran_order': Fals"))
    open(j("absurd.npy"), "wb").write(
        npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }",
                  b"\0" * 64))
    np.save(j("four.npy"), np.zeros((2, 2, 2, 2), np.float32))
    open(j("fake.h5"), "wb").write(b"not hdf5 at all")
    open(j("fake.png"), "wb").write(b"\x89PNG\r\n\x1a\ngarbage")

    cases = [
        (["-i", j("missing.tif")], j("o1.npy"), ["missing.tif"]),
        (["-i", j("missing.h5") + ":/data"], j("o2.npy"), ["missing.h5"]),
        (["-i", j("corrupt.npy")], j("o3.tif"), ["corrupt.npy", "header"]),
        (["-i", j("absurd.npy")], j("o4.tif"), ["absurd.npy", "exceed"]),
        (["-i", j("four.npy")], j("o5.tif"), ["four.npy", "(2, 2, 2, 2)"]),
        (["-i", j("fake.h5") + ":/x"], j("o6.npy"), ["fake.h5", "not an HDF5"]),
        (["-i", j("fake.png")], j("o7.npy"), ["fake.png"]),
        (["-i", j("good.npy")], j("o8.png"), ["o8.png", "2 slices"]),
        (["-i", j("good.npy"), "--dtype", "uint8"], j("o9.tif"), ["o9.tif", "out of range"]),
        (["-i", j("good.npy")], j("o10.h5"), ["o10.h5", "dataset"]),
        (["-i", j("good.npy")], j("o11.jpg"), ["o11.jpg", "extension"]),
        (["-i", j("good.npy")], j("nodir/o12.tif"), ["o12.tif", "does not exist"]),
        (["-i", j("good.npy"), "--first", "5"], j("o13.tif"), ["good.npy", "beyond"]),
        (["-i", j("good.npy"), "--dtype", "uint8"], j("o14.h5") + ":/d", ["o14.h5", "out of range"]),
    ]
    for args, output, words in cases:
        check_refused(tmp, args, output, words)

    # A failed write over an existing output leaves it intact.
    target = j("keep.tif")
    r = subprocess.run([SIRA, "convert", "-q", "-i", good, "-o", target], capture_output=True)
    assert r.returncode == 0
    before = open(target, "rb").read()
    r = subprocess.run([SIRA, "convert", "-i", good, "-o", target, "--dtype", "uint8"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and open(target, "rb").read() == before, r.stderr

    # --help documents the command with examples.
    r = subprocess.run([SIRA, "convert", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "Examples:" in r.stdout and "--dtype" in r.stdout, r.stdout
    print(f"bad input: {len(cases)} cases refused cleanly")


if __name__ == "__main__":
    try:
        with tempfile.TemporaryDirectory(prefix="sira_io_cli_") as tmp:
            main(tmp)
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
