package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// IDXType is the element type code stored in the third byte of an IDX
// magic number.
type IDXType byte

// The element types defined by the IDX format. Multi-byte values are
// big-endian.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// Size returns the number of bytes per element, or 0 for an unknown type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return fmt.Sprintf("IDXType(%#02x)", byte(t))
}

// IDX is an n-dimensional array decoded from an IDX file. Data keeps the
// file's big-endian element bytes; Float32s and Ints convert them in a
// single pass, so an image file is never held as two float arrays.
type IDX struct {
	Type  IDXType
	Shape []int
	Data  []byte // prod(Shape)*Type.Size() bytes
}

// Len returns the number of elements, the product of Shape.
func (x *IDX) Len() int {
	n := 1
	for _, s := range x.Shape {
		n *= s
	}
	return n
}

// maxIDXBytes bounds the declared payload so that a corrupt header cannot
// overflow size arithmetic. It is far above any dataset this package loads.
const maxIDXBytes = 1 << 40

// ReadIDX decodes an IDX array from r. A gzip stream (first bytes 0x1f 0x8b)
// is decompressed transparently. The magic number, the dimensions and the
// payload length are validated: a short payload is reported as
// "truncated", and bytes after the payload are an error too.
func ReadIDX(r io.Reader) (*IDX, error) {
	return readIDX(r, "")
}

// ReadIDXFile reads the IDX file at path, raw or gzip-compressed. Errors
// name the file: "idx: PATH: truncated: ...".
func ReadIDXFile(path string) (*IDX, error) {
	x, _, err := readIDXFile(path, 0)
	return x, err
}

// readIDXFile is ReadIDXFile decoding only the first rows entries of the
// first dimension when 0 < rows < that dimension; it also returns the
// declared first dimension.
func readIDXFile(path string, rows int) (*IDX, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	return readIDXRows(f, path, rows)
}

func readIDX(r io.Reader, name string) (*IDX, error) {
	x, _, err := readIDXRows(r, name, 0)
	return x, err
}

// readIDXRows decodes an IDX array, or only its first rows entries of the
// first dimension when 0 < rows < that dimension: decompressing the 60,000
// Fashion-MNIST training images costs a run that keeps 10,000 of them
// (--max-train) five sixths of its loading time for nothing. A prefix read
// stops there, so the rest of the file (and gzip's checksum) is not
// checked. The returned Shape is the decoded one; declared is the file's
// first dimension.
func readIDXRows(r io.Reader, name string, rows int) (*IDX, int, error) {
	prefix := "idx: "
	if name != "" {
		prefix = "idx: " + name + ": "
	}
	fail := func(format string, args ...any) (*IDX, int, error) {
		return nil, 0, errors.New(prefix + fmt.Sprintf(format, args...))
	}

	br := bufio.NewReaderSize(r, 1<<16)
	src := io.Reader(br)
	compressed := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if isShort(err) {
				return fail("truncated: incomplete gzip header")
			}
			return fail("gzip: %v", err)
		}
		defer zr.Close()
		src = zr
		compressed = true
	}

	var head [4]byte
	if n, err := io.ReadFull(src, head[:]); err != nil {
		if isShort(err) {
			return fail("truncated: %d of 4 magic bytes", n)
		}
		return fail("%v", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return fail("bad magic %#08x: not an IDX file (first two bytes must be zero)", binary.BigEndian.Uint32(head[:]))
	}
	typ := IDXType(head[2])
	if typ.Size() == 0 {
		return fail("bad magic %#08x: unknown element type %#02x", binary.BigEndian.Uint32(head[:]), head[2])
	}
	ndim := int(head[3])
	if ndim == 0 {
		return fail("bad magic %#08x: zero dimensions", binary.BigEndian.Uint32(head[:]))
	}
	dims := make([]byte, 4*ndim)
	if n, err := io.ReadFull(src, dims); err != nil {
		if isShort(err) {
			return fail("truncated: %d dimensions declared, %d of %d dimension bytes present", ndim, n, len(dims))
		}
		return fail("%v", err)
	}
	shape := make([]int, ndim)
	size := uint64(typ.Size())
	for i := range shape {
		d := binary.BigEndian.Uint32(dims[4*i:])
		shape[i] = int(d)
		if d != 0 && size > maxIDXBytes/uint64(d) {
			return fail("shape %v too large", shape[:i+1])
		}
		size *= uint64(d)
	}
	declared := shape[0]
	prefixOnly := rows > 0 && rows < declared
	if prefixOnly {
		size = size / uint64(declared) * uint64(rows)
		shape[0] = rows
	}

	data, err := readN(src, int(size))
	if err != nil {
		if isShort(err) {
			return fail("truncated: shape %v of %s needs %d data bytes, got %d", shape, typ, size, len(data))
		}
		return fail("%v", err)
	}
	if prefixOnly {
		return &IDX{Type: typ, Shape: shape, Data: data}, declared, nil
	}
	// Reading to EOF also makes gzip verify its checksum.
	var extra [1]byte
	switch n, err := io.ReadFull(src, extra[:]); {
	case n > 0:
		return fail("trailing data after %d data bytes of shape %v", size, shape)
	case err == io.EOF:
	case compressed && isShort(err):
		return fail("truncated: gzip stream ends before its trailer")
	default:
		return fail("%v", err)
	}
	return &IDX{Type: typ, Shape: shape, Data: data}, declared, nil
}

