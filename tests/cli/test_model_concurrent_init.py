"""Concurrent writers of one model file (issue 13, finding 2).

The model writer used one fixed temporary name (path + ".tmp"): two `sira init
-o m.sira` at once failed to rename, or both exited 0 leaving a file that loads
but is neither seed's model. Now every writer has a temporary of its own.

24 trials of 4 concurrent `sira init -o m.sira` with seeds 1..4:
- each run exits 0, or 1 with a message naming m.sira;
- at least one exits 0, and m.sira afterwards is byte for byte the model one
  seed writes alone to another file (so it loads, and is exactly one seed's);
- no temporary file is left in the folder."""
import os
import subprocess
import sys
import tempfile

from sira_cli import SIRA, check, failures, ok

TRIALS = 24
SEEDS = [1, 2, 3, 4]


def main(tmp):
    alone = {}
    for s in SEEDS:
        ref = os.path.join(tmp, f"ref{s}.sira")
        ok("-q", "init", "-o", ref, "--seed", str(s))
        alone[s] = open(ref, "rb").read()
    assert len(set(alone.values())) == len(SEEDS), "seeds gave equal models"

    shared = os.path.join(tmp, "shared")
    os.mkdir(shared)
    target = os.path.join(shared, "m.sira")
    bad_exits, wrong_files, left = [], [], []
    winners = {}
    for trial in range(TRIALS):
        if os.path.exists(target) and trial % 2:
            os.remove(target)  # half the trials write a new file, half replace one
        runs = [subprocess.Popen([SIRA, "-q", "init", "-o", target, "--seed", str(s)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for s in SEEDS]
        results = [(p.wait(timeout=600), p.stderr.read()) for p in runs]
        for rc, err in results:
            if not (rc == 0 or (rc == 1 and "m.sira" in err)):
                bad_exits.append(f"trial {trial}: rc {rc}, {err.strip()!r}")
        if not any(rc == 0 for rc, _ in results):
            bad_exits.append(f"trial {trial}: no run succeeded: {[e.strip() for _, e in results]}")
        data = open(target, "rb").read() if os.path.exists(target) else b""
        seed = next((s for s, d in alone.items() if d == data), None)
        if seed is None:
            wrong_files.append(f"trial {trial}: {len(data)} bytes, no seed's model")
        else:
            winners[seed] = winners.get(seed, 0) + 1
        extra = [n for n in os.listdir(shared) if n != "m.sira"]
        if extra:
            left.append(f"trial {trial}: {extra}")
            for n in extra:
                os.remove(os.path.join(shared, n))

    check(not bad_exits, f"{TRIALS} x {len(SEEDS)} concurrent inits exit 0 or with a clear error "
          f"{bad_exits[:3]}")
    check(not wrong_files, f"the model left is exactly one seed's {wrong_files[:3]}")
    check(not left, f"no temporary left {left[:3]}")
    r = ok("info", "-m", target)
    check("info.seed:" in r.stdout, "the final model loads")
    print(f"seeds whose model was left: {winners}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sira_model_race_") as tmp:
        main(tmp)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
