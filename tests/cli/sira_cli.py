"""Driving the sira binary under test (env SIRA) from the Python tests in tests/cli
and tests/oracle: a run that captures its output, expected success and failure,
and the list of failed checks a test prints and exits on. tests/oracle scripts
import it after sys.path.insert(0, <source>/tests/cli)."""
import os
import subprocess

SIRA = os.environ["SIRA"]
# An ASan or TSan build (tests/CMakeLists.txt): terabytes of reserved address space
# and an inflated resident size, so address-space limits and RSS figures do not apply.
SANITIZED = os.environ.get("SIRA_SANITIZED", "0") in ("1", "ON", "TRUE", "true")
failures = []  # what failed, for tests that report every check before exiting


def run(*args, timeout=600):
    return subprocess.run([SIRA, *args], capture_output=True, text=True, timeout=timeout)


def ok(*args, timeout=600):
    """Runs sira and asserts it succeeded."""
    r = run(*args, timeout=timeout)
    assert r.returncode == 0, f"sira {' '.join(args)}: {r.stderr}"
    return r


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def finish():
    """Exits 1 listing the failed checks, if any."""
    if failures:
        print(f"{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        raise SystemExit(1)
    print("all checks passed")


def expect_error(args, needle, output, code=1):
    """Records a failure unless sira exits with `code`, names `needle` and leaves no `output`."""
    r = run(*args)
    good = r.returncode == code and needle in r.stderr and not os.path.exists(output)
    if not good:
        failures.append(f"sira {' '.join(args)}: rc {r.returncode}, stderr {r.stderr.strip()!r}, wanted {needle!r}")


def convert(*args):
    return run("convert", "-q", *args)


def convert_ok(*args):
    r = convert(*args)
    assert r.returncode == 0, f"sira convert {args} failed: {r.stderr}"