// isShort reports whether err means the input ended early.
func isShort(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// readN reads exactly n bytes. The buffer grows as data arrives rather than
// trusting a header's size up front, so a corrupt size fails on the data,
// not on an enormous allocation. On error it returns what was read.
func readN(r io.Reader, n int) ([]byte, error) {
	// Start small and double: a header may claim 2³¹ images of a file
	// that holds ten bytes.
	buf := make([]byte, 0, min(n, 64<<10))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), cap(buf)))
		}
		end := min(n, cap(buf))
		m, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// Float32s returns the elements converted to float32 and multiplied by
// scale, in one pass (scale 1.0/255 maps uint8 pixels to [0,1]). The
// product is formed in float64 and rounded once.
func (x *IDX) Float32s(scale float64) []float32 {
	n := x.Len()
	out := make([]float32, n)
	b := x.Data
	switch x.Type {
	case IDXUint8:
		var lut [256]float32
		for i := range lut {
			lut[i] = float32(float64(i) * scale)
		}
		for i, v := range b[:n] {
			out[i] = lut[v]
		}
	case IDXInt8:
		for i, v := range b[:n] {
			out[i] = float32(float64(int8(v)) * scale)
		}
	case IDXInt16:
		for i := range out {
			out[i] = float32(float64(int16(binary.BigEndian.Uint16(b[2*i:]))) * scale)
		}
	case IDXInt32:
		for i := range out {
			out[i] = float32(float64(int32(binary.BigEndian.Uint32(b[4*i:]))) * scale)
		}
	case IDXFloat32:
		for i := range out {
			out[i] = float32(float64(math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))) * scale)
		}
	case IDXFloat64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.BigEndian.Uint64(b[8*i:])) * scale)
		}
	default:
		panic(fmt.Sprintf("data: IDX with unknown element type %v", x.Type))
	}
	return out
}

// Ints returns the elements as ints. Only integer element types convert;
// floating-point data is an error.
func (x *IDX) Ints() ([]int, error) {
	n := x.Len()
	out := make([]int, n)
	b := x.Data
	switch x.Type {
	case IDXUint8:
		for i, v := range b[:n] {
			out[i] = int(v)
		}
	case IDXInt8:
		for i, v := range b[:n] {
			out[i] = int(int8(v))
		}
	case IDXInt16:
		for i := range out {
			out[i] = int(int16(binary.BigEndian.Uint16(b[2*i:])))
		}
	case IDXInt32:
		for i := range out {
			out[i] = int(int32(binary.BigEndian.Uint32(b[4*i:])))
		}
	default:
		return nil, fmt.Errorf("idx: %v elements are not integers", x.Type)
	}
	return out, nil
}

