package split

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refReluCoefficients is the float32 coefficient path as it was before
// the coefficients went unit-major through tensor.SoftplusD2Times: dst is
// [n·pos, units]. The tests hold the new path to its bits.
func refReluCoefficients(dst, z, g []float32, n, units, pos int, scale []float32, beta, mult float32) {
	idx := make([]int32, pos)
	for e := 0; e < n; e++ {
		for i := 0; i < units; i++ {
			bb := mult * beta
			if scale != nil {
				bb *= scale[i] * scale[i]
			}
			base := (e*units + i) * pos
			gs, zs := g[base:base+pos], z[base:base+pos]
			d := dst[e*pos*units+i:]
			k := 0
			for q, gv := range gs {
				d[q*units] = gv * 0
				idx[k] = int32(q)
				u := math.Float32bits(gv) &^ (1 << 31)
				k += int((u | -u) >> 31)
			}
			for _, q := range idx[:k] {
				x := beta * zs[q]
				if x > 0 {
					x = -x
				}
				ex := refExpNeg32(x)
				d[int(q)*units] = gs[q] * (ex / ((1 + ex) * (1 + ex))) * bb
			}
		}
	}
}

func refExpNeg32(x float32) float32 {
	x = max(x, -87)
	n := float32(int32(x*1.44269504088896341 - 0.5))
	r := x - n*0.693359375 + n*2.12194440e-4
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	return (p*r*r + r + 1) * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// coef is neuron i's coefficient at row m, from C or CT.
func coef(st *LayerStats, m, i int) float32 {
	if st.CT != nil {
		return st.CT[i*st.M+m]
	}
	return st.C[m*st.Units+i]
}

// unitMajor returns a copy of st with its coefficients in CT instead of C.
func unitMajor(st *LayerStats) *LayerStats {
	t := *st
	t.C, t.CT = nil, make([]float32, len(st.C))
	for m := 0; m < st.M; m++ {
		for i := 0; i < st.Units; i++ {
			t.CT[i*st.M+m] = st.C[m*st.Units+i]
		}
	}
	return &t
}

// The unit-major coefficients (Collect's Fast32 path) are the row-major
// path's bits, and everything that reads them — the batched products (all
// rows, a sample of rows, explicit rows), the pairwise forming and the
// conversion back — gives the same bits from either layout.
func TestUnitMajorCoefficients(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	n, units, pos := 3, 5, 37
	z, g := make([]float32, n*units*pos), make([]float32, n*units*pos)
	for i := range z {
		z[i] = float32(r.NormFloat64() * 2)
		if r.IntN(3) == 0 {
			g[i] = float32(r.NormFloat64())
		} else if r.IntN(2) == 0 {
			g[i] = float32(math.Copysign(0, -1))
		}
	}
	scale := []float32{0.5, 1.5, 2, 0.9, 1.1}
	for _, sc := range [][]float32{nil, scale} {
		want := make([]float32, n*pos*units)
		refReluCoefficients(want, z, g, n, units, pos, sc, 3, 0.8)
		stride, m0 := (n+2)*pos, 2*pos // rows [m0, m0+n·pos) of a longer CT
		ct := make([]float32, units*stride)
		reluCoefficients(ct, stride, m0, z, g, n, units, pos, sc, 3, 0.8)
		for m := 0; m < n*pos; m++ {
			for i := 0; i < units; i++ {
				if a, b := ct[i*stride+m0+m], want[m*units+i]; math.Float32bits(a) != math.Float32bits(b) {
					t.Fatalf("scale %v row %d unit %d: %g, before %g", sc != nil, m, i, a, b)
				}
			}
		}
	}

	st := synthConv(6, 12, 14, 14, 5) // K = 108: the batched path
	st.Batches, st.BatchRows = 2, []int{0, 3 * st.Pos, st.M}
	ut := unitMajor(st)
	for _, o := range []SolverOptions{
		{Seed: 2, MinOnly: true, Tol: 1e-3, LooseTol: 1e-2, MaxIter: 8},
		{Seed: 2, Sample: 0.5},
	} {
		for _, rows := range []bool{false, true} {
			a, b := st, ut
			if rows {
				a, b = explicitRows(st), explicitRows(ut)
				b.X, a.X = nil, nil
			}
			ea, err := Solve(context.Background(), a, o)
			if err != nil {
				t.Fatal(err)
			}
			eb, err := Solve(context.Background(), b, o)
			if err != nil {
				t.Fatal(err)
			}
			if b.CT == nil {
				t.Fatal("the batched solve converted the coefficients")
			}
			for i := range ea {
				if ea[i].LambdaMin != eb[i].LambdaMin || ea[i].LambdaMax != eb[i].LambdaMax || !slices.Equal(ea[i].VMin, eb[i].VMin) {
					t.Fatalf("%+v explicit %v neuron %d: unit-major coefficients give another spectrum", o, rows, i)
				}
			}
		}
	}
	small := synthConv(5, 1, 28, 28, 16) // the first layer's pairwise forming
	if !slices.Equal(small.formPairs(), unitMajor(small).formPairs()) {
		t.Fatal("formPairs differs with unit-major coefficients")
	}
	back := unitMajor(st)
	back.rowMajor()
	if back.CT != nil || !slices.Equal(back.C, st.C) {
		t.Fatal("rowMajor does not give C back")
	}
}
