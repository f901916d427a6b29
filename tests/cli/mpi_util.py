"""Helpers of the mpirun tests (tests/cli/test_mpi_*.py): the MPI build's sira
under mpirun and the serial build beside it, with the environment CI needs."""
import glob
import os
import subprocess

SIRA = os.environ["SIRA"]
SERIAL = os.environ.get("SIRA_SERIAL", "")
MPIEXEC = os.environ.get("SIRA_MPIEXEC", "mpirun")
# Root in CI, and no single-copy shared memory in containers.
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMP_NUM_THREADS="1")
HANG_GUARD = 120  # seconds: a run that takes longer has hung


def mpirun(ranks, *args, timeout=HANG_GUARD):
    cmd = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-np", str(ranks),
           SIRA, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)


def serial(*args):
    """The same command as one process: the serial build when there is one, else the MPI build alone."""
    exe = SERIAL if SERIAL and os.path.exists(SERIAL) else SIRA
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=HANG_GUARD,
                          env=dict(ENV, OMP_NUM_THREADS="2"))


def leftovers(folder, name):
    """Temporaries an interrupted write of NAME left in FOLDER."""
    return sorted(glob.glob(os.path.join(folder, "." + name + ".tmp-*")))
