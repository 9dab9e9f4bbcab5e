package nn

import (
	"fmt"
	"math"

	"github.com/nadir-ml/nadir/tensor"
)

// SoftmaxCE is the batch-mean softmax cross-entropy of logits against
// integer labels. Forward keeps the probabilities for Backward.
type SoftmaxCE struct {
	p, dx *tensor.Tensor
	y     []int
}

// Forward returns the mean loss over the batch; losses are accumulated in
// float64 so the value does not depend on the batch size's rounding.
func (l *SoftmaxCE) Forward(logits *tensor.Tensor, y []int) float64 {
	n, k := logits.Shape[0], logits.Shape[1]
	if len(y) != n {
		panic(fmt.Sprintf("nn: %d labels for %d logits rows", len(y), n))
	}
	l.p = tensor.Reshape(l.p, n, k)
	l.y = y
	var total float64
	for i := 0; i < n; i++ {
		row := logits.Data[i*k : (i+1)*k]
		pr := l.p.Data[i*k : (i+1)*k]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			pr[j] = float32(e)
			s += e
		}
		inv := 1 / s
		for j := range pr {
			pr[j] = float32(float64(pr[j]) * inv)
		}
		if y[i] < 0 || y[i] >= k {
			panic(fmt.Sprintf("nn: label %d out of range [0,%d)", y[i], k))
		}
		total += math.Log(s) - float64(row[y[i]]-m)
	}
	return total / float64(n)
}

// Backward returns dL/dlogits of the mean loss.
func (l *SoftmaxCE) Backward() *tensor.Tensor {
	n, k := l.p.Shape[0], l.p.Shape[1]
	l.dx = tensor.Reshape(l.dx, n, k)
	inv := float32(1) / float32(n)
	for i := 0; i < n; i++ {
		pr := l.p.Data[i*k : (i+1)*k]
		d := l.dx.Data[i*k : (i+1)*k]
		for j, v := range pr {
			d[j] = v * inv
		}
		d[l.y[i]] -= inv
	}
	return l.dx
}

// Probs are the softmax probabilities of the last Forward.
func (l *SoftmaxCE) Probs() *tensor.Tensor { return l.p }

// MSE is the batch-mean of ½‖pred − target‖² per example.
type MSE struct {
	diff, dx *tensor.Tensor
}

// Forward returns (1/N) Σ_n ½‖pred_n − target_n‖².
func (l *MSE) Forward(pred, target *tensor.Tensor) float64 {
	if pred.Len() != target.Len() {
		panic(fmt.Sprintf("nn: mse shapes %v and %v differ", pred.Shape, target.Shape))
	}
	l.diff = tensor.Reshape(l.diff, pred.Shape...)
	var s float64
	for i := range l.diff.Data {
		d := pred.Data[i] - target.Data[i]
		l.diff.Data[i] = d
		s += float64(d) * float64(d)
	}
	return s / 2 / float64(pred.Shape[0])
}

// Backward returns dL/dpred.
func (l *MSE) Backward() *tensor.Tensor {
	l.dx = tensor.Reshape(l.dx, l.diff.Shape...)
	inv := 1 / float32(l.diff.Shape[0])
	for i, d := range l.diff.Data {
		l.dx.Data[i] = d * inv
	}
	return l.dx
}

// Argmax returns the index of the largest value in each row of an N×K tensor.
func Argmax(dst []int, t *tensor.Tensor) []int {
	n, k := t.Shape[0], t.Len()/t.Shape[0]
	dst = dst[:0]
	for i := 0; i < n; i++ {
		row := t.Data[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		dst = append(dst, best)
	}
	return dst
}
