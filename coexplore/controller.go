package coexplore

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
)

// Decision is one choice the controller makes: which of Choices.
type Decision struct {
	Name    string `json:"name"`
	Choices []int  `json:"choices"`
}

// Controller is the REINFORCE policy of METHODS §5.4: an LSTM reads the
// embedding of the previous decision's choice (a learned start vector at
// the first) and a per-decision softmax head turns its hidden state into
// the next decision's distribution. Every decision has its own embedding
// table and head.
type Controller struct {
	Decisions []Decision
	Hidden    int
	LSTM      *nn.LSTM
	Start     *nn.Param   // 1×H
	Emb       []*nn.Param // per decision: |choices|×H
	HeadW     []*nn.Param // per decision: |choices|×H
	HeadB     []*nn.Param // per decision: |choices|×1
	Opt       *optim.RMSprop
	// LR decays by half every DecaySteps updates (staircase), as in the
	// reference controller. The reference starts at 0.99 with
	// TensorFlow's RMSProp; nadir's default is 0.01 because with
	// PyTorch-form RMSprop (optim.RMSprop) a rate near 1 moves every
	// logit by about 1 per step and the policy collapses in a few
	// episodes.
	LR         float64
	DecaySteps int
	Steps      int

	cache  nn.LSTMCache
	h, c   []float32
	x, scr []float32
	logits []float64
}

// NewController makes a controller with H hidden units; embeddings are
// uniform in ±1 (the reference's initialisation).
func NewController(ds []Decision, hidden int, lr float64, decaySteps int, r *rand.Rand) *Controller {
	k := &Controller{Decisions: ds, Hidden: hidden, LR: lr, DecaySteps: decaySteps,
		LSTM: nn.NewLSTM("ctrl", hidden, hidden, r), Start: nn.NewParam("start", 1, hidden),
		Opt: &optim.RMSprop{Alpha: 0.9, Eps: 1e-6}}
	uni := func(p *nn.Param, s float64) {
		for i := range p.Data {
			p.Data[i] = float32((2*r.Float64() - 1) * s)
		}
	}
	uni(k.Start, 1)
	hs := 1 / math.Sqrt(float64(hidden))
	for i, d := range ds {
		e := nn.NewParam(fmt.Sprintf("emb%d", i), len(d.Choices), hidden)
		w := nn.NewParam(fmt.Sprintf("head%d.w", i), len(d.Choices), hidden)
		b := nn.NewParam(fmt.Sprintf("head%d.b", i), len(d.Choices), 1)
		b.NoDecay = true
		uni(e, 1)
		uni(w, hs)
		k.Emb, k.HeadW, k.HeadB = append(k.Emb, e), append(k.HeadW, w), append(k.HeadB, b)
	}
	return k
}

// Params lists every trainable tensor in a fixed order.
func (k *Controller) Params() []*nn.Param {
	ps := append([]*nn.Param{k.Start}, k.LSTM.Params()...)
	for i := range k.Decisions {
		ps = append(ps, k.Emb[i], k.HeadW[i], k.HeadB[i])
	}
	return ps
}

// input returns the LSTM input of position d given the choices so far.
func (k *Controller) input(d int, choices []int) []float32 {
	if d == 0 {
		return k.Start.Data
	}
	H := k.Hidden
	return k.Emb[d-1].Data[choices[d-1]*H : (choices[d-1]+1)*H]
}

// softmax fills k.logits with the probabilities of decision d from h.
func (k *Controller) softmax(d int, h []float32) []float64 {
	n := len(k.Decisions[d].Choices)
	H := k.Hidden
	k.logits = k.logits[:0]
	m := math.Inf(-1)
	for j := 0; j < n; j++ {
		z := float64(k.HeadB[d].Data[j])
		w := k.HeadW[d].Data[j*H : (j+1)*H]
		for i, v := range h {
			z += float64(w[i]) * float64(v)
		}
		k.logits = append(k.logits, z)
		m = max(m, z)
	}
	var s float64
	for j := range k.logits {
		k.logits[j] = math.Exp(k.logits[j] - m)
		s += k.logits[j]
	}
	for j := range k.logits {
		k.logits[j] /= s
	}
	return k.logits
}

