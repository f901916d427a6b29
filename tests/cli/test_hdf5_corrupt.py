"""Corrupt HDF5 input never takes sira down (issue 13, item 5).

libhdf5 1.10.8 crashes (SEGV, heap over-reads) on some damaged files. A small valid
file (chunked+deflate, contiguous and compact datasets, groups, attributes) is
damaged by flipping a few bytes at seeded random places, SIRA_CORRUPT_TRIALS times
(default 150), and `sira convert` reads a dataset of each copy. Every run must exit
0 (with an output numpy reads) or 1 with a message naming the file (or the output,
when the damage made values the output type cannot hold); never by a signal, never
with another code, no temporary left.

tests/data/hdf5_crash/ holds damaged copies found this way (1 in ~1500) that crash
libhdf5 1.10.8 (exit 139 before the pre-flight, checked): each must now be refused
as an HDF5 library crash naming the file, as an input and as a file to add a
dataset to (left unchanged). SIRA_HDF5_PREFLIGHT=0 is checked to turn the
pre-flight off (on the valid file)."""
import os
import random
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SIRA = os.environ["SIRA"]
TRIALS = int(os.environ.get("SIRA_CORRUPT_TRIALS", "150"))


def make_valid(path):
    rng = np.random.default_rng(5)
    with h5py.File(path, "w") as f:
        g = f.create_group("exchange")
        g.create_dataset("data", data=rng.integers(0, 4000, (4, 16, 16), dtype=np.uint16),
                         chunks=(1, 8, 8), compression="gzip")
        g["data"].attrs["units"] = "counts"
        g["data"].attrs["scale"] = 2.5
        f.create_dataset("plain", data=rng.random((3, 16, 16), dtype=np.float32))
        f.create_dataset("small", data=rng.random((4, 4), dtype=np.float32))  # compact-sized
        f.create_dataset("theta", data=np.linspace(0, 180, 4))
        f.attrs["title"] = "corruption test"


