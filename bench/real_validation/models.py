"""Running sira models on the evaluation slices, and the leave-out rule.

A model is scored on a source only if the source is not among the real scans
it was trained on: `sira train` records the original files of its pair files
in the model (info.training_sources), and a model without that record is
refused unless its sources are declared by hand (--seen).
"""
import re
import subprocess
import tempfile
from pathlib import Path

import h5py
import numpy as np


class Model:
    def __init__(self, name, path, precision="fp32", seen=None):
        self.name, self.path, self.precision = name, str(path), precision
        self._seen = seen

    def training_sources(self, sira):
        if self._seen is not None:
            return set(self._seen)
        out = subprocess.run([sira, "info", "-m", self.path], check=True, capture_output=True, text=True).stdout
        m = re.search(r"^info\.training_sources: (.*)$", out, re.M)
        if not m:
            raise SystemExit(f"{self.path}: the model does not record its training sources "
                             "(info.training_sources); declare them with --seen NAME=FILE,FILE")
        return {s for s in m.group(1).split(";") if s}


def parse_model_spec(spec):
    """NAME=PATH[@int8] -> Model."""
    if "=" not in spec:
        raise SystemExit(f"model '{spec}': expected NAME=PATH[@PRECISION]")
    name, path = spec.split("=", 1)
    precision = "fp32"
    if "@" in path:
        path, precision = path.rsplit("@", 1)
    return Model(name, path, precision)


def fold_model(spec_dir, source_name, precision):
    """The model of a leave-out fold: DIR/without-SOURCE.sira (int8: -int8.sira)."""
    suffix = "-int8" if precision == "int8" else ""
    return Path(spec_dir) / f"without-{source_name}{suffix}.sira"


def denoise_groups(sira, model_path, precision, groups, threads):
    """Runs `sira denoise` on every group's noisy slices; returns the restored groups."""
    outs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (noisy, _, _) in enumerate(groups):
            src, dst = Path(tmp) / f"in{k}.h5", Path(tmp) / f"out{k}.h5"
            with h5py.File(src, "w") as f:
                f["noisy"] = noisy.astype(np.float32)
            cmd = [sira, "denoise", "-q", "-m", str(model_path), "-i", f"{src}:/noisy", "-o", f"{dst}:/restored",
                   "--threads", str(threads)]
            if precision != "fp32":
                cmd += ["--precision", precision]
            subprocess.run(cmd, check=True)
            with h5py.File(dst, "r") as f:
                outs.append(f["restored"][...].astype(np.float64))
    return outs