// Sample draws choice indices for every decision. The first len(prefix)
// decisions are not drawn but taken from prefix (the network part when
// only the hardware is re-sampled).
func (k *Controller) Sample(r *rand.Rand, prefix []int) []int {
	H := k.Hidden
	if len(k.h) != H {
		k.h, k.c, k.scr = make([]float32, H), make([]float32, H), make([]float32, 4*H)
	}
	clear(k.h)
	clear(k.c)
	out := make([]int, len(k.Decisions))
	for d := range k.Decisions {
		k.LSTM.Step(k.h, k.c, k.input(d, out), k.scr)
		if d < len(prefix) {
			out[d] = prefix[d]
			continue
		}
		p := k.softmax(d, k.h)
		u := r.Float64()
		j := 0
		for ; j < len(p)-1; j++ {
			if u -= p[j]; u < 0 {
				break
			}
		}
		out[d] = j
	}
	return out
}

// Update takes one REINFORCE step: the gradient of
// advantage·(−mean over used decisions of log π(choice)), clipped to norm 5,
// then RMSprop. used marks the decisions that shaped the child (nil: all).
func (k *Controller) Update(choices []int, used []bool, advantage float64) {
	if !k.Grad(choices, used, advantage) {
		return
	}
	ps := k.Params()
	optim.ClipGradNorm(ps, 5)
	lr := k.LR
	if k.DecaySteps > 0 {
		lr *= math.Pow(0.5, float64(k.Steps/k.DecaySteps))
	}
	k.Opt.Step(ps, lr)
	k.Steps++
}

// Grad sets the parameters' gradients to those of
// −advantage·mean over used decisions of log π(choice); it reports false
// when no decision is used.
func (k *Controller) Grad(choices []int, used []bool, advantage float64) bool {
	D, H := len(k.Decisions), k.Hidden
	ps := k.Params()
	for _, p := range ps {
		p.ZeroGrad()
	}
	k.x = k.x[:0]
	for d := 0; d < D; d++ {
		k.x = append(k.x, k.input(d, choices)...)
	}
	hs := k.LSTM.Forward(&k.cache, k.x, D, 1, nil, nil)
	n := 0
	for d := 0; d < D; d++ {
		if used == nil || used[d] {
			n++
		}
	}
	if n == 0 {
		return false
	}
	dh := make([]float32, D*H)
	for d := 0; d < D; d++ {
		if used != nil && !used[d] {
			continue
		}
		h := hs[d*H : (d+1)*H]
		p := k.softmax(d, h)
		for j, pj := range p {
			g := pj
			if j == choices[d] {
				g--
			}
			g *= advantage / float64(n)
			gf := float32(g)
			k.HeadB[d].Grad[j] += gf
			w := k.HeadW[d].Data[j*H : (j+1)*H]
			wg := k.HeadW[d].Grad[j*H : (j+1)*H]
			for i := range h {
				wg[i] += gf * h[i]
				dh[d*H+i] += gf * w[i]
			}
		}
	}
	dx, _, _ := k.LSTM.Backward(&k.cache, dh, nil, nil)
	for d := 0; d < D; d++ {
		g := dx[d*H : (d+1)*H]
		var dst []float32
		if d == 0 {
			dst = k.Start.Grad
		} else {
			c := choices[d-1]
			dst = k.Emb[d-1].Grad[c*H : (c+1)*H]
		}
		for i, v := range g {
			dst[i] += v
		}
	}
	return true
}

// Probs returns the distribution of every decision for the given choices
// (teacher-forced), for tests and reports.
func (k *Controller) Probs(choices []int) [][]float64 {
	H := k.Hidden
	h, c, scr := make([]float32, H), make([]float32, H), make([]float32, 4*H)
	var out [][]float64
	for d := range k.Decisions {
		k.LSTM.Step(h, c, k.input(d, choices), scr)
		out = append(out, append([]float64(nil), k.softmax(d, h)...))
	}
	return out
}

// paramState is one tensor of a checkpoint.
type paramState struct {
	Data  []float32   `json:"data"`
	Slots [][]float32 `json:"slots,omitempty"`
}

type controllerState struct {
	Steps  int          `json:"steps"`
	Params []paramState `json:"params"`
}

func (k *Controller) state() controllerState {
	s := controllerState{Steps: k.Steps}
	for _, p := range k.Params() {
		s.Params = append(s.Params, paramState{Data: p.Data, Slots: p.Slots})
	}
	return s
}

func (k *Controller) restore(s controllerState) error {
	ps := k.Params()
	if len(s.Params) != len(ps) {
		return fmt.Errorf("controller checkpoint has %d tensors, want %d", len(s.Params), len(ps))
	}
	for i, p := range ps {
		if len(s.Params[i].Data) != p.Len() {
			return fmt.Errorf("controller checkpoint: tensor %s has %d values, want %d", p.Name, len(s.Params[i].Data), p.Len())
		}
		copy(p.Data, s.Params[i].Data)
		p.Slots = s.Params[i].Slots
	}
	k.Steps = s.Steps
	return nil
}
