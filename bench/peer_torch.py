"""PyTorch (Debian 1.13 at /usr/bin/python3) timing one sira model on one
image, at its best settings on a CPU, for bench/compare_peers. Prints JSON.

  /usr/bin/python3 bench/peer_torch.py -m model.sira --size 1024 --threads 2 \
      --precision fp32|bf16|int8 [--runs 5] [--warmup 1] [--fp32-mode optimized]

Settings (see ../shared/DESIGN.md, pitfalls):
- glibc malloc tuned (GLIBC_TUNABLES below; the script re-executes itself with
  it when unset): with the default malloc a 1024^2 run spends much of its time
  in page faults.
- torch.set_num_threads(threads): Debian's build starts with 1 thread.
- fp32: channels_last, traced and passed through torch.jit.optimize_for_inference
  (freeze + oneDNN conv folding; the fastest of eager / frozen / optimized here).
- bf16: torch.autocast("cpu", bfloat16) on the channels_last module.
- int8: post-training static quantisation (conv+ReLU fused) on the first quantised
  engine of onednn / x86 / fbgemm this build has, calibrated on the benchmark input
  itself, in two forms: eager mode on channels_last tensors (QuantStub, fused
  ConvReLU2d, FloatFunctional cat/add: the faster here, 753-882 ms at 1024², 2 threads
  on a Zen 3) and FX graph mode on NCHW (1104 ms there). `--int8-mode best` (the
  default) times both and reports the faster, with the other's median beside it.
"""
import argparse
import json
import os
import resource
import sys
import time

TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"
if os.environ.get("GLIBC_TUNABLES") != TUNABLES:
    os.environ["GLIBC_TUNABLES"] = TUNABLES
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))
import sira_torch  # noqa: E402


def quantised_engine():
    for name in ("onednn", "x86", "fbgemm"):
        if name in torch.backends.quantized.supported_engines:
            return name
    return None


class EagerInt8TomoGAN(torch.nn.Module):
    """The TomoGAN of sira_torch rebuilt for eager-mode static quantisation: the
    same weights, Conv+ReLU pairs as fused modules, concatenation and the
    residual addition through FloatFunctional so that their scales are observed."""

    def __init__(self, m):
        super().__init__()
        from torch.ao.nn.intrinsic import ConvReLU2d
        from torch.ao.quantization import DeQuantStub, QuantStub
        from torch.nn import ModuleList, ReLU, Sequential
        from torch.nn.quantized import FloatFunctional
        if m.cfg.upsample == "transposed":
            raise RuntimeError("eager int8: transposed upsampling is not quantised here (use --int8-mode fx)")
        self.cfg = m.cfg
        pair = lambda block: Sequential(ConvReLU2d(block.conv1, ReLU()), ConvReLU2d(block.conv2, ReLU()))
        self.quant, self.dequant = QuantStub(), DeQuantStub()
        self.stem = ConvReLU2d(m.stem, ReLU())
        self.enc = ModuleList(pair(b) for b in m.enc)
        self.bottleneck = ConvReLU2d(m.bottleneck, ReLU())
        self.dec = ModuleList(pair(b) for b in m.dec)
        self.cat = ModuleList(FloatFunctional() for _ in m.dec)
        self.head1, self.head2 = ConvReLU2d(m.head.conv1, ReLU()), m.head.conv2
        if m.cfg.residual:
            self.add = FloatFunctional()

    def forward(self, x):
        import torch.nn.functional as F
        q = self.quant(x)
        x = self.stem(q)
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        mode = "nearest" if self.cfg.upsample == "nearest" else "bilinear"
        for i, block in enumerate(self.dec):
            up = F.interpolate(x, scale_factor=2, mode=mode, align_corners=None if mode == "nearest" else False)
            x = block(self.cat[i].cat([skips[-1 - i], up], dim=1))
        y = self.head2(self.head1(x))
        if self.cfg.residual:
            c = self.cfg.slices // 2
            y = self.add.add(y, q[:, c:c + 1])
        return self.dequant(y)


def build_int8(module, x, mode):
    """-> (callable, input, description) for int8 in `mode` eager | fx."""
    engine = quantised_engine()
    if engine is None:
        raise RuntimeError("this PyTorch has no x86 quantised engine (onednn, x86 or fbgemm)")
    torch.backends.quantized.engine = engine
    if mode == "eager":
        from torch.ao.quantization import convert, get_default_qconfig, prepare
        xc = x.contiguous(memory_format=torch.channels_last)
        m = EagerInt8TomoGAN(module).eval().to(memory_format=torch.channels_last)
        m.qconfig = get_default_qconfig(engine)
        prepare(m, inplace=True)
        m(xc)  # calibration
        convert(m, inplace=True)
        return m, xc, f"eager static int8, qengine {engine}, channels_last"
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    prepared = prepare_fx(module, get_default_qconfig_mapping(engine), example_inputs=(x,))
    prepared(x)  # calibration
    return convert_fx(prepared), x, f"FX static int8, qengine {engine}, NCHW"


def timed(fn, inp, warmup, runs):
    """-> (warm-up times, timed runs) in ms"""
    before, times = [], []
    for i in range(warmup + runs):
        start = time.perf_counter()
        fn(inp)
        (before if i < warmup else times).append(1e3 * (time.perf_counter() - start))
    return before, times


def median(v):
    s, n = sorted(v), len(v)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def build(module, x, precision, fp32_mode):
    """-> (callable, input, description)"""
    if precision == "int8":
        return build_int8(module, x, "fx")
    xc = x.contiguous(memory_format=torch.channels_last)
    mc = module.to(memory_format=torch.channels_last)
    if precision == "bf16":
        def run(inp):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return mc(inp)
        return run, xc, "autocast cpu bfloat16, channels_last"
    if fp32_mode == "eager":
        return mc, xc, "eager, channels_last"
    traced = torch.jit.trace(mc, xc)
    if fp32_mode == "frozen":
        return torch.jit.freeze(traced), xc, "jit.freeze, channels_last"
    return torch.jit.optimize_for_inference(traced), xc, "jit.optimize_for_inference, channels_last"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--model", required=True, help="sira model file (read with tests/oracle/sira_torch.py)")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--fp32-mode", choices=["eager", "frozen", "optimized"], default="optimized")
    p.add_argument("--int8-mode", choices=["best", "eager", "fx"], default="best",
                   help="eager (channels_last), fx (NCHW), or best: time both, report the faster")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    module, _, _, _ = sira_torch.load_module(a.model)
    x = torch.rand(1, module.cfg.slices, a.size, a.size, generator=torch.Generator().manual_seed(7))
    others = {}
    with torch.no_grad():
        if a.precision == "int8":
            modes = ["eager", "fx"] if a.int8_mode == "best" else [a.int8_mode]
            results = []
            for mode in modes:
                fn, inp, how = build_int8(module, x, mode)
                results.append((how, *timed(fn, inp, a.warmup, a.runs)))
                del fn
            results.sort(key=lambda r: median(r[2]))
            how, warmup, times = results[0]
            others = {r[0]: median(r[2]) for r in results[1:]}
        else:
            fn, inp, how = build(module, x, a.precision, a.fp32_mode)
            warmup, times = timed(fn, inp, a.warmup, a.runs)
    s = sorted(times)
    print(json.dumps({
        "runtime": f"PyTorch {torch.__version__}", "settings": how, "precision": a.precision,
        "size": [a.size, a.size], "threads": torch.get_num_threads(), "warmup_ms": warmup, "times_ms": times,
        "median_ms": median(times), "min_ms": s[0], "max_ms": s[-1],
        "slower_settings_median_ms": others,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
