"""sira export (ONNX) against two independent oracles: Debian's python3-onnx
checker (full_check) and ONNX Runtime (npm onnxruntime-node, installed offline
as bench/compare_peers.py does) run on the exported file, compared with
`sira denoise --backend ref` on seeded 256x256 inputs.

The exported graph takes normalised input. The inputs here make sira's
per-image normalisation the identity: the top 8 rows are 0 and the bottom 8
rows 1, so the 0.5/99.5 percentiles of the 8x8 block means are exactly 0 and 1
(offset 0, scale 1), and sira's output is directly comparable to ORT's."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper

SIRA = os.environ["SIRA"]
ROOT = os.environ.get("SIRA_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HERE = os.path.dirname(os.path.abspath(__file__))
ORT_DIR = os.path.join(os.path.expanduser("~"), ".cache", "sira-ort")
ORT_MODULE = os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(*args):
    return subprocess.run([SIRA, *args], capture_output=True, text=True, timeout=600)


def ensure_ort():
    """The test needs ONNX Runtime: an install failure is a test failure, not a skip."""
    if not shutil.which("node") or not shutil.which("npm"):
        sys.exit("FAIL: node/npm missing (apt-get install nodejs npm; scripts/install-deps.sh)")
    if not os.path.isdir(ORT_MODULE):
        os.makedirs(ORT_DIR, exist_ok=True)
        env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
        r = subprocess.run(["npm", "install", "--prefix", ORT_DIR, "onnxruntime-node"], env=env,
                           capture_output=True, text=True, timeout=300)
        if not os.path.isdir(ORT_MODULE):
            sys.exit("FAIL: npm install onnxruntime-node failed:\n" + r.stdout + r.stderr)
    return ORT_MODULE


def seeded_stack(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 0.95, size=(n, 256, 256)).astype(np.float32)
    x[:, :8, :] = 0.0
    x[:, -8:, :] = 1.0
    return x


def ort_run(onnx_path, x, tmp, level="disabled"):
    """x: N x C x H x W float32 -> N x 1 x H x W (level: ORT's graph optimisation)."""
    ip, op = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.raw")
    x.astype(np.float32).tofile(ip)
    env = dict(os.environ, ORT_NODE_MODULE=ORT_MODULE)
    r = subprocess.run(["node", os.path.join(HERE, "onnx_run.js"), onnx_path, ip, *map(str, x.shape), op, level],
                       capture_output=True, text=True, timeout=300, env=env)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return np.fromfile(op, dtype=np.float32).reshape(x.shape[0], 1, x.shape[2], x.shape[3])


def sira_denoise(model, x, tmp, precision):
    ip, op = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
    np.save(ip, x)
    # The ONNX file holds the model's stored int8 ranges: sira runs with them too.
    extra = ["--int8-ranges", "model"] if precision == "int8" else []
    r = run("denoise", "-m", model, "-i", ip, "-o", op, "--backend", "ref", "--precision", precision, "--quiet", *extra)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return np.load(op).astype(np.float32)


def safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    return header, b[8 + n:]


def output_lsb(model):
    """sira's output quantisation step of an int8 model: the final conv's
    s_in * s_w (its int32 accumulator's unit; per-tensor, one output channel)."""
    header, data = safetensors(model)
    q = json.loads(header["__metadata__"]["quantization"])
    spec = header["head.conv2.weight_scale"]
    a, b = spec["data_offsets"]
    s_w = np.frombuffer(data[a:b], dtype=np.float32)[0]
    return float(q["activations"]["head.conv1"][0] * s_w)


def compare(name, model, onnx_path, slices, precision, tmp, lsb=None, level="disabled"):
    """One comparison: the 1-slice case runs 3 slices as a batch of 3 (symbolic N).
    lsb None: fp32 criterion; lsb 0: returns max |diff| / output range."""
    if slices == 1:
        x = seeded_stack(3, 11)
        want = sira_denoise(model, x, tmp, precision)
        got = ort_run(onnx_path, x[:, None], tmp, level)[:, 0]
    else:
        x = seeded_stack(3, 12)
        want = sira_denoise(model, x, tmp, precision)[1]  # the slice whose neighbours exist
        got = ort_run(onnx_path, x[None], tmp, level)[0, 0]
    diff = np.abs(got.astype(np.float64) - want)
    if lsb is None:
        rng = float(want.max() - want.min())
        print(f"     {name}: max |diff| {diff.max():.3g}, output range {rng:.3g}, ratio {diff.max() / rng:.3g}")
        check(diff.max() <= 1e-4 * rng, f"{name}: fp32 ORT vs sira ref max |diff| <= 1e-4 of the output range")
    elif lsb == 0:
        ratio = diff.max() / float(want.max() - want.min())
        print(f"     {name}: max |diff| / output range {ratio:.3g}")
        return ratio
    else:
        within = float(np.mean(diff <= lsb * 1.0001))
        print(f"     {name}: {100 * within:.3f} % of pixels within 1 LSB ({lsb:.3g}), max {diff.max() / lsb:.2f} LSB")
        return within, diff.max() / lsb


def check_exact_sums(m, label):
    """The ort profile's Conv sums integer-valued floats: exact when every
    partial sum stays below 2^24. Bound per output channel from the file's own
    initializers: sum |w| * max |code - zero point| (<= 255) + |bias|."""
    init = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    worst = 0.0
    for name, w in init.items():
        if not name.endswith(".weight_int8"):
            continue
        layer = name[: -len(".weight_int8")]
        axis = 1 if any(n.op_type == "ConvTranspose" and n.input[1] == layer + ".weight" for n in m.graph.node) else 0
        per_out = np.abs(np.moveaxis(w.astype(np.float64), axis, 0)).reshape(w.shape[axis], -1).sum(axis=1)
        bias = np.abs(init[layer + ".bias_int32"].astype(np.float64))
        worst = max(worst, float(np.max(per_out * 255 + bias)))
    print(f"     {label}: largest possible |accumulator| {worst:.4g} (2^24 = {2 ** 24})")
    check(0 < worst < 2 ** 24, f"{label} ort: integer sums exact in float (bound {worst:.4g} < 2^24)")


def checked(path, what):
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        check(True, f"{what}: onnx.checker full_check")
    except Exception as e:  # noqa: BLE001 - report the checker's message
        check(False, f"{what}: onnx.checker full_check: {e}")
    return onnx.load(path)


def main():
    ensure_ort()
    models = os.path.join(ROOT, "models")
    with tempfile.TemporaryDirectory() as tmp:
        small = []
        for args, label in (([ "--slices", "3", "--upsample", "nearest", "--residual"], "small-nearest-3"),
                            (["--slices", "1", "--upsample", "transposed"], "small-transposed-1"),
                            (["--slices", "1", "--upsample", "bilinear"], "small-bilinear-1")):
            path = os.path.join(tmp, label + ".sira")
            r = run("init", "-o", path, "--seed", "5", "--widths", "8,16,32,32,16,16,8", *args)
            check(r.returncode == 0, f"init {label}")
            small.append((label, path, int(args[1])))
        shipped = [(f"tomogan-{s}slice", os.path.join(models, f"tomogan-{s}slice.sira"), s) for s in (1, 3)]

        for label, model, slices in shipped + small:
            for opset in (13, 17):
                out = os.path.join(tmp, f"{label}-{opset}.onnx")
                r = run("export", "-m", model, "-o", out, "--opset", str(opset))
                check(r.returncode == 0, f"export {label} opset {opset}: {r.stderr.strip()}")
                m = checked(out, f"{label} opset {opset}")
                if opset == 13:
                    props = {p.key: p.value for p in m.metadata_props}
                    check({"sira_version", "normalization", "source_model", "source_model_hash", "command", "created"} <= set(props),
                          f"{label}: metadata_props carry version, normalisation, source and hash")
                    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
                    check(dims == ["N", slices, "H", "W"], f"{label}: input N x {slices} x H x W symbolic ({dims})")
                    resize = [n for n in m.graph.node if n.op_type == "Resize"]
                    for n in resize:
                        a = {x.name: x.s.decode() for x in n.attribute}
                        check("mode" in a and "coordinate_transformation_mode" in a,
                              f"{label}: Resize states mode and coordinate_transformation_mode ({a})")
            compare(label, model, os.path.join(tmp, f"{label}-13.onnx"), slices, "fp32", tmp)

        # int8: the shipped int8 models and small quantised ones (per-tensor
        # weights + nearest + residual; transposed upsampling, non-zero zero
        # points; a mixed-precision model whose final conv stays fp32).
        cal = os.path.join(tmp, "calibration.npy")
        calibration = np.random.default_rng(3).uniform(0.05, 0.95, size=(4, 64, 64)).astype(np.float32)
        calibration[:, :8], calibration[:, -8:] = 0.0, 1.0
        np.save(cal, calibration)
        int8_models = [(f"tomogan-{s}slice-int8", os.path.join(models, f"tomogan-{s}slice-int8.sira"), s, True)
                       for s in (1, 3)]
        for (label, fp32, slices), extra in zip(small, (["--per-tensor"], [], ["--target-psnr", "24"])):
            path = os.path.join(tmp, label + "-int8.sira")
            r = run("quantize", "-m", fp32, "-c", cal, "-o", path, "--quiet", *extra)
            check(r.returncode == 0, f"quantize {label} {extra}: {r.stderr.strip()}")
            int8_models.append((label + "-int8", path, slices, False))
        for label, model, slices, shipped_model in int8_models:
            header, _ = safetensors(model)
            precision = json.loads(header["__metadata__"]["quantization"])["precision"]
            float_final = precision["head.conv2"] != "int8"
            if label == "small-bilinear-1-int8":
                check(float_final, f"{label}: --target-psnr kept the final conv in fp32 ({precision['head.conv2']})")
            for profile in ("ort", "trt"):
                out = os.path.join(tmp, f"{label}-{profile}.onnx")
                r = run("export", "-m", model, "-o", out, "--int8-profile", profile)
                check(r.returncode == 0, f"export {label} {profile}: {r.stderr.strip()}")
                m = checked(out, f"{label} {profile}")
                ops = {n.op_type for n in m.graph.node}
                check({"QuantizeLinear", "DequantizeLinear"} <= ops, f"{label} {profile}: QDQ nodes")
                # Weight DQ with per-channel scales: explicit axis, the output
                # channel (0 for Conv, 1 for ConvTranspose's [in, out, kh, kw]).
                consumer = {i: n.op_type for n in m.graph.node for i in n.input}
                scalar = {t.name for t in m.graph.initializer if len(t.dims) == 0}
                dq = [n for n in m.graph.node if n.op_type == "DequantizeLinear" and n.input[0].endswith(".weight_int8")
                      and n.input[1] not in scalar]
                axes = [(consumer.get(n.output[0]), next((a.i for a in n.attribute if a.name == "axis"), None)) for n in dq]
                per_tensor_trt = profile == "trt" and label == "small-nearest-3-int8"  # --per-tensor: scalar scales
                check((len(axes) > 0) != per_tensor_trt and all(a == (1 if op == "ConvTranspose" else 0) for op, a in axes),
                      f"{label} {profile}: per-channel weight DQ axis explicit, the output channel ({sorted(set(axes))})")
                if profile == "ort":
                    check_exact_sums(m, label)
                    for level in ("disabled", "all"):
                        if float_final:  # fp32 final conv: only float summation order differs
                            ratio = compare(f"{label} ort ({level})", model, out, slices, "int8", tmp, 0, level)
                            check(ratio <= 1e-5, f"{label} ort ({level}): fp32 final layer within 1e-5 of the range")
                            continue
                        lsb = output_lsb(model)
                        within, worst = compare(f"{label} ort ({level})", model, out, slices, "int8", tmp, lsb, level)
                        # Measured: bit-identical (100 %, max 0 LSB) on every model here.
                        check(within >= 0.999 and worst <= 1.0,
                              f"{label} ort ({level}): >= 99.9 % and every pixel within 1 LSB of sira int8 "
                              f"({100 * within:.3f} %, max {worst:.2f} LSB)")
                elif shipped_model:
                    # TensorRT's QDQ is symmetric int8 (zero point 0): sira's uint8
                    # grids cannot be carried (docs/onnx.md), so only a coarse bound
                    # that catches a broken graph (wrong axis, scale or zero point).
                    lsb = output_lsb(model)
                    within, worst = compare(f"{label} trt", model, out, slices, "int8", tmp, lsb)
                    check(worst * lsb <= 0.2, f"{label} trt: ORT within 0.2 (network units) of sira int8 "
                          f"({100 * within:.1f} % within 1 LSB)")

        # Refusals: clear message, non-zero exit, an existing output untouched.
        keep = os.path.join(tmp, "keep.onnx")
        with open(keep, "wb") as f:
            f.write(b"old")
        bad = os.path.join(tmp, "bad.sira")
        with open(bad, "wb") as f:
            f.write(b"not a model")
        r = run("export", "-m", bad, "-o", keep)
        check(r.returncode != 0 and "bad.sira" in r.stderr, f"bad model refused naming it ({r.stderr.strip()[-120:]})")
        check(open(keep, "rb").read() == b"old", "failed export leaves the existing output untouched")
        r = run("export", "-m", shipped[0][1], "-o", keep, "--opset", "11")
        check(r.returncode != 0 and "opset" in r.stderr.lower(), "opset 11 refused")
        check(open(keep, "rb").read() == b"old", "refused opset leaves the existing output untouched")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all ok")


if __name__ == "__main__":
    main()
