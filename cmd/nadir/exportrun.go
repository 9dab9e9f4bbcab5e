package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/export"
	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/npi"
	"github.com/nadir-ml/nadir/train"
)

// This file is the only place where export and predict depend on the
// run-directory format: loadNet (train.go) for the network, the run's
// config for the data, and a replay of train.LoadData's normalisation.

// isNPIRun reports whether dir holds an NPI model rather than a network run.
func isNPIRun(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, npi.ModelFile))
	return err == nil
}

// loadRunModel reads a run's network and what it was trained on: data
// source, class names and the normalisation training applied.
func loadRunModel(dir string) (*nn.Net, export.Info, error) {
	net, cfg, err := loadNet(dir)
	if err != nil {
		return nil, export.Info{}, err
	}
	if cfg == nil {
		return nil, export.Info{}, fmt.Errorf("%s: need a run directory (its config.json names the data whose normalisation the network expects)", dir)
	}
	info, err := runInfo(*cfg)
	if err != nil {
		return nil, export.Info{}, err
	}
	return net, info, nil
}

// runInfo recomputes the normalisation train.LoadData fitted: statistics of
// the training split (after the validation split, drawn from the same
// seeded stream), global for images and per feature for tables.
func runInfo(cfg train.RunConfig) (export.Info, error) {
	key, _ := json.Marshal(cfg)
	if v, ok := infoCache.Load(string(key)); ok {
		return v.(export.Info), nil
	}
	info, err := fitInfo(cfg)
	if err == nil {
		infoCache.Store(string(key), info)
	}
	return info, err
}

// infoCache keeps runInfo's results: fitting reloads the training set,
// which in-process callers (tests) would otherwise repeat per export.
var infoCache sync.Map

func fitInfo(cfg train.RunConfig) (export.Info, error) {
	tr, _, err := data.Load(cfg.Data, data.LoadOptions{Label: cfg.Label, MaxTrain: cfg.MaxTrain, Seed: cfg.Train.Seed})
	if err != nil {
		return export.Info{}, err
	}
	if cfg.ValFrac > 0 {
		tr, _ = tr.Split(cfg.ValFrac, rand.New(rand.NewPCG(cfg.Train.Seed, 0xda7a)))
	}
	norm := data.FitNormalizer(tr, len(tr.Shape) == 1)
	scale := 1.0 / 255 // the IDX loaders' scale for 8-bit images
	if strings.HasPrefix(cfg.Data, "csv:") {
		scale = 1
	}
	info := export.Info{Data: cfg.Data, Classes: tr.ClassNames, Pre: &export.Preprocess{Scale: scale, Mean: norm.Mean, Std: norm.Std}}
	if info.Classes == nil && tr.Classes > 0 {
		for c := range tr.Classes {
			info.Classes = append(info.Classes, fmt.Sprint(c))
		}
	}
	return info, nil
}

// loadModel reads a network for prediction from a run directory, or from
// a model file nadir exported (.onnx or .safetensors).
func loadModel(path string) (*nn.Net, export.Info, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, export.Info{}, err
	}
	if st.IsDir() {
		if isNPIRun(path) {
			return nil, export.Info{}, fmt.Errorf("%s is an NPI run; predict classifies with networks (nadir npi run executes programs)", path)
		}
		return loadRunModel(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, export.Info{}, err
	}
	var net *nn.Net
	var info export.Info
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		net, info, err = export.ReadONNX(b)
	case ".safetensors":
		net, info, err = export.ReadNetSafetensors(b)
	default:
		return loadRunModel(path) // a checkpoint file: refused with a message
	}
	if err != nil {
		return nil, export.Info{}, fmt.Errorf("%s: %v", path, err)
	}
	if info.Pre == nil {
		return nil, export.Info{}, errors.New(path + ": no normalisation recorded in the file")
	}
	return net, info, nil
}
