# Runs the ONNX checker (full_check: with shape inference) on each model.
# Usage: /usr/bin/python3 onnx_check.py MODEL.onnx...
import sys

import onnx

for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    print(path, "ok", "opset", m.opset_import[0].version, "ir", m.ir_version)
