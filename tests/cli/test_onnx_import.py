"""sira import (ONNX -> .sira, fp32) against independent oracles (docs/onnx.md, "Import"):

(a) round trip: `sira init` models (1 and 3 slices, bilinear / nearest / transposed,
    with and without the global residual) -> `sira export` -> `sira import`: every
    tensor bit-identical to the original (read from the safetensors files here), the
    same configuration and normalisation, and bit-identical `sira denoise --backend ref`.
(b) PyTorch: TomoGAN-shaped torch.nn.Modules written here (not sira's own torch
    code), exported with torch.onnx.export (opset 13), imported; `sira denoise`
    (fixed normalisation 0/1, so sira runs the network on the values as they are)
    vs the module's forward on a seeded input: max |diff| <= 1e-4 of the output range.
(c) refusals: a truncated file, garbage bytes, an unsupported operator (onnx.helper),
    a DOUBLE weight, a Resize mode sira cannot reproduce: non-zero exit, the message
    names the file and the node / tensor, no output left, an existing output untouched."""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sira_cli import check, finish, run  # noqa: E402

torch.set_num_threads(2)
WIDTHS = "8,16,32,32,16,16,8"  # 2 levels: H, W multiples of 4


def safetensors(path):
    """(metadata, {name: array}) read as the safetensors spec says."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", (path, name, e["dtype"])
        a, b = e["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(e["shape"])
    return meta, tensors


def denoise(model, x, tmp, tag):
    ip, op = os.path.join(tmp, f"in_{tag}.npy"), os.path.join(tmp, f"out_{tag}.npy")
    np.save(ip, x.astype(np.float32))
    r = run("denoise", "-m", model, "-i", ip, "-o", op, "--backend", "ref", "--precision", "fp32", "--quiet")
    if r.returncode != 0:
        raise RuntimeError(f"denoise {model}: {r.stderr}")
    return np.load(op)


def import_(onnx_path, out):
    return run("import", onnx_path, "-o", out)


# ---- (a) export -> import round trip ----

def round_trip(tmp):
    rng = np.random.default_rng(21)
    for slices in (1, 3):
        for up in ("bilinear", "nearest", "transposed"):
            for residual in (False, True):
                label = f"{slices}slice-{up}{'-residual' if residual else ''}"
                orig = os.path.join(tmp, f"rt-{label}.sira")
                onnx_path = os.path.join(tmp, f"rt-{label}.onnx")
                back = os.path.join(tmp, f"rt-{label}-imported.sira")
                args = ["init", "-o", orig, "--slices", str(slices), "--upsample", up, "--seed", "9", "--widths", WIDTHS]
                r = run(*args, *(["--residual"] if residual else []))
                check(r.returncode == 0, f"{label}: init ({r.stderr.strip()[-200:]})")
                r = run("export", "-m", orig, "-o", onnx_path)
                check(r.returncode == 0, f"{label}: export ({r.stderr.strip()[-200:]})")
                r = import_(onnx_path, back)
                check(r.returncode == 0, f"{label}: import ({r.stderr.strip()[-300:]})")
                if r.returncode != 0:
                    continue
                check("note" not in r.stderr, f"{label}: sira's own export needs no assumption (no note)")
                meta_a, ta = safetensors(orig)
                meta_b, tb = safetensors(back)
                same = sorted(ta) == sorted(tb) and all(np.array_equal(ta[k], tb[k]) for k in ta)
                check(same, f"{label}: {len(ta)} tensors bit-identical after export -> import")
                for key in ("slices", "levels", "widths", "upsample", "normalization"):
                    check(meta_a.get(key) == meta_b.get(key),
                          f"{label}: metadata '{key}' kept ({meta_a.get(key)!r} vs {meta_b.get(key)!r})")
                check(meta_a.get("residual", "false") == meta_b.get("residual", "false"), f"{label}: residual kept")
                check(meta_b.get("info.imported_from") == os.path.basename(onnx_path)
                      and meta_b.get("info.imported_by", "").startswith("sira "),
                      f"{label}: provenance info.imported_from (file name only) and info.imported_by")
                x = rng.uniform(0.0, 1.0, size=(3, 48, 40)).astype(np.float32)
                ya, yb = denoise(orig, x, tmp, "a"), denoise(back, x, tmp, "b")
                check(np.array_equal(ya, yb), f"{label}: sira denoise (ref) bit-identical to the original model "
                      f"(max |diff| {float(np.max(np.abs(ya.astype(np.float64) - yb))):.3g})")
                # And the imported model exports to the same initializers.
                again = os.path.join(tmp, f"rt-{label}-again.onnx")
                r = run("export", "-m", back, "-o", again)
                ia = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
                ib = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(again).graph.initializer}
                check(r.returncode == 0 and sorted(ia) == sorted(ib) and all(np.array_equal(ia[k], ib[k]) for k in ia),
                      f"{label}: re-export has the same {len(ia)} initializers")


# ---- (b) PyTorch-made TomoGAN-shaped networks ----

class TorchTomoGAN(nn.Module):
    """A TomoGAN-shaped U-Net written from the paper's description: stem 1x1,
    per level 2 x (3x3 conv + ReLU) and 2x2 max-pooling, a 3x3 bottleneck, per
    decoder level upsampling x2, concatenation with the skip, 2 x (3x3 conv + ReLU),
    head 1x1 + ReLU, 1x1 -> 1 channel; optional global residual (centre slice)."""

    def __init__(self, slices, widths, up, residual, up_first=False):
        super().__init__()
        stem, *rest = widths
        levels = (len(widths) - 3) // 2
        enc, bott, dec, head = rest[:levels], rest[levels], rest[levels + 1:2 * levels + 1], rest[-1]
        self.slices, self.up, self.residual, self.up_first = slices, up, residual, up_first
        self.stem = nn.Conv2d(slices, stem, 1)
        self.enc = nn.ModuleList()
        c = stem
        for w in enc:
            self.enc.append(nn.ModuleList([nn.Conv2d(c, w, 3, padding=1), nn.Conv2d(w, w, 3, padding=1)]))
            c = w
        self.bott = nn.Conv2d(c, bott, 3, padding=1)
        c = bott
        self.ups, self.dec = nn.ModuleList(), nn.ModuleList()
        for i, w in enumerate(dec):
            skip = enc[levels - 1 - i]
            self.ups.append(nn.ConvTranspose2d(c, c, 2, stride=2) if up == "transposed" else nn.Identity())
            self.dec.append(nn.ModuleList([nn.Conv2d(skip + c, w, 3, padding=1), nn.Conv2d(w, w, 3, padding=1)]))
            c = w
        self.head1, self.head2 = nn.Conv2d(c, head, 1), nn.Conv2d(head, 1, 1)
        self.bilinear = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

    def upsample(self, i, x):
        if self.up == "transposed":
            return self.ups[i](x)
        if self.up == "bilinear":
            return self.bilinear(x)
        return F.interpolate(x, scale_factor=2.0, mode="nearest")

    def forward(self, x):
        h = F.relu(self.stem(x))
        skips = []
        for c1, c2 in self.enc:
            h = F.relu(c2(F.relu(c1(h))))
            skips.append(h)
            h = F.max_pool2d(h, 2)
        h = F.relu(self.bott(h))
        for i, (c1, c2) in enumerate(self.dec):
            u = self.upsample(i, h)
            s = skips[len(skips) - 1 - i]
            h = torch.cat([u, s] if self.up_first else [s, u], dim=1)
            h = F.relu(c2(F.relu(c1(h))))
        y = self.head2(F.relu(self.head1(h)))
        if self.residual:
            c = self.slices // 2
            y = y + x[:, c:c + 1]
        return y


def torch_models(tmp):
    cases = [  # label, slices, widths, upsampling, residual, concat [up, skip], keep_initializers_as_inputs
        ("torch-3slice-bilinear-residual", 3, [8, 16, 24, 32, 24, 16, 8], "bilinear", True, False, False),
        ("torch-1slice-transposed-upfirst", 1, [6, 12, 20, 20, 12, 10, 6], "transposed", False, True, False),
        ("torch-3slice-nearest-initinputs", 3, [4, 8, 12, 16, 16, 12, 8, 8, 4], "nearest", False, False, True),
    ]
    for label, slices, widths, up, residual, up_first, init_inputs in cases:
        torch.manual_seed(len(label))
        net = TorchTomoGAN(slices, widths, up, residual, up_first).eval()
        with torch.no_grad():  # larger biases than the default, so every layer matters
            for p in net.parameters():
                if p.dim() == 1:
                    p.uniform_(-0.2, 0.2)
        levels = (len(widths) - 3) // 2
        onnx_path = os.path.join(tmp, label + ".onnx")
        example = torch.zeros(1, slices, 8 << levels, 8 << levels)
        torch.onnx.export(net, example, onnx_path, opset_version=13, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}, "y": {0: "N", 2: "H", 3: "W"}},
                          keep_initializers_as_inputs=init_inputs)
        ops = sorted({n.op_type for n in onnx.load(onnx_path).graph.node})
        print(f"     {label}: torch.onnx.export ops {ops}")
        out = os.path.join(tmp, label + ".sira")
        r = import_(onnx_path, out)
        check(r.returncode == 0, f"{label}: import ({r.stderr.strip()[-400:]})")
        if r.returncode != 0:
            continue
        check("note" in r.stderr and "offset 0 and scale 1" in r.stderr,
              f"{label}: the normalisation default is stated on stderr")
        meta, _ = safetensors(out)
        want_w = ",".join(map(str, widths))
        check(json.loads(meta["widths"]) and meta["upsample"] == up and meta.get("residual", "false") == str(residual).lower()
              and meta["slices"] == str(slices), f"{label}: configuration read from the graph ({meta['upsample']}, "
              f"{meta['slices']} slices, residual {meta.get('residual', 'false')})")
        r = run("info", out)
        check(r.returncode == 0 and want_w in r.stdout + r.stderr, f"{label}: sira info shows widths {want_w}")
        rng = np.random.default_rng(5)
        size = (3, 16 << levels, 12 << levels)  # not square: catches a transposed H/W
        x = rng.uniform(-0.5, 1.5, size=size).astype(np.float32)
        got = denoise(out, x, tmp, label)
        with torch.no_grad():
            if slices == 1:
                want = net(torch.from_numpy(x[:, None])).numpy()[:, 0]
            else:
                want = net(torch.from_numpy(x[None])).numpy()[0]
                got = got[1:2]  # the slice whose neighbours exist
        diff = np.abs(got.astype(np.float64) - want)
        span = float(want.max() - want.min())
        print(f"     {label}: max |sira - torch| {diff.max():.3g}, output range {span:.3g}, ratio {diff.max() / span:.3g}")
        check(span > 0 and diff.max() <= 1e-4 * span, f"{label}: sira denoise vs PyTorch forward within 1e-4 of the "
              f"output range ({diff.max() / span:.3g})")


# ---- (c) refusals ----

def refused(onnx_path, out, needles, what, keep=None):
    if keep:
        with open(out, "wb") as f:
            f.write(keep)
    elif os.path.exists(out):
        os.remove(out)
    r = import_(onnx_path, out)
    msg = r.stderr.strip()
    named = all(n in msg for n in needles)
    left = open(out, "rb").read() == keep if keep else not os.path.exists(out)
    tmp_left = [f for f in os.listdir(os.path.dirname(out)) if f.startswith("." + os.path.basename(out) + ".tmp")]
    check(r.returncode not in (0, None) and named and left and not tmp_left,
          f"refused: {what} (rc {r.returncode}; {msg[-220:]!r}; names {needles}; "
          f"{'existing output untouched' if keep else 'no output'}; no temporary)")


def refusals(tmp):
    good = os.path.join(tmp, "good.sira")
    good_onnx = os.path.join(tmp, "good.onnx")
    run("init", "-o", good, "--slices", "3", "--widths", WIDTHS, "--seed", "3", "--residual")
    run("export", "-m", good, "-o", good_onnx)
    blob = open(good_onnx, "rb").read()
    out = os.path.join(tmp, "refused.sira")

    p = os.path.join(tmp, "truncated.onnx")
    open(p, "wb").write(blob[: len(blob) // 2])
    refused(p, out, ["truncated.onnx", "truncated"], "a file cut in half")
    p = os.path.join(tmp, "cut_in_header.onnx")
    open(p, "wb").write(blob[:7])
    refused(p, out, ["cut_in_header.onnx"], "the first 7 bytes only", keep=b"old")
    p = os.path.join(tmp, "garbage.onnx")
    open(p, "wb").write(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    refused(p, out, ["garbage.onnx"], "4 KB of random bytes")
    p = os.path.join(tmp, "empty.onnx")
    open(p, "wb").close()
    refused(p, out, ["empty.onnx", "empty"], "an empty file")
    refused(os.path.join(tmp, "missing.onnx"), out, ["missing.onnx"], "a missing file")

    # Accepted: Keras/tf2onnx-style HWIO weights reaching the Conv through a Transpose (folded).
    m = onnx.load(good_onnx)
    for t in m.graph.initializer:
        if t.name in ("enc.0.conv1.weight", "stem.weight"):
            name = t.name
            hwio = np.ascontiguousarray(onnx.numpy_helper.to_array(t).transpose(2, 3, 1, 0))
            t.CopyFrom(onnx.numpy_helper.from_array(hwio, name + "_hwio"))
            m.graph.node.insert(0, oh.make_node("Transpose", [name + "_hwio"], [name], perm=[3, 2, 0, 1],
                                                name="to_oihw_" + name))
    p = os.path.join(tmp, "hwio.onnx")
    onnx.save(m, p)
    hwio_out = os.path.join(tmp, "hwio.sira")
    r = import_(p, hwio_out)
    _, ta = safetensors(good)
    ok_ = r.returncode == 0
    if ok_:
        _, tb = safetensors(hwio_out)
        ok_ = all(np.array_equal(ta[k], tb[k]) for k in ta)
    check(ok_, f"HWIO weights through Transpose(perm 3,2,0,1): imported bit-identical ({r.stderr.strip()[-200:]})")

    # An unsupported operator, in a graph built with onnx.helper.
    w = onnx.numpy_helper.from_array(np.ones((4, 1, 1, 1), np.float32), "w")
    g = oh.make_graph([oh.make_node("Conv", ["x", "w"], ["c"], name="conv0"),
                       oh.make_node("Sigmoid", ["c"], ["y"], name="squash")], "g",
                      [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 1, "H", "W"])],
                      [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 4, "H", "W"])], [w])
    p = os.path.join(tmp, "sigmoid.onnx")
    onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid("", 13)]), p)
    refused(p, out, ["sigmoid.onnx", "'squash'", "Sigmoid", "not supported"], "an unsupported operator (Sigmoid)",
            keep=b"old")

    # An int8 QDQ export (the shipped int8 model): fp32 only.
    root = os.environ.get("SIRA_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    p = os.path.join(tmp, "int8.onnx")
    r = run("export", "-m", os.path.join(root, "models", "tomogan-1slice-int8.sira"), "-o", p)
    check(r.returncode == 0, f"export of the shipped int8 model ({r.stderr.strip()[-200:]})")
    refused(p, out, ["int8.onnx", "QuantizeLinear", "fp32 graphs only"], "an int8 QDQ graph")

    # A weight stored as DOUBLE.
    m = onnx.load(good_onnx)
    i = next(k for k, t in enumerate(m.graph.initializer) if t.name == "enc.1.conv2.weight")
    t = m.graph.initializer[i]
    m.graph.initializer[i].CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(t).astype(np.float64), t.name))
    p = os.path.join(tmp, "double.onnx")
    onnx.save(m, p)
    refused(p, out, ["double.onnx", "enc.1.conv2.weight", "DOUBLE"], "a DOUBLE weight")

    # A Resize sira cannot reproduce (bilinear with align_corners).
    bil = os.path.join(tmp, "bil.sira")
    run("init", "-o", bil, "--slices", "1", "--widths", WIDTHS, "--seed", "3")
    run("export", "-m", bil, "-o", os.path.join(tmp, "bil.onnx"))
    m = onnx.load(os.path.join(tmp, "bil.onnx"))
    node = next(n for n in m.graph.node if n.op_type == "Resize")
    for a in node.attribute:
        if a.name == "coordinate_transformation_mode":
            a.s = b"align_corners"
    p = os.path.join(tmp, "align_corners.onnx")
    onnx.save(m, p)
    refused(p, out, ["align_corners.onnx", node.name, "align_corners"], "Resize linear align_corners")

    # A 5x5 conv (a shape sira has not) and a broken skip connection.
    m = onnx.load(good_onnx)
    node = next(n for n in m.graph.node if n.op_type == "MaxPool")
    node.attribute[0].ints[:] = [3, 3]
    p = os.path.join(tmp, "pool3.onnx")
    onnx.save(m, p)
    refused(p, out, ["pool3.onnx", node.name, "kernel_shape"], "MaxPool 3x3")
    m = onnx.load(good_onnx)
    cc = [n for n in m.graph.node if n.op_type == "Concat"]
    cc[0].input[0], cc[1].input[0] = cc[1].input[0], cc[0].input[0]  # skips swapped between levels
    p = os.path.join(tmp, "skips.onnx")
    onnx.save(m, p)
    r = import_(p, out)
    check(r.returncode != 0 and "skips.onnx" in r.stderr and not os.path.exists(out),
          f"refused: skip connections swapped between levels ({r.stderr.strip()[-200:]!r})")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        round_trip(tmp)
        torch_models(tmp)
        refusals(tmp)
    finish()


if __name__ == "__main__":
    main()
