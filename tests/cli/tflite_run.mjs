// Runs a .tflite model once in LiteRT (npm @litertjs/core, TFLite's runtime built
// to WebAssembly; CPU through its XNNPACK delegate and TFLite's builtin kernels)
// for tests/cli/test_tflite_export.py: float32 raw input in, each float32 output i
// to out.raw.i.
//   LITERT_MODULE=.../node_modules/@litertjs/core node tflite_run.mjs model.tflite in.raw d0,d1,.. out.raw
// LiteRT.js targets browsers: its loader adds a <script> tag, or calls importScripts
// in a worker. Under Node the worker path is taken with an importScripts that
// evaluates the Emscripten loader in this context.
import fs from "fs";
import path from "path";
import vm from "vm";
import { createRequire } from "module";

const moduleDir = process.env.LITERT_MODULE;
const wasmDir = path.join(moduleDir, "wasm");
globalThis.self = globalThis;
globalThis.require = createRequire(import.meta.url);
globalThis.__dirname = wasmDir;
globalThis.__filename = path.join(wasmDir, "loader.js");
globalThis.importScripts = (url) => {
  const file = url.toString().replace(/^file:\/\//, "");
  vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
};

async function main() {
  const [modelPath, inPath, dims, outPath] = process.argv.slice(2);
  const litert = await import(path.join(moduleDir, "dist", "index.js"));
  await litert.loadLiteRt(wasmDir + "/");
  const model = await litert.loadAndCompile(new Uint8Array(fs.readFileSync(modelPath)), { accelerator: "wasm" });
  const buf = fs.readFileSync(inPath);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const input = new litert.Tensor(x, dims.split(",").map(Number));
  const outputs = await model.run(input);
  outputs.forEach((t, i) => {
    const y = t.toTypedArray();
    fs.writeFileSync(`${outPath}.${i}`, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  });
}

main().catch((e) => {
  console.error(`tflite_run: ${e.stack || e}`);
  process.exit(1);
});
