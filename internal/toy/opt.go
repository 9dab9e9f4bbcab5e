package toy

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Optimizer updates a flat parameter vector in place from its gradient.
// Reset forgets any state; the experiments call it whenever the network
// grows, for every method alike (the parameter vector changes length).
type Optimizer interface {
	Step(params, grad []float64)
	Reset()
}

// GD is plain (full-batch) gradient descent.
type GD struct{ LR float64 }

// Step is params −= LR·grad.
func (g *GD) Step(params, grad []float64) { floats.AddScaled(params, -g.LR, grad) }

// Reset does nothing: gradient descent has no state.
func (g *GD) Reset() {}

// Adam is Kingma & Ba's method with bias correction (β₁ = 0.9,
// β₂ = 0.999, ε = 1e-8).
type Adam struct {
	LR   float64
	m, v []float64
	t    int
}

// Step performs one Adam update.
func (a *Adam) Step(params, grad []float64) {
	if len(a.m) != len(params) {
		a.m, a.v, a.t = make([]float64, len(params)), make([]float64, len(params)), 0
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1 := 1 - math.Pow(b1, float64(a.t))
	c2 := 1 - math.Pow(b2, float64(a.t))
	for k, g := range grad {
		a.m[k] = b1*a.m[k] + (1-b1)*g
		a.v[k] = b2*a.v[k] + (1-b2)*g*g
		params[k] -= a.LR * (a.m[k] / c1) / (math.Sqrt(a.v[k]/c2) + eps)
	}
}

// Reset clears the moment estimates.
func (a *Adam) Reset() { a.m, a.v, a.t = nil, nil, 0 }

// NewOptimizer returns "gd" or "adam" with learning rate lr.
func NewOptimizer(name string, lr float64) (Optimizer, error) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("learning rate %v: must be positive and finite", lr)
	}
	switch name {
	case "gd":
		return &GD{LR: lr}, nil
	case "adam":
		return &Adam{LR: lr}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (want gd or adam)", name)
}

// Train takes steps full-batch optimiser steps on d. If record is non-nil
// it receives the loss before every step. It returns the final loss, or an
// error if the loss stops being finite or ctx is cancelled.
func Train(ctx context.Context, n *Net, d *Data, opt Optimizer, steps int, record func(loss float64)) (float64, error) {
	p := n.Params(nil)
	g := make([]float64, len(p))
	for s := 0; s < steps; s++ {
		if s%256 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		l := n.Gradient(d, g)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, errNotFinite
		}
		if record != nil {
			record(l)
		}
		opt.Step(p, g)
		n.SetParams(p)
	}
	l := n.Loss(d)
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return 0, errNotFinite
	}
	return l, nil
}

// Hessian returns the Hessian of the loss with respect to the flat
// parameters (the layout of Params), by central differences of the exact
// gradient (error O(h²) with h = 1e-5·max(1, |x_k|)), symmetrised. The
// networks here have tens of parameters, so 2·NumParams gradients are
// cheap.
func (n *Net) Hessian(d *Data) *mat.SymDense {
	x := n.Params(nil)
	dim := len(x)
	work := n.Clone()
	gp, gm := make([]float64, dim), make([]float64, dim)
	cols := mat.NewDense(dim, dim, nil)
	for k := range x {
		h := 1e-5 * math.Max(1, math.Abs(x[k]))
		xk := x[k]
		x[k] = xk + h
		work.SetParams(x)
		work.Gradient(d, gp)
		x[k] = xk - h
		work.SetParams(x)
		work.Gradient(d, gm)
		x[k] = xk
		for t := range gp {
			cols.Set(t, k, (gp[t]-gm[t])/(2*h))
		}
	}
	hs := mat.NewSymDense(dim, nil)
	for a := 0; a < dim; a++ {
		for b := a; b < dim; b++ {
			hs.SetSym(a, b, (cols.At(a, b)+cols.At(b, a))/2)
		}
	}
	return hs
}

// Polish drives the loss to a local minimum by damped Newton steps
// (Levenberg–Marquardt damping of the Hessian, adapted after every trial
// step) until the gradient 2-norm is below gradTol or maxIter steps have
// been tried. It returns the final loss and gradient norm. It is how the
// stuck experiment turns Adam's approximate solution into a genuine local
// minimum: first-order methods crawl in the ill-conditioned valleys near
// one, while Newton converges quadratically (the nets are tiny).
func Polish(n *Net, d *Data, gradTol float64, maxIter int) (loss, gradNorm float64, err error) {
	x := n.Params(nil)
	dim := len(x)
	g := make([]float64, dim)
	f := n.Gradient(d, g)
	gn := make([]float64, dim)
	xn := make([]float64, dim)
	step := mat.NewVecDense(dim, nil)
	mu := 1e-6
	var chol mat.Cholesky
	for it := 0; it < maxIter && floats.Norm(g, 2) > gradTol; it++ {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, 0, errNotFinite
		}
		h := n.Hessian(d)
		scale := 0.0
		for k := 0; k < dim; k++ {
			scale = math.Max(scale, math.Abs(h.At(k, k)))
		}
		scale = math.Max(scale, 1e-12)
		for k := 0; k < dim; k++ {
			h.SetSym(k, k, h.At(k, k)+mu*scale)
		}
		if !chol.Factorize(h) {
			mu = math.Max(mu*10, 1e-10)
			continue
		}
		if err := chol.SolveVecTo(step, mat.NewVecDense(dim, g)); err != nil {
			mu = math.Max(mu*10, 1e-10)
			continue
		}
		floats.SubTo(xn, x, step.RawVector().Data)
		n.SetParams(xn)
		fn := n.Gradient(d, gn)
		// Accept a decrease, or — once f no longer resolves the decrease —
		// a step that keeps f and shrinks the gradient.
		if fn < f || (fn <= f+1e-14*math.Abs(f) && floats.Norm(gn, 2) < floats.Norm(g, 2)) {
			copy(x, xn)
			copy(g, gn)
			f = fn
			mu = math.Max(mu/4, 1e-15)
		} else {
			n.SetParams(x)
			mu = math.Min(mu*8, 1e12)
		}
	}
	n.SetParams(x)
	loss = n.Gradient(d, g)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, 0, errNotFinite
	}
	return loss, floats.Norm(g, 2), nil
}
