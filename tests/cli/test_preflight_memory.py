"""The HDF5 pre-flight child (src/io/hdf5_preflight.cpp) is memory-bounded: a
5,296-byte Data Exchange file found by fuzz_dxchange (kept in
tests/fuzz/regressions/dxchange/) made libhdf5 calloc 4.2 GB inside the child's
walk (H5FL_blk_calloc under H5Dread) for 13 s before the run was refused. Now the
child may grow by at most 1 GiB beyond sira's own address space. Measured from
outside: the peak resident size of sira and every process it waited for
(RUSAGE_CHILDREN of this script, which runs nothing else before)."""
import os
import resource
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sira_cli import SANITIZED, SIRA, check, finish  # noqa: E402

SOURCE = os.environ.get("SIRA_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
bomb = os.path.join(SOURCE, "tests", "fuzz", "regressions", "dxchange", "preflight-calloc-4GB.h5")

work = tempfile.mkdtemp(prefix="sira_preflight_memory_")
out = os.path.join(work, "recon.npy")
r = subprocess.run([SIRA, "recon", "-q", "-i", bomb, "-o", out], capture_output=True, text=True, timeout=300)
peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
check(r.returncode == 1 and bomb in r.stderr and not os.path.exists(out),
      f"a damaged Data Exchange file is refused with exit 1 naming it (rc {r.returncode}: {r.stderr.strip()[:160]})")
if SANITIZED:  # ASan's shadow memory is terabytes of address space: the child is not bounded there
    print(f"     (sanitizer build: no peak RSS check; peak {peak_mib:.0f} MiB)")
else:
    check(peak_mib < 1536, f"peak resident size of sira and its pre-flight child {peak_mib:.0f} MiB < 1536 MiB "
                           f"(it was 4.2 GB)")
finish()
