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

# The shipped model predates info.recipe: its separate entries are the recipe.
shipped = os.path.join(os.environ["SIRA_SOURCE_DIR"], "models", "tomogan-1slice.sira")
info = json.loads(ok("info", "-m", shipped, "--json").stdout)["info"]
if "recipe" not in info:
    legacy = os.path.join(d, "legacy.sira")
    r = run("train", "-d", pairs, "-o", legacy, "--init", shipped, "--iters", "1", "--crop", "16")
    check(r.returncode == 0 and f"loss-weights={info['loss_weights']}" in r.stderr and "d-steps=" in r.stderr,
          f"a model without info.recipe continues its info.loss_weights {info['loss_weights']} "
          f"({r.stderr.strip()[-200:]})")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
