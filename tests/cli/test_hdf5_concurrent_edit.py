"""Concurrent writers of different datasets of one HDF5 file (issue 13, finding 3).

Writing a dataset into an existing HDF5 file edits a copy that is renamed over
the file; two runs at once each renamed their own copy, so one dataset was lost
while both exited 0. Edits are now serialised by a lock.

12 trials of three runs at once into shared.h5: `sira denoise` to /resA and
/resB (the streaming writer) and `sira convert` to /resC (the whole-stack
writer); half the trials start from a file holding /base, half from no file:
- every run exits 0;
- afterwards all datasets are there (and /base), each equal to the same run's
  output written alone;
- no temporary or lock file is left."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from sira_cli import SIRA, check, failures, ok

TRIALS = 12


def main(tmp):
    j = lambda n: os.path.join(tmp, n)
    model = j("m.sira")
    ok("-q", "init", "-o", model, "--slices", "1", "--seed", "2", "--widths", "4,4,4,4,4,4,4")
    rng = np.random.default_rng(5)
    src = {k: j(f"{k}.npy") for k in ("A", "B", "C")}
    for k, p in src.items():
        np.save(p, rng.random((6, 64, 64), dtype=np.float32))
    base = rng.random((3, 5), dtype=np.float32)

    def commands(target):
        return {
            "resA": [SIRA, "-q", "denoise", "-m", model, "-i", src["A"], "-o", target + ":/resA"],
            "resB": [SIRA, "-q", "denoise", "-m", model, "-i", src["B"], "-o", target + ":/resB"],
            "resC": [SIRA, "-q", "convert", "-i", src["C"], "-o", target + ":/resC"],
        }

    expected = {}
    for name, cmd in commands(j("alone.h5")).items():
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    with h5py.File(j("alone.h5"), "r") as f:
        expected = {name: f[name][()] for name in ("resA", "resB", "resC")}

    shared_dir = j("shared")
    os.mkdir(shared_dir)
    target = os.path.join(shared_dir, "shared.h5")
    problems = []
    for trial in range(TRIALS):
        if os.path.exists(target):
            os.remove(target)
        if trial % 2 == 0:
            with h5py.File(target, "w") as f:
                f["base"] = base
        runs = {name: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for name, cmd in commands(target).items()}
        for name, p in runs.items():
            rc = p.wait(timeout=600)
            if rc != 0:
                problems.append(f"trial {trial}: {name} rc {rc}: {p.stderr.read().strip()!r}")
        with h5py.File(target, "r") as f:
            names = sorted(f.keys())
            want = sorted(list(expected) + (["base"] if trial % 2 == 0 else []))
            if names != want:
                problems.append(f"trial {trial}: datasets {names}, wanted {want}")
            for name in expected:
                if name in f and not np.array_equal(f[name][()], expected[name]):
                    problems.append(f"trial {trial}: /{name} differs from the run alone")
            if "base" in f and not np.array_equal(f["base"][()], base):
                problems.append(f"trial {trial}: /base changed")
        extra = [n for n in os.listdir(shared_dir) if n != "shared.h5"]
        if extra:
            problems.append(f"trial {trial}: left behind {extra}")
            for n in extra:
                os.remove(os.path.join(shared_dir, n))
    check(not problems, f"{TRIALS} trials of 3 concurrent writers keep every dataset "
          f"({len(problems)} problems) {problems[:4]}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sira_h5_race_") as tmp:
        main(tmp)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("concurrent HDF5 writers: no dataset lost")
