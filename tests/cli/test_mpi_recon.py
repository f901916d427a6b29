"""sira recon under mpirun (the MPI build, docs/scale.md): ranks share the detector rows
(output slices) by contiguous slabs, each reads only its rows, and all write one HDF5
output with parallel HDF5.

The reference is the single-process `sira recon` of the same command (the plain serial
build when there is one, $SIRA_SERIAL; else the MPI build run without mpirun):
- 2 ranks on 9 rows (slabs of 4 and 5) equal it bit for bit, read with h5py: a Data
  Exchange file (FBP, automatic centre, with zingers, dead pixels and stripes removed,
  so the zinger filter's neighbour rows cross the slab edge), the same with --rows 1:8,
  and a plain sinogram stack (SIRT, given centre); the centre stored in the provenance
  is the one process's, and mpi_ranks = 2 is recorded; 3 ranks (slabs 3, 3, 3) too;
- the SIRT slices also match the phantom sira project made the sinograms from
  (an oracle independent of sira recon);
- each rank reads only its rows: with one detector row's storage corrupted, the rows
  before it run on 2 ranks (equal to one process on the intact file) and only the rank
  whose slab holds that row fails;
- failures stop every rank within 10 s with the message and a non-zero exit, leaving
  no output and no temporary: a missing input, a missing dataset, a NaN in rank 1's
  rows only (an existing output file is left byte for byte as it was);
- refused: a TIFF output, more ranks than rows; mpirun -np 1 is the one-process run."""
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from mpi_util import SERIAL, SIRA, leftovers, mpirun, serial  # noqa: E402

failures = []
FAIL_LIMIT = 10   # seconds: a failing run must have stopped every rank by then


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def make_dxchange(path, sino, rng):
    """Counts of line integrals `sino` (rows x angles x columns) with flats, darks, a few
    zingers, a dead pixel and a hot column (a stripe)."""
    rows, angles, cols = sino.shape
    p = sino / sino.max() * 2.0
    counts = 1000.0 * np.exp(-p.transpose(1, 0, 2)) + 50.0  # angles x rows x columns, dark level 50
    counts += rng.normal(0, 3, counts.shape)
    counts[7, 4, 10] += 3000  # zingers, one on the rows of each rank's slab edge
    counts[20, 3, 30] += 3000
    counts[:, 6, 15] = 50.0  # a dead pixel (sees only the dark level)
    white = 1050.0 + rng.normal(0, 3, (5, rows, cols))
    white[:, :, 40] *= 1.03  # a column brighter in the flats than in the projections: a stripe
    dark = 50.0 + rng.normal(0, 1, (3, rows, cols))
    with h5py.File(path, "w") as f:
        f["/exchange/data"] = counts.astype(np.float32)
        f["/exchange/data_white"] = white.astype(np.float32)
        f["/exchange/data_dark"] = dark.astype(np.float32)
        f["/exchange/theta"] = np.linspace(0, 180, angles, endpoint=False)


def compare(name, ranks, args, out_name):
    """One process and `ranks` ranks run `sira recon args`; their outputs must agree bit for bit."""
    one, many = (os.path.join(d, f"{out_name}_{k}.h5") for k in ("one", "many"))
    r1 = serial("recon", "-q", *args, "-o", f"{one}:/recon")
    check(r1.returncode == 0, f"{name}: one process exits 0 ({r1.stderr.strip()[-300:]})")
    start = time.monotonic()
    r2 = mpirun(ranks, "recon", *args, "-o", f"{many}:/recon")
    took = time.monotonic() - start
    check(r2.returncode == 0, f"{name}: mpirun -np {ranks} exits 0 in {took:.1f} s ({r2.stderr.strip()[-600:]})")
    if r1.returncode != 0 or r2.returncode != 0:
        return None
    with h5py.File(one) as a, h5py.File(many) as b:
        x, y = a["recon"][()], b["recon"][()]
        check(same_bits(x, y), f"{name}: {ranks} ranks equal one process bit for bit ({y.dtype} {y.shape})")
        check(a["recon"].attrs["center"] == b["recon"].attrs["center"] and int(b["recon"].attrs["mpi_ranks"]) == ranks
              and "mpi_ranks" not in a["recon"].attrs,
              f"{name}: same centre stored ({b['recon'].attrs['center']}), mpi_ranks = {ranks} recorded")
    check(r1.stdout.strip() == r2.stdout.strip(), f"{name}: the same centre line ({r2.stdout.strip()})")
    check(not leftovers(d, os.path.basename(many)), f"{name}: no temporary left")
    return y


