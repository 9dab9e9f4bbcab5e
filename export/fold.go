package export

import (
	"math"

	"github.com/nadir-ml/nadir/nn"
)

// FoldBatchNorm returns a copy of net in which every BatchNorm that directly
// follows a conv or dense layer is folded into that layer's weights and
// bias, using the running statistics (evaluation mode):
//
//	s_c = γ_c / sqrt(var_c + ε);  W'_c = s_c·W_c;  b'_c = s_c·(b_c − mean_c) + β_c
//
// The folded layer gains a bias. The arithmetic is float64, rounded once.
// The result computes the same function as net in evaluation mode, up to
// float32 rounding; other BatchNorm layers are kept.
func FoldBatchNorm(net *nn.Net) (*nn.Net, error) {
	spec := net.Spec()
	var out nn.NetSpec
	out.In = spec.In
	type fold struct{ producer, bn int }
	var folds []fold
	newIndex := make([]int, len(net.Layers)) // old layer → new layer (-1: folded away)
	for i := 0; i < len(spec.Layers); i++ {
		ls := spec.Layers[i]
		newIndex[i] = len(out.Layers)
		if (ls.Kind == "conv2d" || ls.Kind == "dense") && i+1 < len(spec.Layers) && spec.Layers[i+1].Kind == "batchnorm" {
			ls.Bias = true
			folds = append(folds, fold{i, i + 1})
			out.Layers = append(out.Layers, ls)
			newIndex[i+1] = -1
			i++
			continue
		}
		out.Layers = append(out.Layers, ls)
	}
	res, err := nn.Build(out, nil)
	if err != nil {
		return nil, err
	}
	if err := copyState(net, res, newIndex); err != nil {
		return nil, err
	}
	for _, f := range folds {
		bn := net.Layers[f.bn].(*nn.BatchNorm)
		ps := res.Layers[newIndex[f.producer]].Params()
		w, b := ps[0], ps[1]
		var oldB []float32
		if old := net.Layers[f.producer].Params(); len(old) > 1 {
			oldB = old[1].Data
		}
		rows := w.Len() / w.Rows
		for c := 0; c < w.Rows; c++ {
			s := float64(bn.Gamma.Data[c]) / math.Sqrt(float64(bn.RunVar[c])+bn.Eps)
			for j := c * rows; j < (c+1)*rows; j++ {
				w.Data[j] = float32(float64(w.Data[j]) * s)
			}
			bias := 0.0
			if oldB != nil {
				bias = float64(oldB[c])
			}
			b.Data[c] = float32(s*(bias-float64(bn.RunMean[c])) + float64(bn.Beta.Data[c]))
		}
	}
	return res, nil
}

// copyState copies parameters and buffers of each src layer into dst layer
// newIndex[i] (skipping -1); a dst layer may have a bias its source lacks,
// which then stays zero.
func copyState(src, dst *nn.Net, newIndex []int) error {
	for i, l := range src.Layers {
		j := newIndex[i]
		if j < 0 {
			continue
		}
		sp, dp := l.Params(), dst.Layers[j].Params()
		for k := range sp {
			copy(dp[k].Data, sp[k].Data)
		}
		if sb, ok := l.(nn.Buffered); ok {
			db := dst.Layers[j].(nn.Buffered)
			for k, s := range sb.Buffers() {
				copy(*db.Buffers()[k], *s)
			}
		}
	}
	return nil
}
