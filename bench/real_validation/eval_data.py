"""The (noisy, clean) evaluation slices of one source under one degradation.

Made once by `sira pairs` into WORK/eval/SOURCE-DEGRADATION.h5 and reused while
the command that made them is unchanged. Each group of consecutive detector
rows is its own pair of datasets (noisy_gK, clean_gK) so that a 3-slice model
sees a row's real neighbours; attribute `scored_gK` lists the slices scored.
"""
import hashlib
import json
import subprocess
from pathlib import Path

import h5py
import numpy as np


def pairs_command(sira, data_dir, source, degradation, rows, out, seed):
    cmd = [sira, "pairs", "-q", "--from", str(Path(data_dir) / source.file), *source.args, *source.prep,
           *degradation.args, "--test-fraction", "0", "--seed", str(seed)]
    if rows is not None:
        cmd += ["--rows", ",".join(str(r) for r in rows)]
    return cmd + ["-o", str(out)]


def _groups(source):
    """[(rows or None, scored indices)]: None = every row of the source."""
    if not source.rows:
        return [(None, None)]
    return [(rows, [len(rows) // 2]) for rows in source.rows]


def build(sira, data_dir, work, source, degradation, seed):
    """Path of the evaluation file, made if missing or made by another command."""
    path = Path(work) / "eval" / f"{source.name}-{degradation.name}.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = _groups(source)
    cmds = [pairs_command(sira, data_dir, source, degradation, rows, path.with_suffix(f".g{k}.tmp.h5"), seed)
            for k, (rows, _) in enumerate(groups)]
    # The sira binary's path is not part of the key; its arguments are.
    key = hashlib.sha256(json.dumps([c[1:] for c in cmds]).encode()).hexdigest()
    if path.exists():
        with h5py.File(path, "r") as f:
            if f.attrs.get("key") == key:
                return path
    tmp = path.with_suffix(".tmp")
    with h5py.File(tmp, "w") as out:
        out.attrs["key"] = key
        out.attrs["source"] = source.name
        out.attrs["degradation"] = degradation.name
        out.attrs["groups"] = len(groups)
        for k, ((rows, scored), cmd) in enumerate(zip(groups, cmds)):
            subprocess.run(cmd, check=True)
            part = Path(cmd[-1])
            with h5py.File(part, "r") as f:
                noisy, clean = f["train_ns"][...], f["train_gt"][...]
                attrs = dict(f.attrs)
            part.unlink()
            out[f"noisy_g{k}"] = noisy
            out[f"clean_g{k}"] = clean
            out.attrs[f"scored_g{k}"] = np.array(scored if scored is not None else range(len(noisy)), dtype=np.int64)
            out.attrs[f"command_g{k}"] = " ".join(["sira", *cmd[1:-2]])
            for name in ("center", "flux", "angles", "noisy_angles"):
                if name in attrs:
                    out.attrs[f"{name}_g{k}"] = attrs[name]
    tmp.rename(path)
    return path


def load(path):
    """[(noisy group, clean group, scored indices)] as float64 arrays."""
    with h5py.File(path, "r") as f:
        return [(f[f"noisy_g{k}"][...].astype(np.float64), f[f"clean_g{k}"][...].astype(np.float64),
                 list(f.attrs[f"scored_g{k}"])) for k in range(int(f.attrs["groups"]))]


def scored_slices(groups, which):
    """The scored slices of `which` (0 = noisy, 1 = clean) over all groups."""
    return [g[which][i] for g in groups for i in g[2]]