def expect_failure(name, ranks, args, out, words):
    start = time.monotonic()
    try:
        r = mpirun(ranks, "recon", "-q", *args, "-o", f"{out}:/recon", timeout=FAIL_LIMIT + 20)
    except subprocess.TimeoutExpired:
        check(False, f"{name}: mpirun hung")
        return None
    took = time.monotonic() - start
    check(r.returncode != 0 and took < FAIL_LIMIT, f"{name}: mpirun exits non-zero ({r.returncode}) in {took:.1f} s")
    check(all(w in r.stderr for w in words), f"{name}: message names {words} ({r.stderr.strip()[:400]})")
    check(not leftovers(d, os.path.basename(out)), f"{name}: no temporary left")
    return r


with tempfile.TemporaryDirectory() as d:
    print("serial reference:", SERIAL if SERIAL and os.path.exists(SERIAL) else SIRA + " without mpirun")
    rng = np.random.default_rng(5)
    phantom, sino_path = os.path.join(d, "ph.npy"), os.path.join(d, "sino.npy")
    assert serial("phantom", "shepp-logan", "--size", "48", "--slices", "9", "-o", phantom).returncode == 0
    r = serial("project", "-q", "-i", phantom, "-o", sino_path, "--angles", "60")
    assert r.returncode == 0, r.stderr
    sino = np.load(sino_path)
    assert sino.shape == (9, 60, 48), sino.shape
    dx = os.path.join(d, "scan.h5")
    make_dxchange(dx, sino, rng)

    # Data Exchange, FBP, automatic centre, every pre-processing step.
    pre = ["--remove-zingers", "--fix-dead-pixels", "--remove-stripes"]
    compare("Data Exchange FBP auto centre", 2, ["-i", dx, "--center", "auto", *pre], "dx")
    compare("Data Exchange --rows 1:8 shepp-logan", 2,
            ["-i", dx, "--rows", "1:8", "--filter", "shepp-logan", "--center", "auto", *pre], "dx_rows")
    compare("Data Exchange FBP auto centre, 3 ranks", 3, ["-i", dx, "--center", "auto", *pre], "dx3")
    # A plain sinogram stack, SIRT; then against the phantom itself.
    rec = compare("plain sinograms SIRT", 2,
                  ["-i", sino_path, "--angles", "0:180", "--algorithm", "sirt", "--iterations", "30",
                   "--nonnegative", "--center", "23.5"], "sirt")
    if rec is not None:
        truth = np.load(phantom)
        yy, xx = np.mgrid[:48, :48] - 23.5
        inside = xx ** 2 + yy ** 2 < (0.9 * 23.5) ** 2
        rmse = float(np.sqrt(np.mean((rec[:, inside] - truth[:, inside]) ** 2)))
        scale = float(truth[:, inside].max())
        check(rmse < 0.1 * scale, f"SIRT on 2 ranks matches the phantom (RMSE {rmse:.4f}, phantom max {scale:.3f})")

    # Each rank reads only its rows: a copy of the scan whose projections are stored
    # per detector row (deflate chunks) with row 8's chunk corrupted. Rows 0..7 on 2
    # ranks (rows 0-3 and 4-7) never touch it and equal one process on the intact file;
    # all 9 rows fail on rank 1 (rows 4-8) alone, naming the file.
    broken = os.path.join(d, "broken.h5")
    with h5py.File(dx) as f, h5py.File(broken, "w") as g:
        for name in ("data_white", "data_dark", "theta"):
            g[f"/exchange/{name}"] = f[f"/exchange/{name}"][()]
        data = f["/exchange/data"][()]
        g.create_dataset("/exchange/data", data=data, chunks=(data.shape[0], 1, data.shape[2]), compression="gzip")
    with h5py.File(broken) as g:
        ds = g["/exchange/data"]
        spans = [(c.byte_offset, c.size) for c in map(ds.id.get_chunk_info, range(ds.id.get_num_chunks()))
                 if c.chunk_offset[1] == 8]
    with open(broken, "r+b") as fh:
        for offset, size in spans:
            fh.seek(offset + size // 4)
            fh.write(b"\xff" * (size // 2))
    rows8 = os.path.join(d, "rows8.h5")
    r1 = serial("recon", "-q", "-i", dx, "--rows", "0:8", "--center", "23.5", "-o", f"{rows8}:/recon")
    r2 = mpirun(2, "recon", "-q", "-i", broken, "--rows", "0:8", "--center", "23.5", "-o", f"{d}/rows8_many.h5:/recon")
    check(len(spans) == 1 and r1.returncode == 0 and r2.returncode == 0,
          f"rows 0..7 of a file with row 8 unreadable: 2 ranks exit 0 ({r2.stderr.strip()[-300:]})")
    if r1.returncode == 0 and r2.returncode == 0:
        with h5py.File(rows8) as a, h5py.File(f"{d}/rows8_many.h5") as b:
            check(same_bits(a["recon"][()], b["recon"][()]), "rows 0..7: equal one process on the intact file")
    r = expect_failure("row 8 unreadable", 2, ["-i", broken, "--center", "23.5"], os.path.join(d, "f3.h5"),
                       ["broken.h5", "/exchange/data", "rank 1 of 2"])
    # Rank 0 (rows 0-3) would fail the same way, at the same time, had it read row 8.
    check(r is not None and "error (rank 0 of 2)" not in r.stderr, "row 8 unreadable: rank 0 read its rows without error")

    # mpirun -np 1 is the one-process run (no mpi_ranks recorded).
    np1 = os.path.join(d, "np1.h5")
    r = mpirun(1, "recon", "-q", "-i", dx, "--center", "auto", *pre, "-o", f"{np1}:/recon")
    check(r.returncode == 0, f"mpirun -np 1 exits 0 ({r.stderr.strip()[-300:]})")
    if r.returncode == 0:
        with h5py.File(np1) as b, h5py.File(os.path.join(d, "dx_one.h5")) as a:
            check(same_bits(a["recon"][()], b["recon"][()]) and "mpi_ranks" not in b["recon"].attrs,
                  "mpirun -np 1 runs as one process and equals it")

    # Failures: every rank stops, nothing is written, an existing output is kept.
    expect_failure("missing input", 2, ["-i", os.path.join(d, "nope.h5"), "--angles", "0:180"],
                   os.path.join(d, "f1.h5"), ["nope.h5", "rank"])
    expect_failure("missing dataset", 2, ["-i", f"{d}/scan.h5:/nothing", "--angles", "0:180"],
                   os.path.join(d, "f2.h5"), ["scan.h5", "/nothing", "rank"])
    bad = sino.copy()
    bad[7, 11, 5] = np.nan  # row 7: in rank 1's slab (rows 4..8) only
    bad_path = os.path.join(d, "nan.npy")
    np.save(bad_path, bad)
    keep = os.path.join(d, "keep.h5")
    with h5py.File(keep, "w") as f:
        f["other"] = np.arange(5)
        f["recon"] = np.ones((2, 3), np.float32)
    before = open(keep, "rb").read()
    expect_failure("NaN in rank 1's rows", 2, ["-i", bad_path, "--angles", "0:180"], keep,
                   ["nan.npy", "rank 1 of 2", "non-finite", "slice 7, row 11, column 5"])
    check(open(keep, "rb").read() == before, "NaN: the existing output file is byte for byte as it was")
    fresh = os.path.join(d, "nan_out.h5")
    expect_failure("NaN, new output", 2, ["-i", bad_path, "--angles", "0:180"], fresh, ["rank 1 of 2"])
    check(not os.path.exists(fresh), "NaN: no output appears")

    # Refused use.
    r = mpirun(2, "recon", "-q", "-i", dx, "-o", os.path.join(d, "o.tif"))
    check(r.returncode != 0 and "must be an HDF5 dataset" in r.stderr and not os.path.exists(os.path.join(d, "o.tif")),
          "TIFF output refused")
    r = mpirun(3, "recon", "-q", "-i", dx, "--rows", "0:2", "-o", f"{d}/x.h5:/recon")
    check(r.returncode != 0 and "cannot be shared by 3 ranks" in r.stderr and not os.path.exists(f"{d}/x.h5"),
          "more ranks than rows refused")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all ok")
