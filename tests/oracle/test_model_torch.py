"""sira model files vs PyTorch: files written by `sira init` load into the
torch module (sira_torch) and vice versa; parameter counts, MACs (counted with
torch forward hooks) and the receptive radius (measured with delta inputs) agree
with `sira info`."""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sira_torch  # noqa: E402

SIRA = os.environ["SIRA"]
SRC = os.environ.get("SIRA_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
torch.set_num_threads(2)


def run(*args):
    r = subprocess.run([SIRA, *args], capture_output=True, text=True)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


def info_json(*args):
    return json.loads(run("info", "--json", *args))


def check_standard_safetensors(path):
    """Parses the file as the safetensors spec says, without sira_torch."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0 and 8 + n <= len(raw)
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()), meta
    assert meta["format"] == "sira" and meta["format_version"] == "1"
    spans = sorted(tuple(e["data_offsets"]) for e in header.values())
    assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert spans[-1][1] == len(raw) - 8 - n
    for name, e in header.items():
        assert e["dtype"] == "F32"
        assert e["data_offsets"][1] - e["data_offsets"][0] == 4 * int(np.prod(e["shape"])), name
    return header, meta


def test_sira_init_loads_in_torch(tmp):
    for slices, up, widths in [(3, "bilinear", None), (1, "transposed", None), (1, "nearest", "4,8,16,16,8,8,4")]:
        path = os.path.join(tmp, f"init_{slices}_{up}.sira")
        args = ["init", "-o", path, "--slices", str(slices), "--seed", "11", "--upsample", up]
        run(*args, *(["--widths", widths] if widths else []))
        header, meta = check_standard_safetensors(path)
        module, norm, trained, info = sira_torch.load_module(path)  # strict state_dict load
        assert not trained and info["seed"] == "11"
        count = sira_torch.parameter_count(module)
        assert count == sum(int(np.prod(e["shape"])) for e in header.values())
        assert info_json("-m", path)["parameters"] == count
        if (slices, up) == (3, "bilinear"):
            assert count == 694913
        # PyTorch's default init bounds, with torch's own fan-in rule (which
        # differs for ConvTranspose2d): |w| <= 1/sqrt(fan_in), and |b| too.
        for mod in module.modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(mod.weight)
                bound = 1 / np.sqrt(fan_in)
                assert mod.weight.abs().max() <= bound * (1 + 1e-6)
                assert mod.bias.abs().max() <= bound * (1 + 1e-6)
                if mod.weight.numel() > 4000:
                    assert mod.weight.abs().max() > 0.99 * bound
                    assert abs(mod.weight.std().item() - bound / np.sqrt(3)) < 0.03 * bound
        # The module runs and gives a finite image of the input's size.
        y = module(torch.rand(1, slices, 40, 24))
        assert y.shape == (1, 1, 40, 24) and torch.isfinite(y).all()


def test_torch_written_model_loads_in_sira(tmp):
    torch.manual_seed(0)
    for cfg in [sira_torch.Config(), sira_torch.Config(slices=1, upsample="transposed")]:
        module = sira_torch.TomoGAN(cfg)  # torch's own random init
        path = os.path.join(tmp, "torch.sira")
        norm = sira_torch.Normalization("fixed", 0.25, 4.0, (1.0, 99.0))
        sira_torch.write_sira(path, module, norm, trained=True, info={"who": "pytorch"})
        check_standard_safetensors(path)
        j = info_json("-m", path, "--size", "256x256")
        assert j["parameters"] == sira_torch.parameter_count(module)
        assert j["trained"] is True and j["info"] == {"who": "pytorch"}
        assert j["normalization"] == {"mode": "fixed", "offset": 0.25, "scale": 4.0, "percentiles": [1.0, 99.0],
                                  "block": 1}
        assert j["upsample"] == cfg.upsample and j["slices"] == cfg.slices
        # Round trip through the reader is exact.
        _, _, _, _, tensors = sira_torch.read_sira(path)
        for name, t in module.state_dict().items():
            assert torch.equal(tensors[name], t), name


def hook_macs(module, h, w):
    """MACs per layer counted from the shapes PyTorch actually sees."""
    counts = {}
    names = {mod: name for name, mod in module.named_modules()}

    def hook(mod, inp, out):
        n, c_out, oh, ow = out.shape
        if isinstance(mod, nn.ConvTranspose2d):
            c_in = inp[0].shape[1]  # one tap per (input channel, output channel, output pixel)
            counts[names[mod]] = oh * ow * c_out * c_in
        else:
            counts[names[mod]] = oh * ow * c_out * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]

    hs = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        module(torch.zeros(1, module.cfg.slices, h, w))
    for x in hs:
        x.remove()
    return counts


def test_macs_match_torch_hooks():
    for cfg in [sira_torch.Config(), sira_torch.Config(slices=1, upsample="transposed")]:
        module = sira_torch.TomoGAN(cfg)
        counts = hook_macs(module, 96, 160)
        j = info_json("--slices", str(cfg.slices), "--upsample", cfg.upsample, "--size", "96x160")
        per_layer = {l["name"]: l["macs"] for l in j["layers"] if l["macs"] > 0}
        assert per_layer == {k: float(v) for k, v in counts.items()}, (per_layer, counts)
        assert j["macs"] == sum(counts.values())
    j = info_json("--arch", "tomogan", "--slices", "3", "--size", "1024x1024")
    assert j["parameters"] == 694913 and abs(j["gmac"] - 97.2) < 0.05, j["gmac"]


def measured_radius(cfg):
    """Largest distance at which a delta input moves an output pixel.

    Positive weights (1/fan_in), zero biases and a non-negative delta keep every
    ReLU and max-pool window transparent to "is this input reachable", so the
    support of the response is exactly the receptive field (in float64 nothing
    underflows). Every alignment of the delta to the pooling grid is tried."""
    module = sira_torch.TomoGAN(cfg).double()
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() == 4:
                p.fill_(1.0 / p[0].numel())
            else:
                p.zero_()
    m = 1 << cfg.levels
    size = 2 * 8 * m + 4 * m  # > twice any radius of these small nets (<= 7 * 2^levels)
    # The support along y depends only on the y alignment (and likewise x), so
    # one delta per diagonal alignment covers every case.
    x = torch.zeros(m, cfg.slices, size, size, dtype=torch.float64)
    centre = size // 2 - size // 2 % m
    for a in range(m):
        x[a, :, centre + a, centre + a] = 1.0
    with torch.no_grad():
        y = module(x)[:, 0]
    radius = 0
    for a in range(m):
        ys, xs = torch.nonzero(y[a] > 0, as_tuple=True)
        d = torch.maximum((ys - centre - a).abs(), (xs - centre - a).abs()).max().item()
        radius = max(radius, d)
    assert radius < size // 2 - 2 * m, "image too small for the field"
    return radius


def test_receptive_radius_is_exact():
    for up in ["bilinear", "nearest", "transposed"]:
        for widths in ["2,2,2,2,2", "2,3,3,3,3,2,2", "4,4,4,4,4,4,4,4,4"]:
            cfg = sira_torch.Config.from_widths(widths, 1, up)
            j = info_json("--slices", "1", "--upsample", up, "--widths", widths, "--size", "64x64")
            got = measured_radius(cfg)
            assert j["receptive_radius"] == got, (up, widths, j["receptive_radius"], got)


def test_receptive_radius_bounds_real_perturbation(tmp):
    """With a random sira model, changing every input pixel farther than the
    radius from an output pixel leaves that output pixel unchanged."""
    path = os.path.join(tmp, "r.sira")
    run("init", "-o", path, "--slices", "3", "--seed", "5")
    module, *_ = sira_torch.load_module(path)
    module = module.double()
    R = info_json("-m", path)["receptive_radius"]
    size = (2 * R + 24 + 7) // 8 * 8
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, size, size, generator=g, dtype=torch.float64)
    py, px = R + 9, R + 13
    x2 = torch.rand(1, 3, size, size, generator=g, dtype=torch.float64)
    keep = torch.zeros(size, size, dtype=torch.bool)
    keep[py - R:py + R + 1, px - R:px + R + 1] = True
    x2[:, :, keep] = x[:, :, keep]
    with torch.no_grad():
        a, b = module(x)[0, 0, py, px], module(x2)[0, 0, py, px]
        assert abs(a - b) <= 1e-15 * abs(a), (a, b)
        # ... and the bound is not loose: disturbing only the band of pixels at
        # distance R-7..R (one pooling period, whatever the alignment) changes it.
        yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        dist = torch.maximum((yy - py).abs(), (xx - px).abs())
        x3 = x.clone()
        x3[:, :, (dist > R - 8) & (dist <= R)] += 1.0
        # (random-init gains are small: the band moves the output by ~1e-12, far
        # above float64 rounding, while pixels beyond R move it by exactly 0)
        assert abs(module(x3)[0, 0, py, px] - a) > 1e-13


def test_state_dict_to_sira(tmp):
    torch.manual_seed(3)
    module = sira_torch.TomoGAN(sira_torch.Config(slices=1))
    pt = os.path.join(tmp, "g.pt")
    torch.save({"state_dict": {"module." + k: v for k, v in module.state_dict().items()}}, pt)
    out = os.path.join(tmp, "g.sira")
    script = os.path.join(SRC, "scripts", "state_dict_to_sira.py")
    r = subprocess.run([sys.executable, script, pt, out, "--slices", "1", "--norm", "fixed", "--offset", "2",
                        "--scale", "0.5", "--trained", "--info", "data=test"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    j = info_json("-m", out)
    assert j["parameters"] == sira_torch.parameter_count(module) and j["trained"] is True
    assert j["info"]["data"] == "test" and j["normalization"]["offset"] == 2.0
    _, _, _, _, tensors = sira_torch.read_sira(out)
    assert all(torch.equal(tensors[k], v) for k, v in module.state_dict().items())
    # A state_dict of another configuration is refused with a clear message.
    r = subprocess.run([sys.executable, script, pt, out + "2", "--slices", "3"], capture_output=True, text=True)
    assert r.returncode != 0 and "does not match" in r.stderr and not os.path.exists(out + "2")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        tests = [(k, v) for k, v in list(globals().items()) if k.startswith("test_")]
        for name, fn in tests:
            fn(tmp) if fn.__code__.co_argcount else fn()
            print("ok", name, flush=True)