// WriteIDX encodes x in IDX format (uncompressed) to w.
func WriteIDX(w io.Writer, x *IDX) error {
	if x.Type.Size() == 0 {
		return fmt.Errorf("idx: cannot write unknown element type %v", x.Type)
	}
	if len(x.Shape) == 0 || len(x.Shape) > 255 {
		return fmt.Errorf("idx: cannot write %d dimensions (want 1 to 255)", len(x.Shape))
	}
	if want := x.Len() * x.Type.Size(); len(x.Data) != want {
		return fmt.Errorf("idx: shape %v of %v needs %d data bytes, have %d", x.Shape, x.Type, want, len(x.Data))
	}
	head := make([]byte, 4+4*len(x.Shape))
	head[2] = byte(x.Type)
	head[3] = byte(len(x.Shape))
	for i, d := range x.Shape {
		if d < 0 || d > math.MaxUint32 {
			return fmt.Errorf("idx: dimension %d out of range", d)
		}
		binary.BigEndian.PutUint32(head[4+4*i:], uint32(d))
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := w.Write(x.Data)
	return err
}

// idxFiles are the MNIST-layout file names, in the order
// train images, train labels, test images, test labels.
var idxFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// findIDX returns the path of the IDX file base (e.g. "train-images-idx3-ubyte")
// in dir, accepting the ".gz" suffix and the "train-images.idx3-ubyte"
// spelling that some mirrors use.
func findIDX(dir, base string) (string, error) {
	alt := strings.Replace(base, "-idx", ".idx", 1)
	for _, name := range []string{base, base + ".gz", alt, alt + ".gz"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: no %s or %s.gz file", dir, base, base)
}

// LoadIDXDir loads an MNIST-layout directory: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte,
// each optionally gzip-compressed. Uint8 pixels are scaled to [0,1]. Image
// files of shape [N,H,W] give examples of Shape [1,H,W]; other ranks keep
// the stored per-example shape ([N,D] gives [D], [N,C,H,W] gives [C,H,W]).
// Classes is one more than the largest label of either set.
func LoadIDXDir(dir string) (train, test *Dataset, err error) { return loadIDXDir(dir, 0) }

// loadIDXDir is LoadIDXDir converting only the first maxTrain training
// examples when maxTrain > 0: the float32 copy of the whole set would
// otherwise dominate a small run's memory.
func loadIDXDir(dir string, maxTrain int) (train, test *Dataset, err error) {
	var paths [4]string
	for i, base := range idxFiles {
		if paths[i], err = findIDX(dir, base); err != nil {
			return nil, nil, err
		}
	}
	// Decompression dominates; the two sets decode concurrently.
	var wg sync.WaitGroup
	var testErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		test, testErr = loadIDXPair(paths[2], paths[3], 0)
	}()
	train, err = loadIDXPair(paths[0], paths[1], maxTrain)
	wg.Wait()
	if err == nil {
		err = testErr
	}
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(train.Shape, test.Shape) {
		return nil, nil, fmt.Errorf("data: %s: training examples have shape %v, test examples %v", dir, train.Shape, test.Shape)
	}
	classes := max(train.Classes, test.Classes)
	train.Classes, test.Classes = classes, classes
	name := filepath.Base(filepath.Clean(dir))
	train.Name, test.Name = name+"/train", name+"/test"
	return train, test, nil
}

// loadIDXPair reads an image file and its label file into a Dataset, of
// the first limit examples when limit > 0 (classes still count every
// label).
func loadIDXPair(imagePath, labelPath string, limit int) (*Dataset, error) {
	img, declared, err := readIDXFile(imagePath, limit)
	if err != nil {
		return nil, err
	}
	lab, err := ReadIDXFile(labelPath)
	if err != nil {
		return nil, err
	}
	if len(img.Shape) < 2 {
		return nil, fmt.Errorf("idx: %s: images need at least 2 dimensions, have shape %v", imagePath, img.Shape)
	}
	if len(lab.Shape) != 1 {
		return nil, fmt.Errorf("idx: %s: labels need 1 dimension, have shape %v", labelPath, lab.Shape)
	}
	if lab.Shape[0] != declared {
		return nil, fmt.Errorf("idx: %s has %d labels for the %d images of %s", labelPath, lab.Shape[0], declared, imagePath)
	}
	y, err := lab.Ints()
	if err != nil {
		return nil, fmt.Errorf("idx: %s: %v", labelPath, err)
	}
	classes := 0
	for i, v := range y {
		if v < 0 || v >= MaxClasses {
			return nil, fmt.Errorf("idx: %s: label %d of example %d is out of range (0 to %d)", labelPath, v, i, MaxClasses-1)
		}
		classes = max(classes, v+1)
	}
	scale := 1.0
	if img.Type == IDXUint8 {
		scale = 1.0 / 255
	}
	shape := append([]int(nil), img.Shape[1:]...)
	if len(shape) == 2 {
		shape = []int{1, shape[0], shape[1]}
	}
	if img.Shape[0] < len(y) {
		y = y[:img.Shape[0]:img.Shape[0]]
	}
	x := img.Float32s(scale)
	if img.Type == IDXFloat32 || img.Type == IDXFloat64 {
		// Integer pixels are finite; stored floats need not be, and one
		// NaN would silently poison the normalisation and the whole run.
		for i, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				per := max(len(x)/max(img.Shape[0], 1), 1)
				return nil, fmt.Errorf("idx: %s: example %d, element %d is %v, not a finite number", imagePath, i/per, i%per, v)
			}
		}
	}
	return &Dataset{Shape: shape, X: x, Y: y, Classes: classes}, nil
}

// MaxClasses bounds the number of classes a dataset may have: a label
// beyond it is far likelier a corrupt file or a continuous column than a
// real class, and a run allocates a confusion matrix of Classes² counts.
const MaxClasses = 1 << 12
