package export

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	_ "image/png" // PNG inputs
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nadir-ml/nadir/data"
)

// ReadExamples reads raw examples for a network of per-example input shape
// in and scales them as nadir's data loaders do (8-bit values / 255),
// ready for Preprocess.Apply:
//
//   - PNG: one image of in's height and width; gray for one channel, RGB
//     for three;
//   - IDX (raw or gzipped; MNIST's t10k-images-idx3-ubyte, say): every
//     array entry along the first dimension is an example (a single 2-D
//     image is one example);
//   - CSV (raw or gzipped): one example per row of numbers; a header row
//     is skipped, and a row with one value more than the network takes has
//     its last column (the label) dropped.
//
// It returns the values and the number of examples.
func ReadExamples(path string, in []int) ([]float32, int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	dim := 1
	for _, d := range in {
		dim *= d
	}
	b := raw
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %v", path, err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, 1<<31)); err != nil {
			return nil, 0, fmt.Errorf("%s: %v", path, err)
		}
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		x, err := readPNG(b, in)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %v", path, err)
		}
		return x, 1, nil
	case len(b) >= 4 && b[0] == 0 && b[1] == 0: // IDX magic; text never starts with NULs
		return readIDX(path, raw, in, dim)
	}
	return readCSV(path, b, dim)
}

func readPNG(b []byte, in []int) ([]float32, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if len(in) != 3 || (in[0] != 1 && in[0] != 3) {
		return nil, fmt.Errorf("the network takes inputs of shape %v, not 1- or 3-channel images", in)
	}
	r := img.Bounds()
	if r.Dy() != in[1] || r.Dx() != in[2] {
		return nil, fmt.Errorf("image is %dx%d, the network takes %dx%d", r.Dx(), r.Dy(), in[2], in[1])
	}
	h, w := in[1], in[2]
	x := make([]float32, in[0]*h*w)
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			c := img.At(r.Min.X+xx, r.Min.Y+y)
			if in[0] == 1 {
				g := color.GrayModel.Convert(c).(color.Gray)
				x[y*w+xx] = float32(float64(g.Y) / 255)
				continue
			}
			rr, gg, bb, _ := c.RGBA()
			for ch, v := range []uint32{rr, gg, bb} {
				x[ch*h*w+y*w+xx] = float32(float64(v>>8) / 255)
			}
		}
	}
	return x, nil
}

func readIDX(path string, raw []byte, in []int, dim int) ([]float32, int, error) {
	a, err := data.ReadIDX(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v", path, err)
	}
	shape := slices.Clone(a.Shape)
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	n := shape[0]
	if len(shape) == 2 && len(in) == 3 && shape[0]*shape[1] == dim {
		n, per = 1, dim // one 2-D image
	}
	if per != dim {
		return nil, 0, fmt.Errorf("%s: IDX examples have shape %v, the network takes %v", path, shape[1:], in)
	}
	scale := 1.0
	if a.Type == data.IDXUint8 {
		scale = 1.0 / 255
	}
	return a.Float32s(scale), n, nil
}

func readCSV(path string, b []byte, dim int) ([]float32, int, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var x []float32
	n := 0
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: not PNG, IDX or CSV: %v", path, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) == dim+1 {
			rec = rec[:dim]
		}
		vals := make([]float32, 0, dim)
		bad := ""
		for _, c := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				bad = c
				break
			}
			vals = append(vals, float32(v))
		}
		if bad != "" {
			if line == 1 {
				continue // header
			}
			return nil, 0, fmt.Errorf("%s: line %d: %q is not a number (not PNG, IDX or numeric CSV)", path, line, bad)
		}
		if len(vals) != dim {
			return nil, 0, fmt.Errorf("%s: line %d has %d values, the network takes %d", path, line, len(vals), dim)
		}
		x = append(x, vals...)
		n++
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%s: no examples (want PNG, IDX or CSV)", path)
	}
	return x, n, nil
}
