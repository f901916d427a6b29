"""The installed library (docs/library.md): `cmake --install` of this build into a
temporary prefix, then a program outside the tree (examples/denoise_image) built
against it twice -- with find_package(sira) and with pkg-config (sira.pc) -- and
run: its output equals the installed `sira denoise` of the same stack bit for
bit (an independent path: the CLI's own streaming pipeline), and the version it
prints is the installed CLI's. Only public headers are installed (no src/)."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sira_cli import SIRA, check, finish  # noqa: E402
import numpy as np  # noqa: E402

build = os.path.dirname(os.path.abspath(SIRA))
source = os.environ["SIRA_SOURCE_DIR"]
work = tempfile.mkdtemp(prefix="sira_install_")
prefix = os.path.join(work, "prefix")


def run(args, env=None, **kw):
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, **kw)
    assert r.returncode == 0, f"{' '.join(args)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


run(["cmake", "--install", build, "--prefix", prefix])
libdir = next(os.path.join(prefix, d) for d in ("lib", "lib64", "lib/x86_64-linux-gnu")
              if os.path.exists(os.path.join(prefix, d, "pkgconfig", "sira.pc")))
headers = sorted(os.listdir(os.path.join(prefix, "include", "sira")))
check("engine.hpp" in headers and "version.hpp" in headers and "model.hpp" in headers,
      f"public headers installed under include/sira ({len(headers)} files)")
private = [f for f in ("backend.hpp", "normalize.hpp", "safetensors.hpp") if f in headers]
check(not private and not os.path.exists(os.path.join(prefix, "include", "engine")),
      f"no private header of src/ installed ({private})")
check(os.path.exists(os.path.join(libdir, "cmake", "sira", "sira-config.cmake")), "CMake package installed")

# The program, built outside the tree against the installed package only.
model = os.path.join(work, "m3.sira")
run([os.path.join(prefix, "bin", "sira"), "init", "-q", "-o", model, "--slices", "3", "--seed", "4"])
rng = np.random.default_rng(5)
stack = (1000 + 200 * rng.standard_normal((3, 40, 52))).astype(np.float32)
inp = os.path.join(work, "in.npy")
np.save(inp, stack)
cli_out = os.path.join(work, "cli.npy")
run([os.path.join(prefix, "bin", "sira"), "denoise", "-q", "-m", model, "-i", inp, "-o", cli_out, "--threads", "2"])
expected = np.load(cli_out)
env = dict(os.environ, LD_LIBRARY_PATH=libdir)

cmake_build = os.path.join(work, "example-cmake")
run(["cmake", "-S", os.path.join(source, "examples", "denoise_image"), "-B", cmake_build,
     f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release"])
run(["cmake", "--build", cmake_build])
out = os.path.join(work, "example-cmake.npy")
r = run([os.path.join(cmake_build, "denoise_image"), model, inp, out, "2"], env=env)
version = run([os.path.join(prefix, "bin", "sira"), "--version"]).stdout.split()[-1]
check(f"sira {version}:" in r.stdout, f"the program reports the installed version ({r.stdout.strip()!r}, CLI {version})")
check(np.array_equal(np.load(out), expected), "find_package(sira): the program's output equals sira denoise bit for bit")

pc_env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
flags = run(["pkg-config", "--cflags", "--libs", "sira"], env=pc_env).stdout.split()
exe = os.path.join(work, "denoise_image_pc")
run(["g++", "-O2", os.path.join(source, "examples", "denoise_image", "main.cpp"), "-o", exe, *flags])
out_pc = os.path.join(work, "example-pc.npy")
run([exe, model, inp, out_pc, "2"], env=env)
check(np.array_equal(np.load(out_pc), expected), "pkg-config sira: the program's output equals sira denoise bit for bit")

r = subprocess.run([exe, os.path.join(work, "missing.sira"), inp, out_pc], capture_output=True, text=True, env=env)
check(r.returncode == 1 and "missing.sira" in r.stderr, f"a library error reaches the program ({r.stderr.strip()!r})")

shutil.rmtree(work)
finish()
