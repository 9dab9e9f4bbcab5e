package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nadir-ml/nadir/export"
	"github.com/nadir-ml/nadir/npi"
)

func init() {
	register("export", "write a run's network as ONNX or safetensors (+ JSON sidecar for PyTorch): nadir export RUN", cmdExport)
}

func cmdExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	format := fs.String("format", "onnx", "onnx | safetensors")
	out := fs.String("out", "", "output file (default RUN/model.onnx or RUN/model.safetensors; the sidecar gets .json)")
	opset := fs.Int("opset", export.DefaultOpset, fmt.Sprintf("ONNX opset (%d-%d)", export.MinOpset, export.MaxOpset))
	foldBN := fs.Bool("fold-bn", false, "ONNX: fold BatchNorm into the conv/dense layer before it")
	inName := fs.String("input-name", "input", "ONNX graph input name")
	outName := fs.String("output-name", "logits", "ONNX graph output name (softmax is output \""+export.ProbName+"\")")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: nadir export RUN [--format onnx|safetensors] [--out FILE] [--opset N] [--fold-bn]")
	}
	run := pos[0]
	if *format != "onnx" && *format != "safetensors" {
		return fmt.Errorf("--format %q: want onnx or safetensors", *format)
	}
	if err := export.CheckOpset(*opset); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(run, "model."+*format)
	}
	var file, sidecar []byte
	if isNPIRun(run) {
		m, err := npi.Load(run)
		if err != nil {
			return err
		}
		if *format == "onnx" {
			g, err := export.NPIONNX(m, *opset)
			if err != nil {
				return err
			}
			file = g.Marshal()
		} else if file, sidecar, err = export.NPISafetensors(m); err != nil {
			return failed(err)
		}
	} else {
		net, info, err := loadRunModel(run)
		if err != nil {
			return err
		}
		if *format == "onnx" {
			file, err = export.WriteONNX(net, export.ONNXOptions{Opset: *opset, FoldBN: *foldBN, InputName: *inName, OutputName: *outName, Info: info})
		} else {
			file, sidecar, err = export.NetSafetensors(net, info)
		}
		if err != nil {
			return err
		}
	}
	if err := os.WriteFile(*out, file, 0o644); err != nil {
		return failed(err)
	}
	msg := fmt.Sprintf("wrote %s (%d bytes)", *out, len(file))
	if sidecar != nil {
		sc := sidecarPath(*out)
		if err := os.WriteFile(sc, sidecar, 0o644); err != nil {
			return failed(err)
		}
		msg += " and " + sc
	}
	fmt.Println(msg)
	return nil
}

// sidecarPath is FILE.json for FILE.safetensors, else FILE + ".json".
func sidecarPath(out string) string {
	if s, ok := strings.CutSuffix(out, ".safetensors"); ok {
		return s + ".json"
	}
	return out + ".json"
}
