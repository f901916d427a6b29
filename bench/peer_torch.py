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
- int8: FX graph-mode post-training static quantisation (conv+ReLU fused) with
  the first quantised engine of onednn / x86 / fbgemm this build has,
  calibrated on the benchmark input itself.
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


def build(module, x, precision, fp32_mode):
    """-> (callable, input, description)"""
    if precision == "int8":
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
        engine = quantised_engine()
        if engine is None:
            raise RuntimeError("this PyTorch has no x86 quantised engine (onednn, x86 or fbgemm)")
        torch.backends.quantized.engine = engine
        prepared = prepare_fx(module, get_default_qconfig_mapping(engine), example_inputs=(x,))
        prepared(x)  # calibration
        return convert_fx(prepared), x, f"FX static int8, qengine {engine}, NCHW"
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
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    module, _, _, _ = sira_torch.load_module(a.model)
    x = torch.rand(1, module.cfg.slices, a.size, a.size, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        fn, inp, how = build(module, x, a.precision, a.fp32_mode)
        warmup, times = [], []
        for i in range(a.warmup + a.runs):
            start = time.perf_counter()
            fn(inp)
            (warmup if i < a.warmup else times).append(1e3 * (time.perf_counter() - start))
    s = sorted(times)
    n = len(s)
    print(json.dumps({
        "runtime": f"PyTorch {torch.__version__}", "settings": how, "precision": a.precision,
        "size": [a.size, a.size], "threads": torch.get_num_threads(), "warmup_ms": warmup, "times_ms": times,
        "median_ms": s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2]),
        "min_ms": s[0], "max_ms": s[-1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
