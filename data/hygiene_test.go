package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad values in data files are refused in one line that names the file,
// the example (row or record) and the value.
func TestLoadIDXDirBadValues(t *testing.T) {
	floatImages := func(vals ...float32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	for _, c := range []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"nan pixel", "train-images-idx3-ubyte", idxBytes(byte(IDXFloat32), []int{2, 1, 2}, floatImages(0, 1, float32(math.NaN()), 3)),
			"example 1, element 0 is NaN, not a finite number"},
		{"inf pixel", "t10k-images-idx3-ubyte", idxBytes(byte(IDXFloat32), []int{2, 1, 2}, floatImages(0, float32(math.Inf(-1)), 2, 3)),
			"example 0, element 1 is -Inf, not a finite number"},
		{"huge label", "train-labels-idx1-ubyte", idxBytes(byte(IDXInt32), []int{2}, []byte{0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff}),
			"label 2147483647 of example 1 is out of range (0 to 4095)"},
		{"negative label", "t10k-labels-idx1-ubyte", idxBytes(byte(IDXInt8), []int{2}, []byte{0xff, 1}),
			"label -1 of example 0 is out of range"},
	} {
		dir := t.TempDir()
		writeIDXDir(t, dir, 2, 2, 1, 2, false)
		path := filepath.Join(dir, c.file)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadIDXDir(dir)
		if err == nil || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line naming %s with %q", c.name, err, path, c.want)
		}
	}
}

func TestReadCSVBadValues(t *testing.T) {
	for _, c := range []struct{ csv, want string }{
		{"a,b,y\n1,2,0\n3,NaN,1\n", `fuzz.csv:3: column 2 ("b"): "NaN" is not a finite number`},
		{"1,2,0\n-Inf,4,1\n", `fuzz.csv:2: column 1: "-Inf" is not a finite number`},
		{"1,2,0\n3,1e999,1\n", `fuzz.csv:2: column 2: "1e999" is not a finite number`},
	} {
		_, err := ReadCSV(strings.NewReader(c.csv), "fuzz.csv", "")
		if err == nil || !strings.HasSuffix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want one line ending %q", c.csv, err, c.want)
		}
	}
	var many strings.Builder
	for i := range MaxClasses + 1 {
		fmt.Fprintf(&many, "1,%d.5\n", i) // a continuous target read as labels
	}
	_, err := ReadCSV(strings.NewReader(many.String()), "reg.csv", "")
	if err == nil || !strings.Contains(err.Error(), "4097 distinct labels, more than the 4096 classes allowed") {
		t.Errorf("continuous label column: %v", err)
	}
}
