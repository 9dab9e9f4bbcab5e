package data

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes to the IDX decoder: it must return an
// error or an array whose payload matches its shape, never panic, and never
// allocate what a header claims before the data is there (a header of 2³¹
// images over ten bytes of data is in the seeds).
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(byte(IDXUint8), []int{2, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7}))
	f.Add(idxBytes(byte(IDXInt16), []int{3}, []byte{0, 1, 0xff, 0xfe, 0x80, 0}))
	f.Add(idxBytes(byte(IDXFloat32), []int{1, 1}, []byte{0x7f, 0xc0, 0, 0})) // NaN
	f.Add(idxBytes(byte(IDXFloat64), []int{1}, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}))
	f.Add(gzipBytes(f, idxBytes(byte(IDXUint8), []int{1, 2}, []byte{9, 8})))
	f.Add([]byte{0, 0, 8, 3, 0x80, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{0, 0, 0x0d, 255})
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			if x != nil {
				t.Fatal("error with a result")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if len(x.Data) != x.Len()*x.Type.Size() {
			t.Fatalf("shape %v of %v with %d data bytes", x.Shape, x.Type, len(x.Data))
		}
		if n := len(x.Float32s(1)); n != x.Len() {
			t.Fatalf("Float32s gave %d values for %d elements", n, x.Len())
		}
		if ints, err := x.Ints(); err == nil && len(ints) != x.Len() {
			t.Fatalf("Ints gave %d values for %d elements", len(ints), x.Len())
		}
		// An uncompressed file decodes to exactly what encodes it.
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			var w bytes.Buffer
			if err := WriteIDX(&w, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.Bytes(), b) {
				t.Fatalf("re-encoding differs:\n%x\n%x", w.Bytes(), b)
			}
		}
	})
}

// FuzzReadCSV feeds arbitrary text and label specifications to the CSV
// reader: an error is one line; a dataset is consistent (len(X) = N·D,
// labels within Classes, every feature finite).
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b,label\n1,2,x\n3,4,y\n"), "label")
	f.Add([]byte("1,2,0\n3,4,1\n5,6,1\n"), "")
	f.Add([]byte("2,2,setosa,versicolor\n1,2,0\n3,4,1\n"), "-1")
	f.Add([]byte("1,NaN,0\n3,4,1\n"), "")
	f.Add([]byte("1,2,0\n3,Inf,1\n"), "0")
	f.Add([]byte("x,y\n\"1\",\"2\n\"\n"), "x")
	f.Add(gzipBytes(f, []byte("1,2,0\n3,4,1\n")), "")
	f.Add([]byte("1e39,2,0\n-0x1p-2,4,1\n"), "2")
	f.Fuzz(func(t *testing.T, b []byte, label string) {
		d, err := ReadCSV(bytes.NewReader(b), "fuzz.csv", label)
		if err != nil {
			if d != nil {
				t.Fatal("error with a result")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		if len(d.Shape) != 1 || d.Shape[0] < 1 || len(d.X) != d.Len()*d.Dim() || d.Len() == 0 {
			t.Fatalf("shape %v, %d values, %d labels", d.Shape, len(d.X), len(d.Y))
		}
		if d.Classes < 1 || d.Classes > MaxClasses || len(d.ClassNames) != d.Classes {
			t.Fatalf("%d classes, %d names", d.Classes, len(d.ClassNames))
		}
		for _, y := range d.Y {
			if y < 0 || y >= d.Classes {
				t.Fatalf("label %d of %d classes", y, d.Classes)
			}
		}
		for _, v := range d.X {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("non-finite feature %v accepted", v)
			}
		}
	})
}
