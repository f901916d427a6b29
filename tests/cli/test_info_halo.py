"""The tile halo that `sira denoise --help` states is the one `sira info` reports
for the published TomoGAN (the receptive radius rounded up to the multiple), and
the engine really uses it: a tiled run with --halo equal to it matches the
untiled result exactly, while one multiple less does not."""
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sira_cli import check, failures, ok, run  # noqa: E402

info = json.loads(ok("info", "--arch", "tomogan", "--slices", "1", "--json").stdout)
halo, radius, multiple = info["tile_halo"], info["receptive_radius"], info["multiple"]
check(halo == -(-radius // multiple) * multiple, f"tile halo {halo} = radius {radius} rounded up to {multiple}")
help_text = run("denoise", "--help").stdout
check(f"{radius} -> {halo} px" in help_text, f"denoise --help states '{radius} -> {halo} px'")

d = tempfile.mkdtemp(prefix="sira_halo_")
model = os.path.join(d, "m.sira")
ok("init", "-o", model, "--slices", "1", "--seed", "3")
img = os.path.join(d, "in.npy")
np.save(img, np.random.default_rng(1).standard_normal((200, 184)).astype(np.float32))
outs = {}
for name, extra in (("whole", ()), ("exact", ("--tile", "64", "--halo", str(halo))),
                    ("short", ("--tile", "64", "--halo", "16"))):
    path = os.path.join(d, name + ".npy")
    ok("denoise", "-q", "-m", model, "-i", img, "-o", path, "--backend", "ref", *extra)
    outs[name] = np.load(path)
check(np.array_equal(outs["whole"], outs["exact"]), f"--halo {halo} tiles equal the untiled result")
check(not np.array_equal(outs["whole"], outs["short"]), "--halo 16 tiles differ from it")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
