"""sira vs PyTorch (and ONNX Runtime when available) on the same random-weight
TomoGAN, in one invocation, alternating runs. Prints a table of medians, ratios
(sira / peer: below 1 means sira is faster) and peak RSS.

  bench/compare_peers [BUILD] [--sizes 512,1024] [--threads 1,2] [--precisions fp32,bf16,int8]
                      [--runs 5] [--rounds 2] [--quick] [--slices 3] [--ort auto|off]
                      [--torch-bf16 auto|on|off] [--json-out results.json]

Each (size, threads, precision) is measured in `rounds` rounds; a round runs
`sira bench --json` and the peer each in a fresh process (warm-up + `runs`
timed runs), the order flipping every round so neither side always runs on the
warmer or quieter machine. The median is over all timed runs of all rounds,
peak RSS the largest of the rounds (each process's own, as reported by wait4).

Model: `sira init --seed 1` (published widths); PyTorch loads the same file
with tests/oracle/sira_torch.py; ONNX Runtime gets it exported by PyTorch.
PyTorch settings: bench/peer_torch.py. ONNX Runtime: npm onnxruntime-node,
installed offline into ~/.cache/sira-ort (ONNXRUNTIME_NODE_INSTALL=skip), fp32.

On a CPU without AVX512_BF16/AMX, bf16 has no fast path in either runtime
(sira: the ref backend's emulation; PyTorch: oneDNN's reference kernels, ~30x
slower than fp32 here), so it is left out of the default precisions, and
--torch-bf16 auto skips PyTorch bf16 even when asked for.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"
ORT_DIR = os.path.join(os.path.expanduser("~"), ".cache", "sira-ort")
ORT_MODULE = os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")


def int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': expected comma-separated integers")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': expected positive integers")
    return values


def word_list(allowed):
    def parse(text):
        words = [w for w in text.split(",") if w]
        bad = [w for w in words if w not in allowed]
        if not words or bad:
            raise argparse.ArgumentTypeError(f"'{text}': expected some of {','.join(allowed)}")
        return words
    return parse


def run_process(cmd, env=None, timeout=None):
    """-> (returncode, stdout, stderr, peak RSS in MB of that process, from wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode < 0 and timeout:
        stderr += f"\nkilled (signal {-proc.returncode}; the limit is {timeout:.0f} s per process)"
    return proc.returncode, stdout, stderr, usage.ru_maxrss / 1024.0  # ru_maxrss is in kB


def measure(cmd, env=None, timeout=None):
    """Runs one benchmark process; -> its JSON (times_ms, ...) with peak_rss_mb from
    wait4, or {'error': ...}."""
    code, out, err, rss = run_process(cmd, env, timeout)
    if code != 0:
        lines = [l for l in (err or out).strip().splitlines() if l.strip()]
        return {"error": lines[-1] if lines else f"exit code {code}"}
    try:
        result = json.loads(out[out.index("{"):])
    except ValueError:
        return {"error": f"unreadable output: {out[:200]!r}"}
    result["self_reported_rss_mb"] = result.get("peak_rss_mb")
    result["peak_rss_mb"] = rss
    return result


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def ensure_ort(mode):
    """-> path of the onnxruntime-node package, or None (with the reason printed)."""
    if mode == "off":
        return None
    if not shutil.which("node"):
        print("ONNX Runtime: skipped (no node)")
        return None
    if not os.path.isdir(ORT_MODULE) and shutil.which("npm"):
        os.makedirs(ORT_DIR, exist_ok=True)
        env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
        try:
            subprocess.run(["npm", "install", "--prefix", ORT_DIR, "onnxruntime-node"], env=env,
                           capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pass
    if not os.path.isdir(ORT_MODULE):
        print("ONNX Runtime: skipped (npm onnxruntime-node could not be installed offline)")
        return None
    return ORT_MODULE


def export_onnx(model, path):
    code = (
        "import sys, torch; sys.path.insert(0, sys.argv[3]); import sira_torch\n"
        "m, _, _, _ = sira_torch.load_module(sys.argv[1])\n"
        "x = torch.rand(1, m.cfg.slices, 64, 64)\n"
        "torch.onnx.export(m, x, sys.argv[2], input_names=['x'], output_names=['y'], opset_version=13,\n"
        "                  dynamic_axes={'x': {2: 'h', 3: 'w'}, 'y': {2: 'h', 3: 'w'}})\n")
    r = subprocess.run([PYTHON, "-c", code, model, path, os.path.join(ROOT, "tests", "oracle")],
                       capture_output=True, text=True)
    return r.returncode == 0


def fmt_ms(r):
    return f"{r['median']:.0f}" if r and "median" in r else "n/a"


def summarise(samples):
    """Rounds of one runtime -> {'median', 'rss', ...} or {'error'}."""
    ok = [s for s in samples if "error" not in s]
    if not ok:
        return {"error": samples[0]["error"] if samples else "not run"}
    times = [t for s in ok for t in s["times_ms"]]
    out = {"median": statistics.median(times), "min": min(times), "max": max(times),
           "rss": max(s.get("peak_rss_mb", 0.0) for s in ok), "runs": len(times)}
    if "fraction_of_peak" in ok[0] and ok[0]["fraction_of_peak"] is not None:
        gmac = ok[0]["gmac"]
        threads = ok[0]["threads"]
        per_core = ok[0]["peak"]["gmac_per_s_per_core"]
        out["fraction"] = gmac / (out["median"] / 1e3) / (per_core * threads)
        out["floor"] = ok[0]["peak"]["floor_ms"]
    if "backend" in ok[0]:
        out["backend"] = ok[0]["backend"]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"), help="build folder with the sira binary")
    p.add_argument("--sizes", type=int_list, default=[512, 1024])
    p.add_argument("--threads", type=int_list, default=[1, 2])
    p.add_argument("--precisions", type=word_list(["fp32", "bf16", "int8"]),
                   help="default fp32,bf16,int8 on CPUs with native bf16, else fp32,int8")
    p.add_argument("--runs", type=int, default=5, help="timed runs per process (after one warm-up)")
    p.add_argument("--rounds", type=int, default=2, help="alternating sira/peer rounds per configuration")
    p.add_argument("--quick", action="store_true", help="3 runs, 1 round (about 5 minutes on 2 cores)")
    p.add_argument("--slices", type=int, choices=[1, 3], default=3)
    p.add_argument("--ort", choices=["auto", "off"], default="auto", help="include ONNX Runtime (fp32) if reachable")
    p.add_argument("--torch-bf16", choices=["auto", "on", "off"], default="auto",
                   help="auto: only on CPUs with native bf16 (AVX512_BF16 or AMX)")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per benchmark process")
    p.add_argument("--json-out", help="also write every measurement to this JSON file")
    a = p.parse_args()
    if a.quick:
        a.runs, a.rounds = 3, 1
    if a.runs < 1 or a.rounds < 1:
        p.error("--runs and --rounds must be positive")

    sira = os.path.join(a.build, "sira")
    if not os.access(sira, os.X_OK):
        sys.exit(f"compare_peers: {sira} not found; build first (make build, or pass the build folder)")
    flags = cpu_flags()
    native_bf16 = bool(flags & {"avx512_bf16", "amx_bf16"})
    torch_bf16 = a.torch_bf16 == "on" or (a.torch_bf16 == "auto" and native_bf16)
    if a.precisions is None:
        a.precisions = ["fp32", "bf16", "int8"] if native_bf16 else ["fp32", "int8"]
        if not native_bf16:
            print("bf16: skipped (no AVX512_BF16/AMX: sira would run its reference emulation and PyTorch "
                  "oneDNN's reference path; --precisions fp32,bf16,int8 forces it)")

    with tempfile.TemporaryDirectory(prefix="sira_peers_") as tmp:
        model = os.path.join(tmp, "tomogan.sira")
        r = subprocess.run([sira, "init", "-q", "-o", model, "--slices", str(a.slices), "--seed", "1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"compare_peers: sira init failed: {r.stderr.strip()}")
        ort = ensure_ort(a.ort)
        onnx = os.path.join(tmp, "tomogan.onnx")
        if ort and not export_onnx(model, onnx):
            print("ONNX Runtime: skipped (torch.onnx.export failed)")
            ort = None

        peak = measure([sira, "bench", "-q", "--peak", "--json", "--size", str(max(a.sizes)), "--threads", "1"])
        load_before = os.getloadavg()
        started = time.time()
        print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; load average at start "
              f"{load_before[0]:.1f} (other jobs share these cores: figures are upper bounds)")
        if "peaks" in peak:
            print("measured peak per core: " + "; ".join(
                f"{p['precision']} {p['gmac_per_s_per_core']:.1f} GMAC/s ({p['instruction']})" if p["available"]
                else f"{p['precision']} {p['instruction']}" for p in peak["peaks"]))
        print(f"model: random-weight TomoGAN, {a.slices} slice(s), published widths; "
              f"{a.runs} timed runs x {a.rounds} round(s) per runtime and configuration\n", flush=True)

        rows = []
        for size in a.sizes:
            for threads in a.threads:
                for precision in a.precisions:
                    runners = {
                        "sira": ([sira, "bench", "-q", "-m", model, "--size", str(size), "--threads", str(threads),
                                  "--precision", precision, "--runs", str(a.runs), "--json"], None),
                    }
                    if precision != "bf16" or torch_bf16:
                        runners["torch"] = ([PYTHON, os.path.join(HERE, "peer_torch.py"), "-m", model, "--size",
                                             str(size), "--threads", str(threads), "--precision", precision,
                                             "--runs", str(a.runs)], None)
                    if ort and precision == "fp32":
                        runners["ort"] = (["node", os.path.join(HERE, "peer_ort.js"), onnx, str(size), str(threads),
                                           str(a.runs), "1", str(a.slices)],
                                          dict(os.environ, ORT_NODE_MODULE=ort, OMP_NUM_THREADS=str(threads)))
                    samples = {name: [] for name in runners}
                    names = list(runners)
                    for rnd in range(a.rounds):
                        order = names if rnd % 2 == 0 else names[::-1]
                        for name in order:
                            cmd, env = runners[name]
                            samples[name].append(measure(cmd, env, a.timeout))
                    row = {"size": size, "threads": threads, "precision": precision,
                           "raw": samples, **{n: summarise(s) for n, s in samples.items()}}
                    if precision == "bf16" and "torch" not in runners:
                        row["torch"] = {"error": "skipped: no native bf16 on this CPU (--torch-bf16 on to force)"}
                    rows.append(row)
                    print_row(row, header=len(rows) == 1)

        print("\nms: median of all timed runs; sira/torch < 1: sira faster; %peak: sira's GMAC/s over threads x the\n"
              "per-core peak of that precision; floor: the MACs at that peak; RSS: each process's peak (wait4);\n"
              "ONNX Runtime runs fp32 only.")
        load_after = os.getloadavg()
        print(f"\n{time.time() - started:.0f} s; load average at end {load_after[0]:.1f}")
        notes = sorted({f"{n}: {row[n]['error']}" for row in rows for n in ("sira", "torch", "ort")
                        if n in row and "error" in row[n]})
        if notes:
            print("not measured:")
            for n in notes:
                print(f"  {n}")
        if a.json_out:
            with open(a.json_out, "w") as f:
                json.dump({"machine": cpu_model(), "load_start": load_before, "load_end": load_after,
                           "runs": a.runs, "rounds": a.rounds, "rows": rows}, f, indent=1)


def ratio(a, b):
    return f"{a['median'] / b['median']:.2f}" if "median" in a and "median" in b else "-"


def print_row(row, header):
    if header:
        print(f"{'size':>5} {'thr':>3} {'prec':>5} | {'sira ms':>8} {'%peak':>5} {'floor':>6} | "
              f"{'torch ms':>8} {'sira/torch':>10} | {'ort ms':>7} {'sira/ort':>8} | "
              f"{'RSS MB sira':>11} {'torch':>6} {'ort':>6}")
    s, t, o = row["sira"], row.get("torch", {}), row.get("ort", {})
    pct = f"{100 * s['fraction']:.0f}" if "fraction" in s else "-"
    floor = f"{s['floor']:.0f}" if "floor" in s else "-"
    rss = lambda r: f"{r['rss']:.0f}" if "rss" in r else "-"  # noqa: E731
    print(f"{row['size']:>5} {row['threads']:>3} {row['precision']:>5} | {fmt_ms(s):>8} {pct:>5} {floor:>6} | "
          f"{fmt_ms(t):>8} {ratio(s, t):>10} | {fmt_ms(o):>7} {ratio(s, o):>8} | "
          f"{rss(s):>11} {rss(t):>6} {rss(o):>6}", flush=True)


if __name__ == "__main__":
    main()
