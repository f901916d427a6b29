"""Shared by the tests of the Python module (tests/python): `import sira` from
the build tree (PYTHONPATH set by ctest), the sira binary under test (env SIRA)
and the list of failed checks a test prints and exits on."""
import os
import subprocess
import sys

import sira  # noqa: F401  (PYTHONPATH=build/python)

SIRA = os.environ["SIRA"]
SOURCE = os.environ["SIRA_SOURCE_DIR"]
MODELS = os.path.join(SOURCE, "models")
failures = []


def cli(*args, timeout=600):
    """Runs the sira binary and asserts it succeeded."""
    r = subprocess.run([SIRA, *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"sira {' '.join(args)}: {r.stderr}"
    return r


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all checks passed")
