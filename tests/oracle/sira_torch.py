"""sira model files and the TomoGAN generator in PyTorch: the oracle the C++
engine is compared with, and the reference for the libtorch trainer.

Only torch, numpy, json and struct are used (no safetensors package): the
format is small enough to read by hand, which also checks that sira files are
plain safetensors. See docs/model-format.md.
"""
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT_VERSION = 1


@dataclass
class Config:
    slices: int = 3
    stem: int = 8
    encoder: List[int] = field(default_factory=lambda: [32, 64, 128])
    bottleneck: int = 128
    decoder: List[int] = field(default_factory=lambda: [64, 32, 32])
    head: int = 16
    upsample: str = "bilinear"  # bilinear | nearest | transposed
    residual: bool = False      # output = centre input slice + network

    @property
    def levels(self) -> int:
        return len(self.encoder)

    def widths_list(self) -> List[int]:
        return [self.stem, *self.encoder, self.bottleneck, *self.decoder, self.head]

    @staticmethod
    def from_widths(text: str, slices: int = 3, upsample: str = "bilinear") -> "Config":
        """'8,32,64,128,128,64,32,32,16' -> Config (stem, L enc, bottleneck, L dec, head)."""
        v = [int(x) for x in text.split(",")]
        if len(v) < 5 or len(v) % 2 == 0:
            raise ValueError(f"widths '{text}': expected 2L+3 numbers")
        L = (len(v) - 3) // 2
        return Config(slices, v[0], v[1:1 + L], v[1 + L], v[2 + L:2 + 2 * L], v[-1], upsample)


@dataclass
class Normalization:
    mode: str = "fixed"
    offset: float = 0.0
    scale: float = 1.0
    percentiles: Tuple[float, float] = (0.5, 99.5)
    block: int = 1  # per_image: percentiles of the means of block x block tiles


class _Block(nn.Module):
    """Two 3x3 convs (ReLU); the decoder's also owns the transposed upsampler."""

    def __init__(self, cin, cout, up_channels: Optional[int] = None):
        super().__init__()
        if up_channels is not None:
            self.up = nn.ConvTranspose2d(up_channels, up_channels, 2, stride=2)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))))


class _Head(nn.Module):
    def __init__(self, cin, width):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1)
        self.conv2 = nn.Conv2d(width, 1, 1)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(x)))


class TomoGAN(nn.Module):
    """The generator with sira's state_dict names (stem, enc.i.conv1, ...)."""

    def __init__(self, cfg: Config = Config()):
        super().__init__()
        self.cfg = cfg
        self.stem = nn.Conv2d(cfg.slices, cfg.stem, 1)
        enc, c = [], cfg.stem
        for w in cfg.encoder:
            enc.append(_Block(c, w))
            c = w
        self.enc = nn.ModuleList(enc)
        self.bottleneck = nn.Conv2d(c, cfg.bottleneck, 3, padding=1)
        dec, c = [], cfg.bottleneck
        for i, w in enumerate(cfg.decoder):
            skip = cfg.encoder[cfg.levels - 1 - i]
            dec.append(_Block(skip + c, w, c if cfg.upsample == "transposed" else None))
            c = w
        self.dec = nn.ModuleList(dec)
        self.head = _Head(c, cfg.head)

    def _up(self, block, x):
        if self.cfg.upsample == "transposed":
            return block.up(x)
        if self.cfg.upsample == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x):
        inp = x
        x = F.relu(self.stem(x))
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = F.relu(self.bottleneck(x))
        for i, block in enumerate(self.dec):
            x = torch.cat([skips[-1 - i], self._up(block, x)], dim=1)
            x = block(x)
        y = self.head(x)
        if self.cfg.residual:
            c = self.cfg.slices // 2
            y = y + inp[:, c:c + 1]
        return y


# ---------------------------------------------------------------- file format

def _header_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds file size")
    return json.loads(raw[8:8 + n].decode("utf-8")), raw[8 + n:]


def read_header(path) -> dict:
    """The safetensors JSON header (tensors + '__metadata__')."""
    return _header_bytes(path)[0]


def read_sira(path):
    """-> (Config, Normalization, trained, info, {name: float32 torch.Tensor})."""
    header, data = _header_bytes(path)
    meta = header.pop("__metadata__")
    if meta.get("format") != "sira" or int(meta["format_version"]) > FORMAT_VERSION:
        raise ValueError(f"{path}: not a sira model of a known version")
    w = json.loads(meta["widths"])
    cfg = Config(int(meta["slices"]), w["stem"], list(w["encoder"]), w["bottleneck"],
                 list(w["decoder"]), w["head"], meta["upsample"], meta.get("residual") == "true")
    assert int(meta["levels"]) == cfg.levels
    n = json.loads(meta["normalization"])
    norm = Normalization(n["mode"], n["offset"], n["scale"], tuple(n["percentiles"]), int(n.get("block", 1)))
    info = {k[5:]: v for k, v in meta.items() if k.startswith("info.")}
    tensors = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {e['dtype']}")
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
        tensors[name] = torch.from_numpy(arr.astype(np.float32))
    return cfg, norm, meta["trained"] == "true", info, tensors


def load_module(path) -> Tuple[TomoGAN, Normalization, bool, dict]:
    cfg, norm, trained, info, tensors = read_sira(path)
    m = TomoGAN(cfg)
    m.load_state_dict(tensors, strict=True)
    return m.eval(), norm, trained, info


def write_sira(path, module: TomoGAN, norm: Normalization = Normalization(), trained=False,
               info: Optional[Dict[str, str]] = None):
    """Writes module's state_dict as a sira model (atomic: temp name + rename)."""
    cfg = module.cfg
    meta = {
        "format": "sira", "format_version": str(FORMAT_VERSION), "arch": "tomogan",
        "slices": str(cfg.slices), "levels": str(cfg.levels),
        "widths": json.dumps({"stem": cfg.stem, "encoder": cfg.encoder, "bottleneck": cfg.bottleneck,
                              "decoder": cfg.decoder, "head": cfg.head}),
        "upsample": cfg.upsample,
        "normalization": json.dumps({"mode": norm.mode, "offset": norm.offset, "scale": norm.scale,
                                     "percentiles": list(norm.percentiles), "block": norm.block}),
        "trained": "true" if trained else "false",
    }
    if cfg.residual:
        meta["residual"] = "true"
    for k, v in (info or {}).items():
        meta["info." + k] = str(v)
    header, chunks, offset = {"__metadata__": meta}, [], 0
    for name, t in module.state_dict().items():
        arr = t.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4")
        b = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
