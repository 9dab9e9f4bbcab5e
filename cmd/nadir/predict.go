package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"strings"

	"github.com/nadir-ml/nadir/export"
	"github.com/nadir-ml/nadir/tensor"
)

func init() {
	register("predict", "classify inputs (PNG, IDX, CSV) with a run or an exported model: nadir predict RUN|MODEL.onnx --input FILE", cmdPredict)
}

type prediction struct {
	Index int       `json:"index"`
	Class int       `json:"class"`
	Name  string    `json:"name,omitempty"`
	Probs []float64 `json:"probabilities"`
}

func cmdPredict(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	input := fs.String("input", "", "inputs: a PNG image, an IDX file (e.g. t10k-images-idx3-ubyte) or a CSV of feature rows")
	asJSON := fs.Bool("json", false, "print the predictions as one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *input == "" {
		return errors.New("usage: nadir predict RUN|MODEL.onnx|MODEL.safetensors --input FILE [--json]")
	}
	net, info, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	x, n, err := export.ReadExamples(*input, net.In)
	if err != nil {
		return err
	}
	dim := tensor.Numel(net.In)
	if err := info.Pre.Apply(x, dim); err != nil {
		return fmt.Errorf("%s: %v", pos[0], err)
	}
	var preds []prediction
	const batch = 256
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		xt := &tensor.Tensor{Shape: append([]int{hi - lo}, net.In...), Data: x[lo*dim : hi*dim]}
		y := net.Forward(xt, false)
		k := y.Len() / (hi - lo)
		for i := 0; i < hi-lo; i++ {
			p := softmax(y.Data[i*k : (i+1)*k])
			best := 0
			for c := range p {
				if p[c] > p[best] {
					best = c
				}
			}
			pr := prediction{Index: lo + i, Class: best, Probs: p}
			if best < len(info.Classes) {
				pr.Name = info.Classes[best]
			}
			preds = append(preds, pr)
		}
	}
	if *asJSON {
		return printJSON(struct {
			Input       string       `json:"input"`
			Model       string       `json:"model"`
			Predictions []prediction `json:"predictions"`
		}{*input, pos[0], preds})
	}
	for _, p := range preds {
		ps := make([]string, len(p.Probs))
		for c, v := range p.Probs {
			ps[c] = fmt.Sprintf("%.4f", v)
		}
		name := ""
		if p.Name != "" && p.Name != fmt.Sprint(p.Class) {
			name = " (" + p.Name + ")"
		}
		fmt.Printf("%d: class %d%s  p=%.4f  [%s]\n", p.Index, p.Class, name, p.Probs[p.Class], strings.Join(ps, " "))
	}
	return nil
}

func softmax(z []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	p := make([]float64, len(z))
	s := 0.0
	for i, v := range z {
		p[i] = math.Exp(float64(v) - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}
