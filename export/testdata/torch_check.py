# Loads nadir safetensors files into the torch module their sidecar
# describes and writes the module's outputs on given inputs.
# Usage: /usr/bin/python3 torch_check.py MANIFEST.json
# Manifest cases: {file, sidecar, input, shape, output}; input and output
# are raw little-endian float32. Cases with "npi": true hold an NPI model:
# the script runs its LSTM core over the input sequence (T×1×In) from a
# zero state and writes the hidden states, then end(h_T), key(h_T) and
# each args head on h_T, concatenated.
import json
import os
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    # The format in a few lines: header length, JSON header, raw data.
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8 : 8 + n])
    data = b[8 + n :]
    dtypes = {"F32": np.float32, "I64": np.int64, "F64": np.float64}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        a = np.frombuffer(data[lo:hi], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out


def build(m):
    kids = [build(c) for c in m.get("modules", [])]
    if m["type"] == "Sequential":
        return torch.nn.Sequential(*kids)
    if m["type"] == "ModuleList":
        return torch.nn.ModuleList(kids)
    return getattr(torch.nn, m["type"])(**m.get("args", {}))


def load(case):
    with open(case["sidecar"]) as f:
        sc = json.load(f)
    root = torch.nn.Module()
    for name, m in sc["modules"].items():
        setattr(root, name, build(m))
    for name, shape in sc.get("parameters", {}).items():
        root.register_parameter(name, torch.nn.Parameter(torch.zeros(shape)))
    root.load_state_dict(read_safetensors(case["file"]), strict=True)
    return root.eval()


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    torch.set_grad_enabled(False)
    # NADIR_TORCH_FLOAT64=1 runs in float64: the exact reference against
    # which float32 rounding of every runtime, nadir's included, shows.
    f64 = os.environ.get("NADIR_TORCH_FLOAT64") == "1"
    for c in cases:
        model = load(c)
        x = torch.from_numpy(np.fromfile(c["input"], dtype="<f4").reshape(c["shape"]))
        if f64:
            model, x = model.double(), x.double()
        if c.get("npi"):
            hs, _ = model.core(x)
            h = hs[-1, 0]
            parts = [hs.reshape(-1), model.end(h), model.key(h)] + [a(h) for a in model.args]
            y = torch.cat(parts)
        else:
            y = model.layers(x)
        y.numpy().astype("<f4").tofile(c["output"])


main()
