"""sira denoise under mpirun (the MPI build, docs/scale.md): ranks share a stack by slabs
and write one HDF5 output with parallel HDF5.

- 2 ranks on a 7-slice stack with a random 3-slice model (slabs of 3 and 4 slices, so
  the slab edges need neighbours from the other rank's slab): the output read with h5py
  equals, bit for bit, the single-process `sira denoise` of the same input (the plain
  serial build when there is one, $SIRA_SERIAL; else the MPI build run without mpirun);
  float32 and uint16 outputs; an existing output file keeps its other datasets;
- a NaN planted in slice 5 (rank 1's slab) fails the whole run: mpirun exits non-zero
  within the time limit, the message names the file, the slice and the rank, and
  neither the output nor a temporary is left; an existing output stays untouched;
- SIGKILL of rank 1, then of rank 0 (which owns the temporary), mid-run: mpirun and
  every rank exit (non-zero); no output and no temporary are left;
- mpirun -np 1 is the one-process run; 3 ranks (slabs 2, 2, 3) equal it too;
- bad use is refused with a message: a TIFF output, more ranks than slices, another
  command than denoise under mpirun -np 2."""
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from mpi_util import ENV, HANG_GUARD, MPIEXEC, SERIAL, SIRA, leftovers, mpirun, serial  # noqa: E402

failures = []

# We run as root in CI; OpenMPI refuses that unless told. The shared-memory
# transport's single-copy mode needs ptrace rights a container may not grant.


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def stack(depth, size, seed, integer=False):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    s = np.stack([np.sin(6 * x + z) * np.cos(4 * y - z / 2) for z in range(depth)])
    s = (s + 0.3 * rng.standard_normal(s.shape) + 2.0) * 500
    return s.astype(np.uint16) if integer else s.astype(np.float32)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


