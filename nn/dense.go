package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/tensor"
)

// Dense is a fully connected layer y = x Wᵀ + b with W stored Out×In, so
// that row i of W is unit i's incoming weight vector.
type Dense struct {
	// Origin notes where the layer came from when growth inserted it.
	Origin string

	W, B   *Param
	in     int
	x      *tensor.Tensor // cached input
	y, dx  *tensor.Tensor
	skipDx bool
	skipDW bool
}

// SkipInputGrad stops Backward from forming dL/dx (it returns nil).
func (d *Dense) SkipInputGrad(skip bool) { d.skipDx = skip }

// SkipParamGrad stops Backward from forming the gradients of W and b
// (their Grad is left as it is); dL/dx is unchanged, bitwise.
func (d *Dense) SkipParamGrad(skip bool) { d.skipDW = skip }

// NewDense makes an in→out layer with Kaiming-uniform weights drawn from r
// (PyTorch's default scale, bound 1/sqrt(in)).
func NewDense(in, out int, bias bool, r *rand.Rand) (*Dense, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("dense: sizes must be positive, got %d→%d", in, out)
	}
	d := &Dense{W: NewParam("W", out, in), in: in}
	bound := 1 / math.Sqrt(float64(in))
	if r != nil {
		for i := range d.W.Data {
			d.W.Data[i] = float32((2*r.Float64() - 1) * bound)
		}
	}
	if bias {
		d.B = NewParam("b", out, 1)
		d.B.NoDecay = true
		if r != nil {
			for i := range d.B.Data {
				d.B.Data[i] = float32((2*r.Float64() - 1) * bound)
			}
		}
	}
	return d, nil
}

func (d *Dense) Spec() LayerSpec {
	return LayerSpec{Kind: "dense", In: []int{d.in}, Out: d.W.Rows, Bias: d.B != nil, Origin: d.Origin}
}
func (d *Dense) OutShape() []int { return []int{d.W.Rows} }
func (d *Dense) SetIn(in []int)  { d.in = tensor.Numel(in) }
func (d *Dense) Params() []*Param {
	if d.B == nil {
		return []*Param{d.W}
	}
	return []*Param{d.W, d.B}
}

func (d *Dense) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	n := x.Shape[0]
	if x.Len() != n*d.in {
		panic(fmt.Sprintf("nn: dense expects %d inputs per example, got shape %v", d.in, x.Shape))
	}
	out := d.W.Rows
	d.x = x
	d.y = tensor.Reshape(d.y, n, out)
	if d.B != nil {
		for i := 0; i < n; i++ {
			copy(d.y.Data[i*out:(i+1)*out], d.B.Data)
		}
		tensor.Gemm(false, true, n, out, d.in, 1, x.Data, d.in, d.W.Data, d.in, 1, d.y.Data, out)
	} else {
		tensor.Gemm(false, true, n, out, d.in, 1, x.Data, d.in, d.W.Data, d.in, 0, d.y.Data, out)
	}
	return d.y
}

func (d *Dense) Backward(dy *tensor.Tensor) *tensor.Tensor {
	n, out := dy.Shape[0], d.W.Rows
	if !d.skipDW {
		tensor.Gemm(true, false, out, d.in, n, 1, dy.Data, out, d.x.Data, d.in, 1, d.W.Grad, d.in)
	}
	if d.B != nil && !d.skipDW {
		g := d.B.Grad
		for i := 0; i < n; i++ {
			row := dy.Data[i*out : (i+1)*out]
			for j, v := range row {
				g[j] += v
			}
		}
	}
	if d.skipDx {
		return nil
	}
	d.dx = tensor.Reshape(d.dx, d.x.Shape...)
	tensor.Gemm(false, false, n, d.in, out, 1, dy.Data, out, d.W.Data, d.in, 0, d.dx.Data, d.in)
	return d.dx
}

// Input is the input of the last Forward (the splitting statistics' p).
func (d *Dense) Input() *tensor.Tensor { return d.x }

// Producer.
func (d *Dense) Units() int        { return d.W.Rows }
func (d *Dense) FanIn() int        { return d.in }
func (d *Dense) Weight() *Param    { return d.W }
func (d *Dense) BiasParam() *Param { return d.B }
func (d *Dense) AppendUnits(in [][]float32, bias []float32) {
	d.W.AppendRows(in)
	if d.B != nil {
		rows := make([][]float32, len(in))
		for i := range rows {
			if i < len(bias) {
				rows[i] = []float32{bias[i]}
			}
		}
		d.B.AppendRows(rows)
	}
}
func (d *Dense) RemoveUnits(idx []int) {
	d.W.RemoveRows(idx)
	if d.B != nil {
		d.B.RemoveRows(idx)
	}
}

// Consumer: input unit j owns columns [j*spatial, (j+1)*spatial).
func (d *Dense) InputColumn(spatial, j int) []float32 {
	out := make([]float32, 0, d.W.Rows*spatial)
	for r := 0; r < d.W.Rows; r++ {
		out = append(out, d.W.Data[r*d.W.Cols+j*spatial:r*d.W.Cols+(j+1)*spatial]...)
	}
	return out
}
func (d *Dense) AppendInputs(spatial int, cols [][]float32) {
	appendInputCols(d.W, spatial, cols)
	d.in = d.W.Cols
}
func (d *Dense) ScaleInput(spatial, j int, s float32) { d.W.ScaleColGroup(spatial, j, s) }
func (d *Dense) RemoveInputs(spatial int, idx []int) {
	d.W.RemoveColGroups(spatial, idx)
	d.in = d.W.Cols
}

// appendInputCols appends input units to w whose data are given in
// InputColumn layout (Rows×g per unit).
func appendInputCols(w *Param, g int, cols [][]float32) {
	from := make([]int, len(cols))
	scale := make([]float32, len(cols))
	for i := range from {
		from[i] = -1
	}
	old := w.Cols
	w.AppendColGroups(g, from, scale)
	for i, c := range cols {
		if c == nil {
			continue
		}
		if len(c) != w.Rows*g {
			panic(fmt.Sprintf("nn: input column has %d values, want %d", len(c), w.Rows*g))
		}
		for r := 0; r < w.Rows; r++ {
			copy(w.Data[r*w.Cols+old+i*g:r*w.Cols+old+(i+1)*g], c[r*g:(r+1)*g])
		}
	}
}
