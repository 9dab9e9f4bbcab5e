// Runs nadir-exported ONNX models in ONNX Runtime (onnxruntime-node).
// Usage: node ort_check.js MANIFEST.json
// The manifest lists cases {model, input, shape, output}: input is raw
// little-endian float32 of the given shape (batch first) fed to the graph's
// first input; the first graph output ("logits" unless renamed) is written
// to output as raw float32. A case may instead list "inputs" ({name, file,
// shape} each) and set "all" to write every output, concatenated in graph
// order. The Go tests compare the outputs with nadir's. Graph optimisations
// are off, so the graph runs as written; NADIR_ORT_OPT=all runs it as
// deployments do, with ONNX Runtime's fusions.
const fs = require("fs");
const ort = require("onnxruntime-node");

function load(file, shape) {
  const buf = fs.readFileSync(file);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new ort.Tensor("float32", data, shape);
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const c of cases) {
    const session = await ort.InferenceSession.create(c.model, { graphOptimizationLevel: process.env.NADIR_ORT_OPT || "disabled" });
    const feeds = {};
    if (c.inputs) {
      for (const i of c.inputs) feeds[i.name] = load(i.file, i.shape);
    } else {
      feeds[session.inputNames[0]] = load(c.input, c.shape);
    }
    const out = await session.run(feeds);
    const names = c.all ? session.outputNames : [session.outputNames[0]];
    const parts = names.map((n) => Buffer.from(out[n].data.buffer, out[n].data.byteOffset, out[n].data.byteLength));
    fs.writeFileSync(c.output, Buffer.concat(parts));
  }
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});
