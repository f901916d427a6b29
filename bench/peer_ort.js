// ONNX Runtime (npm onnxruntime-node, its bundled CPU library) timing one
// exported model on one image, for bench/compare_peers. Prints JSON.
//
//   ORT_NODE_MODULE=/path/node_modules/onnxruntime-node \
//     node bench/peer_ort.js model.onnx SIZE THREADS RUNS [WARMUP] [SLICES]
//
// Settings: all graph optimisations, intra-op threads = THREADS, sequential
// execution (one inter-op thread). fp32 only.
const fs = require("fs");

async function main() {
  const [modelPath, sizeText, threadsText, runsText, warmupText = "1", slicesText = "3"] =
    process.argv.slice(2);
  if (!modelPath || !sizeText || !threadsText || !runsText) {
    console.error("usage: node peer_ort.js model.onnx SIZE THREADS RUNS [WARMUP] [SLICES]");
    process.exit(2);
  }
  const ort = require(process.env.ORT_NODE_MODULE || "onnxruntime-node");
  const size = Number(sizeText), threads = Number(threadsText), runs = Number(runsText);
  const warmup = Number(warmupText), slices = Number(slicesText);
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  // Deterministic input in [0, 1) (a small LCG: no dependency on Math.random).
  const data = new Float32Array(slices * size * size);
  let state = 7;
  for (let i = 0; i < data.length; ++i) {
    state = (state * 1103515245 + 12345) % 2147483648;
    data[i] = state / 2147483648;
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, [1, slices, size, size]) };
  const warm = [], times = [];
  for (let i = 0; i < warmup + runs; ++i) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    (i < warmup ? warm : times).push(ms);
  }
  const s = [...times].sort((a, b) => a - b);
  const n = s.length;
  let rssKb = 0;
  const status = fs.readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/);
  if (status) rssKb = Number(status[1]);
  console.log(JSON.stringify({
    runtime: `ONNX Runtime ${ort.env.versions ? ort.env.versions.common : ""}`,
    settings: "onnxruntime-node CPU, graph optimisation all, sequential",
    precision: "fp32", size: [size, size], threads, warmup_ms: warm, times_ms: times,
    median_ms: n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]),
    min_ms: s[0], max_ms: s[n - 1], peak_rss_mb: rssKb / 1024,
  }));
}

main().catch((e) => {
  console.error(`peer_ort: ${e.message || e}`);
  process.exit(1);
});
