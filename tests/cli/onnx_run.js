// Runs an ONNX model once in ONNX Runtime (npm onnxruntime-node) for
// tests/cli/test_onnx_export.py: float32 raw input N x C x H x W in, raw output out.
//   ORT_NODE_MODULE=... node onnx_run.js model.onnx in.raw N C H W out.raw [optimisation level]
// The level (default "disabled": ORT's kernels as the graph states them) may be
// basic, extended or all (ORT's default, fusing QDQ patterns into int8 kernels).
const fs = require("fs");

async function main() {
  const [model, inPath, n, c, h, w, outPath, level] = process.argv.slice(2);
  const ort = require(process.env.ORT_NODE_MODULE || "onnxruntime-node");
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: level || "disabled" });
  const buf = fs.readFileSync(inPath);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const dims = [n, c, h, w].map(Number);
  const result = await session.run({ x: new ort.Tensor("float32", data, dims) });
  const y = result[session.outputNames[0]];
  fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
}

main().catch((e) => {
  console.error(`onnx_run: ${e.message || e}`);
  process.exit(1);
});
