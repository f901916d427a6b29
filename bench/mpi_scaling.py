#!/usr/bin/python3
"""Strong scaling of `mpirun -np N sira denoise` (docs/scale.md): the same DEPTH-slice
HDF5 stack restored by one process on one core (the plain streaming `sira denoise
--threads 1`, no launcher), by `mpirun -np 1` and by `mpirun -np 2` (one thread per
rank, ranks bound to cores), in fresh processes, alternating, ROUNDS times.

For each run: the wall time of the whole command (launcher, model load and set-up
included), and the peak RSS of the largest process (getrusage of the finished
children: for mpirun, its ranks and itself). Speed-up = median one-core time /
median time of N ranks. The outputs of every run are checked equal, bit for bit, to
the one-process output.

    bench/mpi_scaling.py build-mpi --serial build/sira                    # 64 x 1024², 2 rounds
    bench/mpi_scaling.py build-mpi --depth 8 --size 512 --rounds 1        # quick
    bench/mpi_scaling.py build-mpi --int8-ranges input                    # with sira's int8 default

State the machine's load (uptime) with the figures: on a shared machine the ranks
compete with everything else."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMP_NUM_THREADS="1")
# Runs the command given in argv and prints its exit code, wall seconds and the peak
# RSS (KB) of its largest descendant.
MEASURE = ("import resource, subprocess, sys, time; t = time.monotonic(); "
           "c = subprocess.run(sys.argv[1:]).returncode; "
           "print(c, time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def synthetic_stack(path, depth, size, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    base = np.sin(xx / 37.0) * np.cos(yy / 53.0)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("data", (depth, size, size), np.float32)
        for z in range(depth):
            ds[z] = (base * (1 + 0.01 * z) + 0.3 * rng.standard_normal((size, size), np.float32) + 2.0) * 500


def measured(cmd):
    r = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, env=ENV)
    code, seconds, rss_kb = r.stdout.split()
    if int(code) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return float(seconds), int(rss_kb) / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", help="the MPI build dir (with sira)")
    ap.add_argument("--serial", default="", help="the serial sira for the one-process runs "
                    "(default: the MPI build's, run without mpirun)")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "tomogan-3slice-int8.sira"))
    ap.add_argument("--precision", default="int8")
    ap.add_argument("--depth", type=int, default=64)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=2)
    # int8 by default re-observes its ranges on 4 input slices before the stream, ~30 s on
    # one core here, the same on every rank: serial work that no number of ranks shortens
    # (docs/scale.md). The stored ranges leave the scaling of the stream itself.
    ap.add_argument("--int8-ranges", default="model", choices=["model", "input"])
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    mpi_sira = os.path.join(a.build, "sira")
    serial = a.serial or mpi_sira
    with tempfile.TemporaryDirectory(dir=a.workdir) as d:
        src = os.path.join(d, "in.h5")
        synthetic_stack(src, a.depth, a.size)
        common = ["denoise", "-q", "-m", a.model, "--precision", a.precision, "--threads", "1",
                  "-i", f"{src}:/data"]
        if a.precision == "int8":
            common += ["--int8-ranges", a.int8_ranges]
        runs = {
            "one process, 1 core": lambda out: [serial, *common, "-o", f"{out}:/data"],
            "mpirun -np 1": lambda out: ["mpirun", "--allow-run-as-root", "-np", "1", "--bind-to", "core",
                                         mpi_sira, *common, "-o", f"{out}:/data"],
            "mpirun -np 2": lambda out: ["mpirun", "--allow-run-as-root", "-np", "2", "--bind-to", "core",
                                         "--map-by", "core", mpi_sira, *common, "-o", f"{out}:/data"],
        }
        times = {k: [] for k in runs}
        rss = {k: [] for k in runs}
        reference = None
        print(f"{a.depth} x {a.size}², {os.path.basename(a.model)} {a.precision}"
              f"{' (ranges: ' + a.int8_ranges + ')' if a.precision == 'int8' else ''}; load before: "
              f"{os.getloadavg()}", flush=True)
        for rnd in range(a.rounds):
            for name, cmd in runs.items():
                out = os.path.join(d, "out.h5")
                seconds, peak = measured(cmd(out))
                with h5py.File(out) as f:
                    data = f["data"][()]
                if reference is None:
                    reference = data
                elif data.tobytes() != reference.tobytes():
                    sys.exit(f"{name}: output differs from the one-process output")
                os.remove(out)
                times[name].append(seconds)
                rss[name].append(peak)
                print(f"round {rnd + 1} {name}: {seconds:.1f} s, peak RSS {peak:.0f} MB, load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
        base = statistics.median(times["one process, 1 core"])
        print("\n| run | median s | s/slice | speed-up vs one core | peak RSS MB (largest process) |")
        print("|---|---|---|---|---|")
        for name in runs:
            t = statistics.median(times[name])
            print(f"| {name} | {t:.1f} | {t / a.depth:.2f} | {base / t:.2f} | {max(rss[name]):.0f} |")
        print(f"\noutputs: all equal bit for bit; load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
