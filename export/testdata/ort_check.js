// Runs nadir-exported ONNX models in ONNX Runtime (onnxruntime-node).
// Usage: node ort_check.js MANIFEST.json
// The manifest lists cases {model, input, shape, output}: input is raw
// little-endian float32 of the given shape (batch first); the first graph
// output ("logits" unless renamed) is written to output as raw float32.
// The Go test compares it with nadir's forward pass.
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const c of cases) {
    const session = await ort.InferenceSession.create(c.model, { graphOptimizationLevel: "disabled" });
    const buf = fs.readFileSync(c.input);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const feeds = {};
    feeds[session.inputNames[0]] = new ort.Tensor("float32", data, c.shape);
    const out = await session.run(feeds);
    const y = out[session.outputNames[0]];
    fs.writeFileSync(c.output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  }
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
