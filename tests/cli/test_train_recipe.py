"""The training recipe travels with the model (info.recipe) and `sira train
--init MODEL` continues it: loss weights, lr, d-steps, crop, batch and
sampling come from the model unless given on the command line. A model from
before info.recipe (the separate info.* entries) is read the same way, so
fine-tuning it no longer falls back to the published defaults (adv 20)."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sira_cli import check, failures, ok, run  # noqa: E402

d = tempfile.mkdtemp(prefix="sira_recipe_")
pairs = os.path.join(d, "p.h5")
ok("pairs", "-q", "--from", "phantom", "--size", "32", "--slices", "3", "--test-fraction", "0", "-o", pairs)


def recipe(model):
    return json.loads(json.loads(ok("info", "-m", model, "--json").stdout)["info"]["recipe"])


first = os.path.join(d, "first.sira")
ok("train", "-q", "-d", pairs, "-o", first, "--slices", "1", "--iters", "2", "--lr", "3e-4",
   "--loss-weights", "0,7,2", "--d-steps", "0", "--crop", "16", "--batch", "2", "--sampling", "file",
   "--normalization", "per_image", "--norm-block", "4", "--residual")
r1 = recipe(first)
want = {"lr": 3e-4, "loss_weights": [0, 7, 2], "d_steps": 0, "crop": 16, "batch": 2, "sampling": "file",
        "perceptual": "ssim", "normalization": {"mode": "per_image", "block": 4}}
check(all(r1[k] == v for k, v in want.items()), f"info.recipe records the run's recipe ({r1})")

second = os.path.join(d, "second.sira")
r = run("train", "-d", pairs, "-o", second, "--init", first, "--iters", "1")
check(r.returncode == 0 and "continuing the recipe" in r.stderr and "lr=0.0003" in r.stderr
      and "loss-weights=0,7,2" in r.stderr, f"--init says what it continues ({r.stderr.strip()[-200:]})")
check(r.returncode == 0 and recipe(second) == r1, "the fine-tuned model has the same recipe")

third = os.path.join(d, "third.sira")
ok("train", "-q", "-d", pairs, "-o", third, "--init", first, "--iters", "1", "--lr", "1e-5", "--batch", "3")
r3 = recipe(third)
check(r3["lr"] == 1e-5 and r3["batch"] == 3 and r3["loss_weights"] == [0, 7, 2] and r3["crop"] == 16,
      f"options given on the command line win, the rest continue ({r3})")

# A model from before info.recipe (the first shipped default, 2026-11-27): its separate
# info.* entries are the recipe. Made here from `first` by rewriting the safetensors
# header's metadata (info.recipe dropped, the legacy keys written).
legacy_src = os.path.join(d, "legacy-src.sira")
with open(first, "rb") as f:
    n = int.from_bytes(f.read(8), "little")
    header = json.loads(f.read(n))
    body = f.read()
meta = header["__metadata__"]
meta.pop("info.recipe", None)
meta["info.loss_weights"] = "0.05,10,1"
meta["info.d_steps"] = "1"
raw = json.dumps(header).encode()
raw += b" " * (-len(raw) % 8)
with open(legacy_src, "wb") as f:
    f.write(len(raw).to_bytes(8, "little") + raw + body)
info = json.loads(ok("info", "-m", legacy_src, "--json").stdout)["info"]
check("recipe" not in info and info["loss_weights"] == "0.05,10,1", "the legacy model has no info.recipe")
legacy = os.path.join(d, "legacy.sira")
r = run("train", "-d", pairs, "-o", legacy, "--init", legacy_src, "--iters", "1", "--crop", "16")
check(r.returncode == 0 and "loss-weights=0.05,10,1" in r.stderr and "d-steps=1" in r.stderr,
      f"a model without info.recipe continues its info.loss_weights and info.d_steps ({r.stderr.strip()[-200:]})")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
