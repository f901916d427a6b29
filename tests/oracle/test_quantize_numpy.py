"""sira quantize and the int8/bf16 ref backend vs NumPy/PyTorch written from
docs/quantization.md alone.

A random TomoGAN (2 levels, He-scaled weights, fixed normalisation offset 0 /
scale 1 so the network sees the input as is) is quantised by `sira quantize
--method minmax` on a random smooth stack. Checked, per upsampling mode and for
per-channel and per-tensor weights:
  A. the file's int8 weights, weight scales and int32 biases equal the formulas
     (max|w|/127 per output channel, round half to even, b / (s_in s_w)) exactly;
  B. its activation scales/zero points equal those of the min/max of a float64
     PyTorch forward pass (shared-scale groups at pool/upsample/concat) to 1e-4
     relative (zero points within 1);
  C. `sira denoise --precision int8 --backend ref` equals an exact integer
     simulation of the documented semantics (float64 convolutions of integer
     codes are exact; multipliers in float32) bit for bit;
  D. `--precision bf16` matches a PyTorch bf16 emulation (conv inputs, weights
     and stored activations rounded with torch.bfloat16): max error 2 %, mean
     0.1 % of the output range. The fp32 summation order differs, so a value
     next to a bf16 rounding boundary may land one bf16 step (2^-8 relative,
     0.4 %) apart and carry that through the later layers (measured: max ~0.65 %,
     mean ~0.03 %).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sira_torch  # noqa: E402

SIRA = os.environ["SIRA"]
torch.set_num_threads(2)
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def run(*args):
    r = subprocess.run([SIRA, *args], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"sira {' '.join(args)} failed: {r.stderr}")
    return r


def read_v2(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__")
    dtypes = {"F32": "<f4", "I8": "i1", "I32": "<i4"}
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[b:end], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
    return meta, tensors


def graph(cfg):
    """Nodes in execution order as (name, op, inputs, extra), like build_graph."""
    nodes = [("input", "input", [], None), ("stem", "conv", ["input"], (1, True))]
    x, skips = "stem", []
    for i in range(cfg.levels):
        nodes += [(f"enc.{i}.conv1", "conv", [x], (3, True)), (f"enc.{i}.conv2", "conv", [f"enc.{i}.conv1"], (3, True))]
        skips.append(f"enc.{i}.conv2")
        nodes.append((f"enc.{i}.pool", "pool", [f"enc.{i}.conv2"], None))
        x = f"enc.{i}.pool"
    nodes.append(("bottleneck", "conv", [x], (3, True)))
    x = "bottleneck"
    for i in range(cfg.levels):
        level = cfg.levels - 1 - i
        nodes += [(f"dec.{i}.up", "up", [x], None),
                  (f"dec.{i}.concat", "concat", [skips[level], f"dec.{i}.up"], None),
                  (f"dec.{i}.conv1", "conv", [f"dec.{i}.concat"], (3, True)),
                  (f"dec.{i}.conv2", "conv", [f"dec.{i}.conv1"], (3, True))]
        x = f"dec.{i}.conv2"
    nodes += [("head.conv1", "conv", [x], (1, True)), ("head.conv2", "conv", ["head.conv1"], (1, False))]
    return nodes


def upsample(x, mode, w=None, b=None):
    if mode == "transposed":
        return F.conv_transpose2d(x, w, b, stride=2)
    if mode == "nearest":
        return F.interpolate(x, scale_factor=2, mode="nearest")
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def float_forward(cfg, sd, x, rnd=lambda t: t):
    """Every node's output; rnd rounds conv inputs/weights and stored activations (bf16)."""
    out = {"input": rnd(x)}
    for name, op, ins, extra in graph(cfg):
        if op == "input":
            continue
        a = out[ins[0]]
        if op == "conv":
            k, relu = extra
            y = F.conv2d(a, rnd(sd[name + ".weight"]), sd[name + ".bias"], padding=k // 2)
            y = F.relu(y) if relu else y
            out[name] = y if name == "head.conv2" else rnd(y)
        elif op == "pool":
            out[name] = F.max_pool2d(a, 2)
        elif op == "up":
            tw = rnd(sd[name + ".weight"]) if cfg.upsample == "transposed" else None
            y = upsample(a, cfg.upsample, tw, sd.get(name + ".bias"))
            out[name] = y if cfg.upsample == "nearest" else rnd(y)
        else:
            out[name] = torch.cat([out[ins[0]], out[ins[1]]], dim=1)
    return out


def groups(cfg):
    parent = {n[0]: n[0] for n in graph(cfg)}

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a
    for name, op, ins, _ in graph(cfg):
        if op in ("pool", "concat") or (op == "up" and cfg.upsample != "transposed"):
            for i in ins:
                parent[find(i)] = find(name)
    return {n: find(n) for n in parent}


def act_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        return 1.0, 0
    if lo == 0:
        return float(np.float32(hi / 255)), 0
    s = (hi - lo) / 255
    return float(np.float32(s)), int(np.clip(np.rint(-lo / s), 0, 255))


def int8_forward(cfg, meta, t, x):
    """The documented int8 semantics, literally. x: 1 x C x H x W float32."""
    q = json.loads(meta["quantization"])
    acts = {k: (np.float32(v[0]), int(v[1])) for k, v in q["activations"].items()}
    s, zp = acts["input"]
    inv = np.float32(1.0 / np.float64(s))
    codes = {"input": np.clip(np.rint(x.astype(np.float32) * inv + np.float32(zp)), 0, 255)}
    result = None
    for name, op, ins, extra in graph(cfg):
        if op == "input":
            continue
        a = codes[ins[0]]
        if op in ("conv",) or (op == "up" and cfg.upsample == "transposed"):
            s_in, zp_in = acts[ins[0]]
            wq = t[name + ".weight"].astype(np.float64)
            sw = t[name + ".weight_scale"].astype(np.float64)
            bq = t[name + ".bias"].astype(np.int64)
            xin = torch.from_numpy(a.astype(np.float64) - zp_in)
            if op == "conv":
                acc = F.conv2d(xin, torch.from_numpy(wq), padding=extra[0] // 2).numpy()
                relu = extra[1]
            else:
                acc = F.conv_transpose2d(xin, torch.from_numpy(wq), stride=2).numpy()
                relu = False
            acc = acc.astype(np.int64) + bq[None, :, None, None]
            sw = np.broadcast_to(sw, (acc.shape[1],))
            if name == "head.conv2":
                d = (np.float64(s_in) * sw).astype(np.float32)
                result = acc.astype(np.float32) * d[None, :, None, None]
                continue
            s_out, zp_out = acts[name]
            m = (np.float64(s_in) * sw / np.float64(s_out)).astype(np.float32)
            v = acc.astype(np.float32) * m[None, :, None, None]
            if relu:
                v = np.maximum(v, np.float32(0))
            codes[name] = np.clip(np.rint(v + np.float32(zp_out)), 0, 255)
        elif op == "pool":
            codes[name] = F.max_pool2d(torch.from_numpy(a), 2).numpy()
        elif op == "up":
            codes[name] = np.clip(np.rint(upsample(torch.from_numpy(a), cfg.upsample).numpy()), 0, 255)
        else:
            codes[name] = np.concatenate([codes[ins[0]], codes[ins[1]]], axis=1)
    return result


def smooth_stack(rng, d, h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((d, h, w), np.float32)
    for k in range(d):
        v = 0.05 * rng.standard_normal((h, w))
        for _ in range(5):
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(3, h / 3)
            v += rng.uniform(-0.5, 1.2) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / r ** 2)
        out[k] = v
    return out


def case(tmp, upsample_mode, per_tensor):
    tag = f"{upsample_mode}{' per-tensor' if per_tensor else ''}"
    cfg = sira_torch.Config.from_widths("6,8,12,12,8,8,6", slices=1, upsample=upsample_mode)
    torch.manual_seed(3)
    module = sira_torch.TomoGAN(cfg)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("weight"):
                p.mul_(6 ** 0.5)  # He gain: keeps the signal through the layers
    fp32 = os.path.join(tmp, "fp32.sira")
    sira_torch.write_sira(fp32, module, sira_torch.Normalization("fixed", 0.0, 1.0))
    rng = np.random.default_rng(5)
    x = smooth_stack(rng, 2, 40, 48)
    np.save(os.path.join(tmp, "x.npy"), x)
    qpath = os.path.join(tmp, "q.sira")
    run("quantize", "-q", "-m", fp32, "-c", os.path.join(tmp, "x.npy"), "-o", qpath, "--method", "minmax",
        "--threads", "2", *(["--per-tensor"] if per_tensor else []))
    meta, t = read_v2(qpath)
    check(meta["format_version"] == "2", f"{tag}: format_version {meta['format_version']}")
    q = json.loads(meta["quantization"])
    sd = {k: v.detach().double() for k, v in module.state_dict().items()}

    # B: activation ranges of the float64 forward pass over both slices.
    grp = groups(cfg)
    lo, hi = {}, {}
    with torch.no_grad():
        for k in range(x.shape[0]):
            outs = float_forward(cfg, sd, torch.from_numpy(x[k:k + 1, None].astype(np.float64)))
            for name, v in outs.items():
                if name == "head.conv2":
                    continue
                g = grp[name]
                lo[g] = min(lo.get(g, np.inf), float(v.min()))
                hi[g] = max(hi.get(g, -np.inf), float(v.max()))
    for name in grp:
        if name == "head.conv2":
            continue
        s_want, zp_want = act_params(lo[grp[name]], hi[grp[name]])
        s_got, zp_got = q["activations"][name]
        check(abs(s_got - s_want) <= 1e-4 * s_want and abs(zp_got - zp_want) <= 1,
              f"{tag}: activation {name} is {[s_got, zp_got]}, oracle {[s_want, zp_want]}")

    # A: weights and biases from the formulas.
    for name, op, ins, extra in graph(cfg):
        if not (op == "conv" or (op == "up" and upsample_mode == "transposed")):
            continue
        w = module.state_dict()[name + ".weight"].numpy().astype(np.float64)
        b = module.state_dict()[name + ".bias"].numpy().astype(np.float64)
        axis = 1 if op == "up" else 0
        if per_tensor:
            s = np.array([np.float32(np.abs(w).max() / 127)], np.float32)
        else:
            other = tuple(i for i in range(4) if i != axis)
            s = (np.abs(w).max(axis=other) / 127).astype(np.float32)
        shape = [1, 1, 1, 1]
        shape[axis] = -1
        sb = s.astype(np.float64).reshape(shape) if not per_tensor else np.float64(s[0])
        codes = np.clip(np.rint(w / sb), -127, 127).astype(np.int8)
        check(np.array_equal(t[name + ".weight_scale"], s), f"{tag}: {name} weight scales differ")
        check(np.array_equal(t[name + ".weight"], codes),
              f"{tag}: {name} int8 weights differ at {np.count_nonzero(t[name + '.weight'] != codes)} places")
        s_in = np.float64(np.float32(q["activations"][ins[0]][0]))
        sc = np.broadcast_to(s.astype(np.float64), (b.shape[0],))
        bq = np.rint(b / (s_in * sc)).astype(np.int32)
        check(np.array_equal(t[name + ".bias"], bq), f"{tag}: {name} int32 bias differs")

    # C: int8 execution, bit for bit.
    out8 = os.path.join(tmp, "out8.npy")
    run("denoise", "-q", "-m", qpath, "-i", os.path.join(tmp, "x.npy"), "-o", out8, "--precision", "int8",
        "--int8-ranges", "model", "--backend", "ref", "--threads", "2")
    got = np.load(out8)
    for k in range(x.shape[0]):
        want = int8_forward(cfg, meta, t, x[k:k + 1, None])[0, 0]
        diff = np.abs(got[k].astype(np.float64) - want)
        rng_out = float(want.max() - want.min())
        check(diff.max() <= 1e-6 * rng_out,
              f"{tag}: int8 slice {k}: max |sira - oracle| = {diff.max():.3g} "
              f"({np.count_nonzero(diff)} pixels differ), output range {rng_out:.3g}")
        print(f"{tag}: int8 slice {k}: {np.count_nonzero(diff)} of {diff.size} pixels differ from the oracle")

    # D: bf16 emulation of the fp32 model.
    outb = os.path.join(tmp, "outb.npy")
    run("denoise", "-q", "-m", fp32, "-i", os.path.join(tmp, "x.npy"), "-o", outb, "--precision", "bf16",
        "--backend", "ref", "--threads", "2")
    gotb = np.load(outb)
    sd32 = {k: v.detach().float() for k, v in module.state_dict().items()}
    bf = lambda v: v.to(torch.bfloat16).to(torch.float32)  # noqa: E731  round to nearest even
    with torch.no_grad():
        for k in range(x.shape[0]):
            want = float_forward(cfg, sd32, torch.from_numpy(x[k:k + 1, None]), bf)["head.conv2"][0, 0].numpy()
            rng_out = float(want.max() - want.min())
            err = np.abs(gotb[k] - want)
            check(err.max() <= 0.02 * rng_out and err.mean() <= 1e-3 * rng_out,
                  f"{tag}: bf16 slice {k}: max error {err.max():.3g}, mean {err.mean():.3g}, range {rng_out:.3g}")
            print(f"{tag}: bf16 slice {k}: |sira - torch bf16| max {err.max() / rng_out:.2e}, "
                  f"mean {err.mean() / rng_out:.2e} of the range")


with tempfile.TemporaryDirectory() as tmp:
    case(tmp, "bilinear", False)
    case(tmp, "transposed", True)
    case(tmp, "nearest", False)

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")
