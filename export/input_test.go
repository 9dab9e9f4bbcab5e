package export

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nadir-ml/nadir/data"
)

func TestReadExamples(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pngOf := func(img image.Image) []byte {
		var b bytes.Buffer
		png.Encode(&b, img)
		return b.Bytes()
	}
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	gray.SetGray(2, 1, color.Gray{Y: 255})
	gray.SetGray(0, 0, color.Gray{Y: 51})
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 1))
	rgb.Set(1, 0, color.RGBA{R: 255, G: 0, B: 51, A: 255})
	var idx bytes.Buffer
	data.WriteIDX(&idx, &data.IDX{Type: data.IDXUint8, Shape: []int{2, 2, 3}, Data: []byte{0, 255, 0, 0, 0, 0, 1, 2, 3, 4, 5, 255}})
	var one bytes.Buffer
	data.WriteIDX(&one, &data.IDX{Type: data.IDXUint8, Shape: []int{2, 3}, Data: []byte{255, 0, 0, 0, 0, 0}})
	cases := []struct {
		name string
		path string
		in   []int
		want []float32
		n    int
	}{
		{"gray png", write("g.png", pngOf(gray)), []int{1, 2, 3}, []float32{0.2, 0, 0, 0, 0, 1}, 1},
		{"rgb png", write("c.png", pngOf(rgb)), []int{3, 1, 2}, []float32{0, 1, 0, 0, 0, 0.2}, 1},
		{"idx batch", write("x-idx3-ubyte", idx.Bytes()), []int{1, 2, 3}, nil, 2},
		{"idx one image", write("one-idx", one.Bytes()), []int{1, 2, 3}, []float32{1, 0, 0, 0, 0, 0}, 1},
		{"csv header+label", write("t.csv", []byte("a,b,label\n1,2,x\n3.5,-4,y\n")), []int{2}, []float32{1, 2, 3.5, -4}, 2},
		{"csv plain", write("p.csv", []byte("1,2\n\n3,4\n")), []int{2}, []float32{1, 2, 3, 4}, 2},
	}
	for _, c := range cases {
		x, n, err := ReadExamples(c.path, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n != c.n || (c.want != nil && !slices.Equal(x, c.want)) {
			t.Errorf("%s: got %d examples %v, want %d %v", c.name, n, x, c.n, c.want)
		}
	}
	bad := []struct {
		name, path string
		in         []int
		want       string
	}{
		{"png size", write("g2.png", pngOf(gray)), []int{1, 28, 28}, "3x2"},
		{"png for vectors", write("g3.png", pngOf(gray)), []int{6}, "not 1- or 3-channel"},
		{"idx shape", write("y-idx", idx.Bytes()), []int{1, 28, 28}, "shape"},
		{"csv width", write("w.csv", []byte("1,2,3,4\n")), []int{2}, "4 values"},
		{"csv text", write("x.csv", []byte("1,2\n3,x\n")), []int{2}, `"x"`},
		{"empty", write("e.csv", nil), []int{2}, "no examples"},
		{"missing", filepath.Join(dir, "nope"), []int{2}, "nope"},
	}
	for _, c := range bad {
		if _, _, err := ReadExamples(c.path, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want mention of %s", c.name, err, c.want)
		}
	}
}

func TestPreprocessApply(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	(&Preprocess{Mean: []float32{1}, Std: []float32{2}}).Apply(x, 2)
	if !slices.Equal(x, []float32{0, 0.5, 1, 1.5}) {
		t.Errorf("global: %v", x)
	}
	x = []float32{1, 2, 3, 4}
	(&Preprocess{Mean: []float32{1, 2}, Std: []float32{1, 2}}).Apply(x, 2)
	if !slices.Equal(x, []float32{0, 0, 2, 1}) {
		t.Errorf("per feature: %v", x)
	}
	if err := (&Preprocess{Mean: []float32{1, 2, 3}, Std: []float32{1, 2, 3}}).Apply(x, 2); err == nil {
		t.Error("mismatched features accepted")
	}
}
