"""`sira bench` from the command line: the JSON has every field and its MAC
count matches a count made here from the PyTorch module's own layers; --peak
prints positive rates with consistent floors; bad arguments fail cleanly.
No timing is asserted (speed is reported by benchmarks, not tested)."""
import json
import os
import sys
import tempfile

import torch.nn as nn

sys.path.insert(0, os.path.join(os.environ["SIRA_SOURCE_DIR"], "tests", "oracle"))
import sira_torch  # noqa: E402

from sira_cli import SIRA, ok, run as sira  # noqa: E402


def fails(args, message):
    r = sira(*args)
    assert r.returncode != 0, f"{args}: exit 0"
    assert message in r.stderr, f"{args}: {r.stderr!r}"
    assert "Traceback" not in r.stderr and "terminate" not in r.stderr


def macs_oracle(slices, h, w):
    """MACs of the PyTorch TomoGAN at h x w padded to a multiple of 8, counted by
    running it with hooks: each conv output pixel costs Cin*k*k per channel."""
    import torch
    m = sira_torch.TomoGAN(sira_torch.Config(slices=slices)).eval()
    total = [0]

    def hook(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total[0] += out.shape[1] * out.shape[2] * out.shape[3] * mod.in_channels * k

    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(hook)
    ph, pw = -(-h // 8) * 8, -(-w // 8) * 8
    with torch.no_grad():
        m(torch.zeros(1, slices, ph, pw))
    return total[0]


FIELDS = ["model", "network", "slices", "size", "precision", "backend", "threads", "tile", "tile_halo", "runs",
          "warmup_ms", "times_ms", "median_ms", "min_ms", "max_ms", "median_cpu_ms", "gmac", "gmac_per_s",
          "megapixels_per_s", "peak_rss_mb", "peak", "fraction_of_peak"]


def check_report(j, slices, h, w, runs, threads):
    missing = [f for f in FIELDS if f not in j]
    assert not missing, f"missing fields {missing}"
    assert j["slices"] == slices and j["size"] == [h, w] and j["runs"] == runs and j["threads"] == threads
    assert len(j["times_ms"]) == runs and len(j["warmup_ms"]) == 1
    assert j["min_ms"] <= j["median_ms"] <= j["max_ms"] and j["min_ms"] > 0
    assert abs(j["gmac"] * 1e9 - macs_oracle(slices, h, w)) < 1e-6 * j["gmac"] * 1e9, j["gmac"]
    expected_rate = j["gmac"] / (j["median_ms"] / 1e3)
    assert abs(j["gmac_per_s"] - expected_rate) < 1e-6 * expected_rate
    assert abs(j["megapixels_per_s"] - h * w / 1e6 / (j["median_ms"] / 1e3)) < 1e-6 * j["megapixels_per_s"]
    assert 1.0 < j["peak_rss_mb"] < 4096, j["peak_rss_mb"]
    p = j["peak"]
    assert p["precision"] == j["precision"] and p["instruction"]
    if p["available"]:
        fraction = j["gmac_per_s"] / (p["gmac_per_s_per_core"] * threads)
        assert abs(j["fraction_of_peak"] - fraction) < 1e-6 * fraction
        assert abs(p["floor_ms"] - 1e3 * j["gmac"] / (p["gmac_per_s_per_core"] * threads)) < 1e-6 * p["floor_ms"]


def main():
    # Random-weight model, 3 slices, square size.
    j = json.loads(ok("bench", "-q", "--size", "64", "--runs", "3", "--threads", "1", "--json").stdout)
    check_report(j, 3, 64, 64, 3, 1)
    assert j["model"] is None and j["precision"] == "fp32" and j["tile"] == 0
    assert j["peak"]["instruction"].startswith("vfmadd231ps") or not j["peak"]["available"]

    # 1 slice, HxW not a multiple of 8 (MACs counted at the padded size), tiled.
    j = json.loads(ok("bench", "-q", "--slices", "1", "--size", "44x70", "--tile", "32", "--runs", "2",
                      "--threads", "2", "--json").stdout)
    check_report(j, 1, 44, 70, 2, 2)
    assert j["tile"] == 32 and j["tile_halo"] == 56

    # A model file.
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "m.sira")
        ok("init", "-q", "-o", model, "--slices", "1", "--seed", "3")
        j = json.loads(ok("bench", "-m", model, "--size", "32", "--runs", "1", "--threads", "1", "--json").stdout)
        check_report(j, 1, 32, 32, 1, 1)
        assert j["model"] == model
        fails(["bench", "-m", model, "--slices", "3"], "excludes")

    # The text report names the figures.
    out = ok("bench", "--size", "32", "--runs", "1", "--threads", "1").stdout
    assert "median" in out and "GMAC/s" in out and "peak RSS" in out, out

    # bf16 / int8: either a report, or a clear refusal from the engine.
    for precision in ("bf16", "int8"):
        r = sira("bench", "--size", "32", "--runs", "1", "--threads", "1", "--precision", precision, "--json")
        if r.returncode == 0:
            j = json.loads(r.stdout)
            assert j["precision"] == precision and j["peak"]["precision"] == precision
        else:
            assert "the engine refused --precision " + precision in r.stderr, r.stderr

    # --peak: positive per-core rates, floors consistent with them.
    pk = json.loads(ok("bench", "--peak", "--size", "1024", "--threads", "2", "--json").stdout)
    assert pk["threads"] == 2 and pk["size"] == [1024, 1024]
    # MACs scale exactly with the pixel count at multiples of 8: 1024^2 = 256 x 64^2.
    assert abs(pk["gmac"] * 1e9 - 256 * macs_oracle(3, 64, 64)) < 1e-6 * pk["gmac"] * 1e9
    assert abs(pk["gmac"] - 97.2) < 0.05, pk["gmac"]  # the published figure
    # The host's flags describe the binary's CPU only when it runs natively on x86-64 (not under qemu).
    native_x86 = os.uname().machine == "x86_64" and "sira-emulated" not in SIRA
    flags = open("/proc/cpuinfo").read() if native_x86 and os.path.exists("/proc/cpuinfo") else ""
    names = [p["precision"] for p in pk["peaks"]]
    fp32 = [p["instruction"] for p in pk["peaks"] if p["precision"] == "fp32"]
    if " avx512f " in flags:  # also the 256-bit peak, the x86-64-v3 kernels'
        assert sorted(names) == ["bf16", "fp32", "fp32", "int8"], names
        assert fp32 == ["vfmadd231ps zmm", "vfmadd231ps ymm"], fp32
    else:
        assert sorted(names) == ["bf16", "fp32", "int8"], names
    for p in pk["peaks"]:
        assert p["instruction"], p
        if p["available"]:
            assert p["gmac_per_s_per_core"] > 0 and abs(p["gops_per_core"] - 2 * p["gmac_per_s_per_core"]) < 1e-9
            assert abs(p["floor_ms"] - 1e3 * pk["gmac"] / (2 * p["gmac_per_s_per_core"])) < 1e-6 * p["floor_ms"]
        else:
            assert "not available" in p["instruction"], p
    if " avx2 " in flags and " fma " in flags:
        assert all(p["available"] for p in pk["peaks"] if p["precision"] in ("fp32", "int8")), pk
    if " avx512_bf16 " not in flags:
        assert not [p for p in pk["peaks"] if p["precision"] == "bf16"][0]["available"]
    text = ok("bench", "--peak", "--threads", "1").stdout
    assert "fp32" in text and "floor ms" in text, text

    # The ref backend's x86-64-v3 conv kernel, forced, is measured against the 256-bit peak.
    if " avx2 " in flags and " fma " in flags:
        os.environ["SIRA_FP32_CONV_KERNEL"] = "x86-64-v3"
        try:
            j = json.loads(ok("bench", "--backend", "ref", "--size", "64", "--runs", "1", "--threads", "1",
                              "--json").stdout)
        finally:
            del os.environ["SIRA_FP32_CONV_KERNEL"]
        assert j["conv_kernel"] == "x86-64-v3" and j["peak"]["instruction"] == "vfmadd231ps ymm", j["peak"]

    # Bad arguments exit non-zero with a message.
    fails(["bench", "--size", "0"], "--size")
    fails(["bench", "--size", "12x"], "--size")
    fails(["bench", "--size", "abc"], "--size")
    fails(["bench", "--runs", "0"], "--runs")
    fails(["bench", "--precision", "fp16"], "--precision")
    fails(["bench", "--slices", "2"], "--slices")
    fails(["bench", "--backend", "gpu"], "--backend")
    fails(["bench", "--threads", "-1"], "--threads")
    fails(["bench", "-m", "/nonexistent/model.sira"], "/nonexistent/model.sira")
    fails(["bench", "--size", "4", "--runs", "1"], "smaller than the minimum")
    print("ok")


if __name__ == "__main__":
    main()
