package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nadir-ml/nadir/export"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/run"
	"github.com/nadir-ml/nadir/train"
)

// applyInit overwrites net's weights (and BatchNorm statistics) with those
// of a file nadir exported: safetensors, or ONNX written without
// --fold-bn. Names and shapes must match the network --model builds
// exactly; the first mismatch is the error.
func applyInit(net *nn.Net, path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--init: %v", err)
	}
	var ts []export.STensor
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		src, _, err := export.ReadONNX(b)
		if err != nil {
			return fmt.Errorf("--init %s: %v", path, err)
		}
		if ts, err = export.TorchTensors(src); err != nil {
			return fmt.Errorf("--init %s: %v", path, err)
		}
	} else if ts, _, err = export.ReadSafetensors(b); err != nil {
		return fmt.Errorf("--init %s: %v", path, err)
	}
	if err := export.LoadTorchTensors(net, ts); err != nil {
		return fmt.Errorf("--init %s: %v", path, err)
	}
	return nil
}

// logInit records in the run's event log which file the weights came from
// (config.json does not hold --init), with the file's SHA-256.
func logInit(s *train.Session, path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	return s.Log.Append(run.Init{File: path, SHA256: hex.EncodeToString(sum[:])})
}
