package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file by hand, independently of WriteIDX.
func idxBytes(typ byte, shape []int, payload []byte) []byte {
	b := []byte{0, 0, typ, byte(len(shape))}
	for _, d := range shape {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, payload...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDXRoundTrip(t *testing.T) {
	pix := []byte{0, 51, 102, 153, 204, 255}
	raw := idxBytes(0x08, []int{2, 1, 3}, pix)
	for _, tc := range []struct {
		name string
		file []byte
	}{{"raw", raw}, {"gzip", gzipBytes(t, raw)}} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ReadIDX(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if x.Type != IDXUint8 || !slices.Equal(x.Shape, []int{2, 1, 3}) || !bytes.Equal(x.Data, pix) {
				t.Fatalf("got type %v shape %v data %v", x.Type, x.Shape, x.Data)
			}
			want := []float32{0, 0.2, 0.4, 0.6, 0.8, 1}
			for i, v := range x.Float32s(1.0 / 255) {
				if v != want[i] {
					t.Fatalf("Float32s[%d] = %v, want %v", i, v, want[i])
				}
			}
			var buf bytes.Buffer
			if err := WriteIDX(&buf, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), raw) {
				t.Fatalf("WriteIDX = %v, want %v", buf.Bytes(), raw)
			}
		})
	}
}

func TestIDXTypes(t *testing.T) {
	be := binary.BigEndian
	var f32, f64, i16, i32 []byte
	for _, v := range []float64{-1.5, 0, 2.25} {
		f32 = be.AppendUint32(f32, math.Float32bits(float32(v)))
		f64 = be.AppendUint64(f64, math.Float64bits(v))
	}
	for _, v := range []int{-300, 0, 7} {
		i16 = be.AppendUint16(i16, uint16(int16(v)))
		i32 = be.AppendUint32(i32, uint32(int32(v)))
	}
	cases := []struct {
		typ     IDXType
		payload []byte
		floats  []float32
		ints    []int // nil: Ints must fail
	}{
		{IDXInt8, []byte{0xff, 0, 7}, []float32{-1, 0, 7}, []int{-1, 0, 7}},
		{IDXInt16, i16, []float32{-300, 0, 7}, []int{-300, 0, 7}},
		{IDXInt32, i32, []float32{-300, 0, 7}, []int{-300, 0, 7}},
		{IDXFloat32, f32, []float32{-1.5, 0, 2.25}, nil},
		{IDXFloat64, f64, []float32{-1.5, 0, 2.25}, nil},
	}
	for _, c := range cases {
		x, err := ReadIDX(bytes.NewReader(idxBytes(byte(c.typ), []int{3}, c.payload)))
		if err != nil {
			t.Fatalf("%v: %v", c.typ, err)
		}
		if got := x.Float32s(1); !slices.Equal(got, c.floats) {
			t.Errorf("%v: Float32s = %v, want %v", c.typ, got, c.floats)
		}
		got, err := x.Ints()
		if c.ints == nil {
			if err == nil {
				t.Errorf("%v: Ints succeeded on floating-point data", c.typ)
			}
		} else if err != nil || !slices.Equal(got, c.ints) {
			t.Errorf("%v: Ints = %v, %v; want %v", c.typ, got, err, c.ints)
		}
	}
}

func TestReadIDXFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := idxBytes(0x08, []int{4, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	cases := []struct {
		name string
		file []byte
		want []string
	}{
		{"short-payload", good[:len(good)-3], []string{"truncated", "needs 8 data bytes, got 5"}},
		{"short-dims", good[:9], []string{"truncated", "dimension bytes"}},
		{"short-magic", good[:2], []string{"truncated", "magic"}},
		{"empty", nil, []string{"truncated"}},
		{"short-gzip", gzipBytes(t, good)[:20], []string{"truncated"}},
		{"gzip-no-trailer", func() []byte { g := gzipBytes(t, good); return g[:len(g)-4] }(), []string{"truncated"}},
		{"bad-magic", append([]byte{1, 2}, good[2:]...), []string{"bad magic 0x01020802"}},
		{"bad-type", append([]byte{0, 0, 0x07}, good[3:]...), []string{"unknown element type"}},
		{"zero-dims", []byte{0, 0, 8, 0}, []string{"zero dimensions"}},
		{"trailing", append(slices.Clone(good), 9), []string{"trailing data"}},
		{"huge", idxBytes(0x0E, []int{1 << 30, 1 << 30}, nil), []string{"too large"}},
		{"wraps-to-zero", idxBytes(0x08, []int{1 << 20, 1 << 20, 1 << 24}, nil), []string{"too large"}}, // 2^64 bytes
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+"-idx1-ubyte")
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadIDXFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, "idx: "+path+": ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := ReadIDXFile(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want a not-exist error", err)
	}
}

