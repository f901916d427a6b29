"""Shared by the tests of the Python module (tests/python): `import sira` from
the build tree (PYTHONPATH set by ctest), the sira binary under test (env SIRA)
and the list of failed checks a test prints and exits on."""
import os
import sys

import sira  # noqa: F401  (PYTHONPATH=build/python)

SOURCE = os.environ["SIRA_SOURCE_DIR"]
MODELS = os.path.join(SOURCE, "models")
sys.path.insert(0, os.path.join(SOURCE, "tests", "cli"))
from sira_cli import SIRA, check, finish  # noqa: E402,F401  (re-exported to the binding tests)
from sira_cli import ok as cli  # noqa: E402,F401
