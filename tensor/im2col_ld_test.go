package tensor

import (
	"math/rand/v2"
	"testing"
)

// Im2ColLd writes Im2Col's rows ld apart and leaves the gaps between them
// untouched, on both paths.
func TestIm2ColLdMatchesIm2Col(t *testing.T) { bothPaths(t, testIm2ColLdMatchesIm2Col) }

func testIm2ColLdMatchesIm2Col(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range convCases(r) {
		oh, ow := g.out()
		p, rows := oh*ow, g.c*g.kh*g.kw
		x := randSlice(r, g.c*g.h*g.w)
		want := make([]float32, rows*p)
		Im2Col(want, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
		for _, extra := range []int{0, 1, 2*p + 3} {
			ld := p + extra
			dst := randSlice(r, rows*ld)
			before := append([]float32(nil), dst...)
			// Start at an offset, as an image placed right of others is.
			off := min(extra, 1)
			Im2ColLd(dst[off:], ld, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			for i := range dst {
				rr, q := (i-off)/ld, (i-off)%ld
				if i >= off && rr < rows && q < p {
					if dst[i] != want[rr*p+q] {
						t.Fatalf("%v ld %d: row %d col %d = %v, want %v", g, ld, rr, q, dst[i], want[rr*p+q])
					}
				} else if dst[i] != before[i] {
					t.Fatalf("%v ld %d: wrote outside the rows at %d", g, ld, i)
				}
			}
		}
	}
}

func TestIm2ColLdPanicsOnShortStride(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for ld below the row length")
		}
	}()
	Im2ColLd(make([]float32, 100), 8, make([]float32, 9), 1, 3, 3, 3, 3, 1, 1)
}

// BenchmarkIm2ColLd is five 7×7 images' patches side by side (Net.Infer's
// image groups), against Im2Col and a copy per row.
func BenchmarkIm2ColLd(b *testing.B) {
	g, imgs := convCase{16, 7, 7, 3, 3, 1, 1}, 5
	oh, ow := g.out()
	p, rows := oh*ow, g.c*g.kh*g.kw
	x := make([]float32, g.c*g.h*g.w)
	wide := make([]float32, rows*p*imgs)
	col := make([]float32, rows*p)
	b.Run("ld", func(b *testing.B) {
		for b.Loop() {
			for j := range imgs {
				Im2ColLd(wide[j*p:], imgs*p, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
			}
		}
	})
	b.Run("copy", func(b *testing.B) {
		for b.Loop() {
			for j := range imgs {
				Im2Col(col, x, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad)
				for r := range rows {
					copy(wide[r*imgs*p+j*p:r*imgs*p+(j+1)*p], col[r*p:(r+1)*p])
				}
			}
		}
	})
}
