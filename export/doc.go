// Package export takes a nadir network out of nadir: to ONNX, for ONNX
// Runtime and every runtime that reads ONNX, and to safetensors with a JSON
// sidecar, for PyTorch; and back in, from both.
//
// ONNX. ONNX converts an nn.Net into an ONNX model (default opset 13,
// IR 7; opsets 11–17 with their IR versions) with one or a few standard
// ops per layer, weights as initializers under PyTorch state_dict names,
// a symbolic batch dimension, named input and output ("input", "logits",
// and "probabilities" = Softmax(logits)). The data's normalisation is
// recorded as metadata (metadata_props "nadir.info" and a readable
// "preprocessing" formula), not as graph nodes: the graph takes normalised
// inputs, as a PyTorch module does. With FoldBN, eval-mode BatchNorm is
// folded into the preceding conv or dense layer. The protobuf encoding is
// hand-written with protowire for the onnx.proto fields used
// (onnxproto.go lists their numbers).
//
// ReadONNX reads such a file back into an nn.Net: the architecture from
// the "nadir.spec" metadata, the weights from the initializers, and a
// node-by-node comparison with the graph ONNX would write for that
// network, so that what nadir runs is what the file says. CheckGraph is a
// structural check with shape inference for every op emitted.
//
// Safetensors. WriteSafetensors / ReadSafetensors implement the format
// (8-byte header length, JSON header with dtype/shape/data_offsets and
// __metadata__, raw little-endian data) with the reference reader's
// checks, in about 150 lines rather than through a dependency. NetSafetensors names tensors as PyTorch does (layers.0.weight,
// layers.1.running_mean, ...) and returns a Sidecar that describes the
// equivalent torch module (torch.nn classes and constructor arguments);
// LoadTorchTensors loads such tensors into a network of the same
// architecture with shape checks (nadir train/grow --init).
//
// NPI. NPI models export their encoder, LSTM core and heads: as
// safetensors for torch.nn.LSTM and Linear modules (NPISafetensors;
// PyTorch's gate order i, f, g, o is nadir's), and as an ONNX graph that
// runs one program invocation over a sequence with the ONNX LSTM op
// (NPIONNX; gate rows reordered to ONNX's i, o, f, c).
package export