// writeIDXDir writes an MNIST-layout directory of n train and m test
// examples of h×w uint8 images; gz selects compression.
func writeIDXDir(t *testing.T, dir string, n, m, h, w int, gz bool) {
	t.Helper()
	write := func(base string, shape []int, payload []byte) {
		b := idxBytes(0x08, shape, payload)
		if gz {
			b = gzipBytes(t, b)
			base += ".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, base), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := func(prefix string, count, salt int) {
		img := make([]byte, count*h*w)
		lab := make([]byte, count)
		for i := range count {
			lab[i] = byte((i + salt) % 3)
			for j := range h * w {
				img[i*h*w+j] = byte(i*h*w + j + salt)
			}
		}
		write(prefix+"-images-idx3-ubyte", []int{count, h, w}, img)
		write(prefix+"-labels-idx1-ubyte", []int{count}, lab)
	}
	set("train", n, 0)
	set("t10k", m, 1)
}

func TestLoadIDXDir(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", gz), func(t *testing.T) {
			dir := t.TempDir()
			writeIDXDir(t, dir, 5, 2, 2, 3, gz)
			train, test, err := LoadIDXDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []*Dataset{train, test} {
				if err := d.Validate(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(d.Shape, []int{1, 2, 3}) || d.Classes != 3 {
					t.Fatalf("%s: shape %v classes %d", d.Name, d.Shape, d.Classes)
				}
			}
			if train.Len() != 5 || test.Len() != 2 {
				t.Fatalf("lengths %d, %d", train.Len(), test.Len())
			}
			if !slices.Equal(train.Y, []int{0, 1, 2, 0, 1}) || !slices.Equal(test.Y, []int{1, 2}) {
				t.Fatalf("labels %v %v", train.Y, test.Y)
			}
			// Example 1 of the training set holds bytes 6..11.
			if got, want := train.Example(1)[5], float32(11)/255; got != want {
				t.Fatalf("pixel = %v, want %v", got, want)
			}
		})
	}
}

func TestLoadIDXDirErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadIDXDir(dir); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Errorf("empty dir: %v", err)
	}
	writeIDXDir(t, dir, 5, 2, 2, 3, false)
	// Fewer labels than images.
	lab := filepath.Join(dir, "t10k-labels-idx1-ubyte")
	if err := os.WriteFile(lab, idxBytes(0x08, []int{1}, []byte{0}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadIDXDir(dir); err == nil || !strings.Contains(err.Error(), lab) {
		t.Errorf("label count mismatch: %v", err)
	}
}

// ExampleReadIDX decodes a tiny in-memory IDX file: two 2×2 uint8 images.
func ExampleReadIDX() {
	file := []byte{
		0, 0, 0x08, 3, // magic: uint8 elements, 3 dimensions
		0, 0, 0, 2, // 2 images
		0, 0, 0, 2, // of 2 rows
		0, 0, 0, 2, // and 2 columns
		0, 255, 255, 0,
		51, 102, 153, 204,
	}
	x, err := ReadIDX(bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Type, x.Shape)
	fmt.Println(x.Float32s(1.0 / 255))

	_, err = ReadIDX(bytes.NewReader(file[:20]))
	fmt.Println(err)
	// Output:
	// uint8 [2 2 2]
	// [0 1 1 0 0.2 0.4 0.6 0.8]
	// idx: truncated: shape [2 2 2] of uint8 needs 8 data bytes, got 4
}

// Load with MaxTrain converts only the kept examples, which are the full
// set's first ones; classes still count every label.
func TestLoadIDXMaxTrain(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, 5, 2, 2, 3, false)
	full, _, err := LoadIDXDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, test, err := Load("idx:"+dir, LoadOptions{MaxTrain: 2})
	if err != nil {
		t.Fatal(err)
	}
	if head.Len() != 2 || len(head.X) != 2*6 || cap(head.X) != 2*6 || test.Len() != 2 {
		t.Fatalf("kept %d examples (%d values, capacity %d), test %d", head.Len(), len(head.X), cap(head.X), test.Len())
	}
	if !slices.Equal(head.X, full.X[:12]) || !slices.Equal(head.Y, full.Y[:2]) || head.Classes != full.Classes {
		t.Fatalf("first examples differ: %v %v classes %d", head.X, head.Y, head.Classes)
	}
}

// With MaxTrain the training images are decoded only as far as the kept
// examples: a file whose data ends after them still loads (the full load
// reports it truncated), and the kept examples equal the full file's.
func TestLoadIDXMaxTrainPrefixOnly(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeIDXDir(t, dir, 5, 2, 2, 3, false)
		full, _, err := LoadIDXDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		// Rewrite the training images with only 3 of the 5 declared.
		p := filepath.Join(dir, "train-images-idx3-ubyte")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = b[:16+3*6]
		if gz {
			os.Remove(p)
			p += ".gz"
			b = gzipBytes(t, b)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadIDXDir(dir); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("gz %v: full load of a short file: %v, want truncated", gz, err)
		}
		head, _, err := Load("idx:"+dir, LoadOptions{MaxTrain: 3})
		if err != nil {
			t.Fatalf("gz %v: %v", gz, err)
		}
		if !slices.Equal(head.X, full.X[:18]) || !slices.Equal(head.Y, full.Y[:3]) || head.Classes != full.Classes {
			t.Fatalf("gz %v: prefix %v %v classes %d", gz, head.X, head.Y, head.Classes)
		}
		if _, _, err := Load("idx:"+dir, LoadOptions{MaxTrain: 4}); err == nil {
			t.Fatalf("gz %v: MaxTrain 4 of a file holding 3 loaded", gz)
		}
	}
}
