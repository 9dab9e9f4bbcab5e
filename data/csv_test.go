package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const irisLike = `sepal,petal,species,width
1.5,2,setosa,0.25
3,4.5,virginica,1
-1,0,setosa,2e1
`

func TestLoadCSVHeaderLabelByName(t *testing.T) {
	path := writeFile(t, "flowers.csv", []byte(irisLike))
	d, err := LoadCSV(path, "species")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Name != "flowers" || !slices.Equal(d.Shape, []int{3}) || d.Len() != 3 {
		t.Fatalf("name %q shape %v len %d", d.Name, d.Shape, d.Len())
	}
	if want := []float32{1.5, 2, 0.25, 3, 4.5, 1, -1, 0, 20}; !slices.Equal(d.X, want) {
		t.Fatalf("X = %v, want %v", d.X, want)
	}
	if !slices.Equal(d.Y, []int{0, 1, 0}) || d.Classes != 2 || !slices.Equal(d.ClassNames, []string{"setosa", "virginica"}) {
		t.Fatalf("Y %v classes %d names %v", d.Y, d.Classes, d.ClassNames)
	}

	// The same file, gzip-compressed and with the label given by index.
	gz := writeFile(t, "flowers.csv.gz", gzipBytes(t, []byte(irisLike)))
	for _, label := range []string{"2", "-2"} {
		g, err := LoadCSV(gz, label)
		if err != nil {
			t.Fatalf("label %s: %v", label, err)
		}
		if g.Name != "flowers" || !slices.Equal(g.X, d.X) || !slices.Equal(g.Y, d.Y) {
			t.Fatalf("label %s: got X %v Y %v", label, g.X, g.Y)
		}
	}
}

func TestReadCSVLabels(t *testing.T) {
	cases := []struct {
		name, text, label string
		x                 []float32
		y                 []int
		classNames        []string
	}{
		{"no-header-last", "1,2,7\n3,4,5\n5,6,7\n", "", []float32{1, 2, 3, 4, 5, 6}, []int{1, 0, 1}, []string{"5", "7"}},
		{"no-header-first", "7,1,2\n5,3,4\n", "0", []float32{1, 2, 3, 4}, []int{1, 0}, []string{"5", "7"}},
		{"numeric-sort", "1,10\n2,9\n3,10.0\n4,-1\n", "", []float32{1, 2, 3, 4}, []int{2, 1, 2, 0}, []string{"-1", "9", "10"}},
		{"string-labels-no-header", "1,b\n2,a\n3,b\n", "", []float32{1, 2, 3}, []int{1, 0, 1}, []string{"a", "b"}},
		{"header-only-label-name", "1,2,class\n3,4,0\n5,6,1\n", "", []float32{3, 4, 5, 6}, []int{0, 1}, []string{"0", "1"}},
		{"header-detected", "a,b,y\n1,2,0\n", "-1", []float32{1, 2}, []int{0}, []string{"0"}},
		// scikit-learn's layout: "n_samples,n_features,class names" above wider rows.
		{"sklearn", "2,3,c0,c1\n1,2,3,0\n4,5,6,1\n", "", []float32{1, 2, 3, 4, 5, 6}, []int{0, 1}, []string{"c0", "c1"}},
		{"sklearn-mismatch", "9,3,c0,c1\n1,2,3,0\n4,5,6,1\n", "", []float32{1, 2, 3, 4, 5, 6}, []int{0, 1}, []string{"0", "1"}},
		{"sklearn-label-index", "2,2,c0,c1\n1,2,0\n4,5,1\n", "2", []float32{1, 2, 4, 5}, []int{0, 1}, []string{"c0", "c1"}},
		{"narrow-header-label-index", "n,m,c0\n1,2,3,0\n4,5,6,1\n", "3", []float32{1, 2, 3, 4, 5, 6}, []int{0, 1}, []string{"0", "1"}},
		{"quoted-spaces", "x, \"y\"\n 1, 2\n", "x", []float32{2}, []int{0}, []string{"1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(c.text), c.name, c.label)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.X, c.x) || !slices.Equal(d.Y, c.y) || !slices.Equal(d.ClassNames, c.classNames) {
				t.Fatalf("X %v Y %v names %v; want %v %v %v", d.X, d.Y, d.ClassNames, c.x, c.y, c.classNames)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, text, label string
		want              []string
	}{
		{"non-numeric", "a,b,y\n1,2,0\n3,oops,1\n", "", []string{"non-numeric:3:", "column 2 (\"b\")", `"oops"`}},
		{"non-numeric-no-header", "1,2,0\n3,4,1\n5,6,1\nx,7,0\n", "", []string{"non-numeric-no-header:4:", "column 1", `"x"`}},
		{"missing", "1,2,0\n3,,1\n", "", []string{":2:", "column 2", "not a finite number"}},
		{"nan", "1,2,0\n3,NaN,1\n", "", []string{":2:", "not a finite number"}},
		{"ragged", "1,2,0\n3,4\n", "", []string{"ragged:2:", "2 columns, want 3"}},
		{"no-such-name", "a,b\n1,2\n", "c", []string{`no column named "c"`, `"a", "b"`}},
		{"name-without-header", "1,2\n3,4\n", "c", []string{`no column named "c"`}},
		{"index-range", "1,2\n3,4\n", "5", []string{"label column 5 out of range for 2 columns"}},
		{"one-column", "1\n2\n", "", []string{"need a label and at least one feature"}},
		{"empty", "", "", []string{"no rows"}},
		{"header-only", "a,b\n", "b", []string{"no data rows"}},
		{"empty-label", "1,2\n3,\n", "", []string{":2:", "empty label"}},
		{"bad-quote", "1,2\n3,\"4\n", "", []string{"bad-quote:", "extraneous or missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(c.text), c.name, c.label)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	path := writeFile(t, "bad.csv", []byte("a,b\n1,x\n"))
	if _, err := LoadCSV(path, "a"); err == nil || !strings.Contains(err.Error(), path+":2: column 2") {
		t.Errorf("LoadCSV error %v does not name file, line and column", err)
	}
}