def main(tmp):
    valid = os.path.join(tmp, "valid.h5")
    make_valid(valid)
    original = open(valid, "rb").read()
    rng = random.Random(1013)
    counts = {"ok": 0, "refused": 0, "crash_refused": 0}  # refused: exit 1
    failures = []
    datasets = ["/exchange/data", "/plain", "/small"]
    for trial in range(TRIALS):
        data = bytearray(original)
        # Most damage where the structure lives (superblock, object headers, B-trees, heaps).
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(0, min(len(data), 4096) if rng.random() < 0.8 else len(data))
            data[at] = rng.randrange(256)
        bad = os.path.join(tmp, f"bad{trial}.h5")
        open(bad, "wb").write(data)
        dataset = datasets[trial % len(datasets)]
        out = os.path.join(tmp, f"out{trial}.npy")
        r = subprocess.run([SIRA, "convert", "-q", "-i", f"{bad}:{dataset}", "-o", out],
                           capture_output=True, text=True, timeout=300)
        what = f"trial {trial} ({dataset})"
        if r.returncode == 0:
            counts["ok"] += 1
            try:
                arr = np.load(out)
                assert arr.ndim in (2, 3)
            except Exception as e:  # noqa: BLE001
                failures.append(f"{what}: exit 0 but the output is unreadable: {e}")
        elif r.returncode == 1:
            counts["refused"] += 1
            counts["crash_refused"] += "HDF5 library crashed" in r.stderr or "HDF5 library failed" in r.stderr
            if (f"bad{trial}.h5" not in r.stderr and out not in r.stderr) or "sira convert: error:" not in r.stderr:
                failures.append(f"{what}: the message does not name the file: {r.stderr.strip()!r}")
            if os.path.exists(out):
                failures.append(f"{what}: exit 1 but an output was left")
        else:
            failures.append(f"{what}: exit {r.returncode}"
                            f"{' (killed by signal %d)' % -r.returncode if r.returncode < 0 else ''}: "
                            f"{r.stderr.strip()[-300:]!r}")
            bad_keep = os.path.join(os.environ.get("SIRA_CORRUPT_KEEP", tmp), f"crash{trial}.h5")
            if "SIRA_CORRUPT_KEEP" in os.environ:
                open(bad_keep, "wb").write(data)
        if [n for n in os.listdir(tmp) if ".tmp-" in n]:
            failures.append(f"{what}: temporary left")
        for name in (bad, out):
            if os.path.exists(name):
                os.remove(name)
    print(f"{TRIALS} damaged copies: {counts['ok']} read, {counts['refused']} refused "
          f"({counts['crash_refused']} as HDF5 library crashes caught by the pre-flight)")
    crashes = os.path.join(os.environ["SIRA_SOURCE_DIR"], "tests", "data", "hdf5_crash")
    for name in sorted(n for n in os.listdir(crashes) if n.endswith(".h5")):
        out = os.path.join(tmp, "crash_out.npy")
        r = subprocess.run([SIRA, "convert", "-q", "-i", f"{os.path.join(crashes, name)}:/exchange/data",
                            "-o", out], capture_output=True, text=True, timeout=300)
        print(f"{name}: exit {r.returncode}: {r.stderr.strip()[:160]}")
        if r.returncode != 1 or name not in r.stderr or "HDF5 library crashed" not in r.stderr:
            failures.append(f"{name}: exit {r.returncode}, wanted 1 and an HDF5 library crash named: {r.stderr.strip()!r}")
        if os.path.exists(out):
            failures.append(f"{name}: output left")
        # The file still takes libhdf5 down when sira does not check it first
        # (a signal, or a sanitizer's report in an instrumented build).
        r = subprocess.run([SIRA, "convert", "-q", "-i", f"{os.path.join(crashes, name)}:/exchange/data",
                            "-o", out], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "SIRA_HDF5_PREFLIGHT": "0"})
        if not (r.returncode < 0 or r.returncode > 1 or "Sanitizer" in r.stderr):
            failures.append(f"{name}: no longer crashes libhdf5 without the pre-flight (exit {r.returncode}):"
                            f" a stale regression file")
        if os.path.exists(out):
            os.remove(out)
        # Adding a dataset to the damaged file (an edit) is refused the same way,
        # the file left as it was.
        target = os.path.join(tmp, name)
        original_bad = open(os.path.join(crashes, name), "rb").read()
        open(target, "wb").write(original_bad)
        r = subprocess.run([SIRA, "convert", "-q", "-i", f"{valid}:/exchange/data", "-o", f"{target}:/added"],
                           capture_output=True, text=True, timeout=300)
        print(f"{name} as an output: exit {r.returncode}: {r.stderr.strip()[:160]}")
        if r.returncode != 1 or name not in r.stderr or "HDF5 library crashed" not in r.stderr:
            failures.append(f"{name} edited: exit {r.returncode}, wanted 1 and an HDF5 library crash named: {r.stderr.strip()!r}")
        if open(target, "rb").read() != original_bad or [n for n in os.listdir(tmp) if ".tmp-" in n]:
            failures.append(f"{name} edited: the file changed or a temporary was left")
        os.remove(target)
    # The valid file reads, with and without the pre-flight.
    for env in ({}, {"SIRA_HDF5_PREFLIGHT": "0"}):
        out = os.path.join(tmp, "valid_out.npy")
        r = subprocess.run([SIRA, "convert", "-q", "-i", f"{valid}:/exchange/data", "-o", out],
                           capture_output=True, text=True, env={**os.environ, **env})
        with h5py.File(valid, "r") as f:
            if r.returncode != 0 or not np.array_equal(np.load(out), f["exchange/data"][()]):
                failures.append(f"the valid file does not convert ({env}): {r.stderr!r}")
    return failures


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sira_h5corrupt_") as tmp:
        failures = main(tmp)
    if failures:
        print("\n".join(["FAILED:"] + failures))
        sys.exit(1)
    print("corrupt HDF5: never a crash")