with tempfile.TemporaryDirectory() as d:
    print("serial reference:", SERIAL if SERIAL and os.path.exists(SERIAL) else SIRA + " without mpirun")
    model = os.path.join(d, "m3.sira")
    assert serial("init", "-o", model, "--slices", "3", "--seed", "7").returncode == 0
    src = os.path.join(d, "in.h5")
    with h5py.File(src, "w") as f:
        f["data"] = stack(7, 64, 1)
        f["counts"] = stack(7, 64, 2, integer=True)
        bad = stack(7, 64, 3)
        bad[5, 7, 11] = np.nan
        f["nan"] = bad

    # Bit-for-bit against one process, float32 and uint16.
    for dataset, extra in (("data", []), ("counts", ["--dtype", "uint16"])):
        one = os.path.join(d, f"one_{dataset}.h5")
        two = os.path.join(d, f"two_{dataset}.h5")
        r1 = serial("denoise", "-q", "-m", model, "-i", f"{src}:/{dataset}", "-o", f"{one}:/out", *extra)
        check(r1.returncode == 0, f"{dataset}: single process exits 0 ({r1.stderr.strip()[-300:]})")
        r2 = mpirun(2, "denoise", "-m", model, "-i", f"{src}:/{dataset}", "-o", f"{two}:/out", *extra)
        check(r2.returncode == 0, f"{dataset}: mpirun -np 2 exits 0 ({r2.stderr.strip()[-600:]})")
        if r1.returncode == 0 and r2.returncode == 0:
            with h5py.File(one) as a, h5py.File(two) as b:
                check(same_bits(a["out"][()], b["out"][()]),
                      f"{dataset}: 2 ranks equal one process bit for bit ({b['out'].dtype} {b['out'].shape})")
                check(int(b["out"].attrs["mpi_ranks"]) == 2 and "model_hash" in b["out"].attrs,
                      f"{dataset}: provenance recorded with mpi_ranks = 2")
            check("2 ranks" in r2.stderr, f"{dataset}: status line names the ranks")
        check(not leftovers(d, os.path.basename(two)), f"{dataset}: no temporary left")

    # An existing output file keeps its other datasets (copy-on-write, as one process).
    keep = os.path.join(d, "keep.h5")
    with h5py.File(keep, "w") as f:
        f["other"] = np.arange(5)
    r = mpirun(2, "denoise", "-q", "-m", model, "-i", f"{src}:/data", "-o", f"{keep}:/out")
    check(r.returncode == 0, f"into an existing file exits 0 ({r.stderr.strip()[-300:]})")
    if r.returncode == 0:
        with h5py.File(keep) as f, h5py.File(os.path.join(d, "one_data.h5")) as a:
            check(list(f["other"][()]) == [0, 1, 2, 3, 4] and same_bits(f["out"][()], a["out"][()]),
                  "existing file: other dataset kept, new one equals one process")

    # A NaN in rank 1's slab fails every rank; nothing is written; an old output is kept.
    out = os.path.join(d, "nan_out.h5")
    start = time.monotonic()
    r = mpirun(2, "denoise", "-q", "-m", model, "-i", f"{src}:/nan", "-o", f"{out}:/out")
    took = time.monotonic() - start
    check(r.returncode != 0, f"NaN in slice 5: mpirun exits non-zero ({r.returncode}) in {took:.1f} s")
    check("slice 5, row 7, column 11" in r.stderr and "rank 1 of 2" in r.stderr and "in.h5:/nan" in r.stderr,
          f"NaN: message names file, slice and rank ({r.stderr.strip()[:400]})")
    check(not os.path.exists(out) and not leftovers(d, "nan_out.h5"), "NaN: no output, no temporary")
    r = mpirun(2, "denoise", "-q", "-m", model, "-i", f"{src}:/nan", "-o", f"{keep}:/out")
    with h5py.File(keep) as f:
        check(r.returncode != 0 and sorted(f.keys()) == ["other", "out"] and "mpi_ranks" in f["out"].attrs,
              "NaN into an existing file: it is left as it was")
    check(not leftovers(d, "keep.h5"), "NaN into an existing file: no temporary")

    # SIGKILL of one rank mid-run (rank 1, then rank 0, which owns the temporary): the
    # launcher ends every rank; neither the output nor a temporary is left.
    big = os.path.join(d, "big.h5")
    with h5py.File(big, "w") as f:
        f["data"] = stack(400, 256, 4)  # long enough on a quiet machine to be killed mid-run

    def rank_of(pid):
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        return int(env.get(b"OMPI_COMM_WORLD_RANK", b"-1"))

    for victim in (1, 0):
        out = os.path.join(d, f"killed{victim}.h5")
        cmd = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-np", "2",
               SIRA, "denoise", "-q", "-m", model, "-i", f"{big}:/data", "-o", f"{out}:/out"]
        launcher = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        ranks = []
        deadline = time.monotonic() + 60
        while len(ranks) < 2 and time.monotonic() < deadline and launcher.poll() is None:
            time.sleep(0.5)
            ps = subprocess.run(["pgrep", "-P", str(launcher.pid), "-f", "denoise"], capture_output=True, text=True)
            ranks = [int(p) for p in ps.stdout.split()]
        check(len(ranks) == 2, f"kill rank {victim}: found the 2 ranks {ranks}")
        if len(ranks) != 2:
            launcher.kill()
            launcher.communicate()
            continue
        # Into the stream: the temporary output exists (waited for, not assumed after a fixed time).
        had_temporary = False
        while not had_temporary and time.monotonic() < deadline and launcher.poll() is None:
            time.sleep(0.1)
            had_temporary = bool(leftovers(d, os.path.basename(out)))
        time.sleep(0.5)
        os.kill(next(p for p in ranks if rank_of(p) == victim), signal.SIGKILL)
        start = time.monotonic()
        try:
            launcher.communicate(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.communicate()
        took = time.monotonic() - start
        gone = all(not os.path.exists(f"/proc/{p}") or open(f"/proc/{p}/stat").read().split()[2] == "Z"
                   for p in ranks)
        check(launcher.returncode != 0 and gone,
              f"kill rank {victim}: mpirun exits {launcher.returncode} after {took:.1f} s, every rank gone")
        check(had_temporary and not os.path.exists(out) and not leftovers(d, os.path.basename(out)),
              f"kill rank {victim}: the temporary existed; no output and no temporary are left")

    # Refused use.
    r = mpirun(2, "denoise", "-q", "-m", model, "-i", f"{src}:/data", "-o", os.path.join(d, "o.tif"))
    check(r.returncode != 0 and "must be an HDF5 dataset" in r.stderr, "TIFF output refused")
    r = mpirun(3, "denoise", "-q", "-m", model, "-i", f"{src}:/data",
               "-o", f"{d}/three.h5:/out")
    check(r.returncode == 0, f"3 ranks on 7 slices exit 0 ({r.stderr.strip()[-300:]})")
    if r.returncode == 0:
        with h5py.File(f"{d}/three.h5") as b, h5py.File(os.path.join(d, "one_data.h5")) as a:
            check(same_bits(a["out"][()], b["out"][()]), "3 ranks (slabs 2, 2, 3) equal one process")
    r = mpirun(1, "denoise", "-q", "-m", model, "-i", f"{src}:/data", "-o", f"{d}/np1.h5:/out")
    if r.returncode == 0:
        with h5py.File(f"{d}/np1.h5") as b, h5py.File(os.path.join(d, "one_data.h5")) as a:
            check(same_bits(a["out"][()], b["out"][()]) and "mpi_ranks" not in b["out"].attrs,
                  "mpirun -np 1 runs as one process and equals it")
    else:
        check(False, f"mpirun -np 1 exits 0 ({r.stderr.strip()[-300:]})")
    r = mpirun(2, "init", "-o", f"{d}/twice.sira", "--slices", "1")
    check(r.returncode != 0 and "only 'sira denoise'" in r.stderr and not os.path.exists(f"{d}/twice.sira"),
          "another command under mpirun -np 2 refuses to run twice")
    with h5py.File(os.path.join(d, "two.h5"), "w") as f:
        f["data"] = stack(2, 64, 5)
    r = mpirun(3, "denoise", "-q", "-m", model, "-i", f"{d}/two.h5:/data", "-o", f"{d}/x.h5:/out")
    check(r.returncode != 0 and "cannot be shared by 3 ranks" in r.stderr, "more ranks than slices refused")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all ok")
