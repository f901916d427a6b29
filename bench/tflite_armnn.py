"""A second TFLite runtime for `sira export --format tflite` (docs/tflite.md): Arm NN
20.08's TfLiteParser on its CpuRef backend (Debian python3-pyarmnn,
libarmnn-cpuref-backend22), against sira int8, as tests/cli/test_tflite_export.py
compares LiteRT. Not a test: CpuRef takes about a minute for one 64x64 tile.

    SIRA=build/sira /usr/bin/python3 bench/tflite_armnn.py [TILE]
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "cli"))
os.environ.setdefault("SIRA", os.path.join(ROOT, "build", "sira"))
import test_tflite_export as t  # noqa: E402  (its seeded inputs, sira runs and file reader)


def armnn_run(path, x_nhwc):
    import pyarmnn as ann
    parser = ann.ITfLiteParser()
    net = parser.CreateNetworkFromBinaryFile(path)
    inp = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
    out = parser.GetNetworkOutputBindingInfo(0, parser.GetSubgraphOutputTensorNames(0)[0])
    runtime = ann.IRuntime(ann.CreationOptions())
    optimised, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(optimised)
    outputs = ann.make_output_tensors([out])
    runtime.EnqueueWorkload(net_id, ann.make_input_tensors([inp], [np.ascontiguousarray(x_nhwc, dtype=np.float32)]), outputs)
    return ann.workload_tensors_to_ndarray(outputs)[0]


def main():
    tile = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    print("| model | network output grid | runtime | pixels equal | within 1 LSB | max | seconds |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for slices in (1, 3):
            model = os.path.join(ROOT, "models", f"tomogan-{slices}slice-int8.sira")
            for rng in (None, "-1,1"):
                path = os.path.join(tmp, "m.tflite")
                subprocess.run([t.SIRA, "export", "-m", model, "-o", path, "--tile", str(tile)]
                               + (["--output-range", rng] if rng else []), check=True, capture_output=True)
                net = [x for x in t.as_json(path, tmp)["subgraphs"][0]["tensors"] if x["name"] == "head.conv2"][0]
                s, zp = net["quantization"]["scale"][0], net["quantization"]["zero_point"][0]
                x = t.seeded_stack(slices, 21, (tile, tile))
                xin, centre = t.network_input(x, slices)
                want = t.sira_int8(model, x, tmp)[1 if slices == 3 else 0]
                want_codes = np.clip(np.rint((want - centre) / s) + zp, -128, 127)
                for name, runner in (("Arm NN CpuRef", lambda: armnn_run(path, xin)),
                                     ("LiteRT", lambda: t.litert_run(path, xin, tmp)[0])):
                    start = time.time()
                    got = runner().reshape(tile, tile)
                    seconds = time.time() - start
                    d = np.abs(np.rint((got - centre) / s) + zp - want_codes)
                    print(f"| tomogan-{slices}slice-int8 | {rng or 'default'} (step {s:.4g}) | {name} | "
                          f"{100 * np.mean(d == 0):.2f} % | {100 * np.mean(d <= 1):.2f} % | {d.max():.0f} | {seconds:.1f} |",
                          flush=True)


if __name__ == "__main__":
    main()
