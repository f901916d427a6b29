"""`sira train` runs the sibling executable sira-train, the only one linking
libtorch: the sira executable itself must not load libtorch, `sira train --help`
and usage errors must come through with sira-train's text and exit codes, and a
sira without its sira-train must say so rather than fail obscurely."""
import os
import shutil
import subprocess
import sys
import tempfile

from sira_cli import SIRA, check, failures, run

libs = subprocess.run(["ldd", SIRA], capture_output=True, text=True).stdout
check("libtorch" not in libs, "build/sira does not link libtorch")
check(os.access(os.path.join(os.path.dirname(SIRA), "sira-train"), os.X_OK),
      "sira-train sits next to sira")

r = run("train", "--help")
check(r.returncode == 0 and "--data" in r.stdout and "sira train" in r.stdout,
      f"sira train --help prints the train options (rc {r.returncode})")
r = run("train", "--crop")
check(r.returncode == 2, f"a usage error in sira train exits 2 (rc {r.returncode})")
r = run("train", "-d", "/nonexistent/pairs.h5", "-o", "/tmp/never.sira")
check(r.returncode == 1 and "/nonexistent/pairs.h5" in r.stderr,
      f"a train error names the file and exits 1 (rc {r.returncode}, {r.stderr.strip()[-120:]})")

with tempfile.TemporaryDirectory() as d:
    lone = os.path.join(d, "sira")
    shutil.copy(SIRA, lone)
    r = subprocess.run([lone, "train", "--help"], capture_output=True, text=True)
    check(r.returncode == 1 and "sira-train" in r.stderr and "libtorch" in r.stderr,
          f"without sira-train: a clear error ({r.stderr.strip()[-160:]})")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
