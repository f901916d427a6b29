"""sira.denoise is bit-identical to `sira denoise` on the same data: the shipped
3-slice models in fp32 and int8 (activation ranges re-observed on the input, the
default of both, and the model's own), on uint16, uint8 and float32 arrays,
C-contiguous and strided, with the slices along axis 0, 1 or 2, tiled and not,
and on one 2-D slice. The oracle is the CLI run on the array made contiguous
with its slices first (np.moveaxis), written as .npy."""
import os
import tempfile

import numpy as np

import sira
from binding_checks import MODELS, check, cli, finish

fp32 = sira.load_model(os.path.join(MODELS, "tomogan-3slice.sira"))
int8 = sira.load_model(os.path.join(MODELS, "tomogan-3slice-int8.sira"))
check(fp32.slices == 3 and not fp32.quantized and fp32.precisions == ("fp32", "bf16"), f"fp32 model: {fp32!r}")
check(int8.quantized and int8.quantised and int8.precision == "int8" and "int8" in int8.precisions,
      f"int8 model: {int8!r}")
check(fp32.precision == "fp32" and not fp32.quantised, "fp32 model's precision")
check(isinstance(fp32.info, dict) and fp32.trained, "model info is a dict, model trained")

rng = np.random.default_rng(16)
y, x = np.mgrid[0:72, 0:80]
clean = 20000 + 8000 * np.sin(x / 6.0)[None] * np.cos(y / 9.0)[None] + 500 * np.arange(5)[:, None, None]
noisy_u16 = (clean + rng.normal(0, 900, (5, 72, 80))).clip(0, 65535).astype(np.uint16)

with tempfile.TemporaryDirectory() as tmp:
    def cli_denoise(array_slices_first, model, *extra):
        src, dst = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(src, np.ascontiguousarray(array_slices_first))
        cli("denoise", "-q", "-m", model.path, "-i", src, "-o", dst, *extra)
        return np.load(dst)

    def compare(name, array, model, axis=0, precision="fp32", tile=0, cli_extra=(), **kw):
        got = sira.denoise(array, model, axis=axis, precision=precision, tile=tile, **kw)
        want = cli_denoise(np.moveaxis(array, axis, 0) if array.ndim == 3 else array, model,
                           "--precision", precision, "--tile", str(tile), *cli_extra)
        if array.ndim == 3:
            want = np.moveaxis(want, 0, axis)
        same = got.dtype == np.float32 and got.shape == array.shape and np.array_equal(got, want)
        diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("nan")
        check(same, f"{name}: {got.dtype} {got.shape} equals the CLI bit for bit (max |diff| {diff:g})")
        return got

    out = compare("fp32 uint16 (5,72,80)", noisy_u16, fp32)
    check(float(np.abs(out - noisy_u16).mean()) < float(noisy_u16.std()), "fp32 output is in the input's units")
    compare("fp32 uint16 tiled 48", noisy_u16, fp32, tile=48)
    from_input = compare("int8 uint16, ranges from the input", noisy_u16, int8, precision="int8")
    from_model = compare("int8 uint16, ranges of the model", noisy_u16, int8, precision="int8",
                         cli_extra=("--int8-ranges", "model"), int8_ranges="model")
    check(not np.array_equal(from_input, from_model), "the input's int8 ranges change the result (not a no-op)")
    compare("int8 uint16, 2 calibration slices, 40 px window", noisy_u16, int8, precision="int8",
            cli_extra=("--int8-calibration-slices", "2", "--int8-calibration-window", "40"),
            int8_calibration_slices=2, int8_calibration_window=40)

    # Strided float32: every other row and column of a bigger volume, and the
    # slices along the last axis (a transposed view).
    big = rng.normal(1.0, 0.2, (5, 144, 161)).astype(np.float32)
    strided = big[:, ::2, 1::2]
    check(not strided.flags.c_contiguous, "the strided input is a non-contiguous view")
    compare("fp32 float32 strided view", strided, fp32)
    compare("int8 float32 strided view", strided, int8, precision="int8")
    compare("fp32 float32 slices along axis 2", np.transpose(strided, (1, 2, 0)), fp32, axis=2)
    compare("int8 float32 slices along axis 1 (negative axis)", np.transpose(strided, (1, 0, 2)), int8,
            axis=-2, precision="int8")
    u8 = (noisy_u16 >> 8).astype(np.uint8)
    compare("fp32 uint8 slices along axis 1", np.ascontiguousarray(np.transpose(u8, (1, 0, 2))), fp32, axis=1)
    compare("fp32 one 2-D float32 slice", strided[2], fp32)
    compare("fp32 ref backend", noisy_u16[:3], fp32, cli_extra=("--backend", "ref"), backend="ref")
finish()
