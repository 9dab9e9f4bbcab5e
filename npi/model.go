package npi

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/tensor"
)

// ModelConfig fixes a model's architecture; with the task it rebuilds the
// model exactly.
type ModelConfig struct {
	Task      string `json:"task"`
	Recursive bool   `json:"recursive"`
	Hidden    int    `json:"hidden"`     // LSTM units
	Enc       int    `json:"enc"`        // encoder width
	EncLayers int    `json:"enc_layers"` // tanh layers in the encoder
	ProgEmbed int    `json:"prog_embed"` // program embedding size
	KeyDim    int    `json:"key_dim"`    // program key size
}

// DefaultModelConfig is a one-layer LSTM of 64 units: the observations are a
// few bits or digits, so the core needs little width.
func DefaultModelConfig(task string, recursive bool) ModelConfig {
	return ModelConfig{Task: task, Recursive: recursive, Hidden: 64, Enc: 64, EncLayers: 1, ProgEmbed: 16, KeyDim: 16}
}

func (c ModelConfig) validate() error {
	if c.Hidden < 1 || c.Enc < 1 || c.EncLayers < 1 || c.ProgEmbed < 1 || c.KeyDim < 1 {
		return fmt.Errorf("model sizes must be positive: %+v", c)
	}
	return nil
}

// dense is y = x·Wᵀ + b with W out×in.
type dense struct {
	W, B    *nn.Param
	in, out int
	wT      []float32 // in×out copy for the forward product
}

func newDense(name string, in, out int, r *rand.Rand) *dense {
	d := &dense{W: nn.NewParam(name+".w", out, in), B: nn.NewParam(name+".b", out, 1), in: in, out: out}
	d.B.NoDecay = true
	s := math.Sqrt(6 / float64(in+out))
	for i := range d.W.Data {
		d.W.Data[i] = float32((2*r.Float64() - 1) * s)
	}
	return d
}

// forward writes rows×out outputs.
func (d *dense) forward(x []float32, rows int, y []float32) {
	d.wT = grow(d.wT, d.in*d.out)
	for o := 0; o < d.out; o++ {
		for i, v := range d.W.Data[o*d.in : (o+1)*d.in] {
			d.wT[i*d.out+o] = v
		}
	}
	tensor.Gemm(false, false, rows, d.out, d.in, 1, x, d.in, d.wT, d.out, 0, y, d.out)
	for r := 0; r < rows; r++ {
		row := y[r*d.out : (r+1)*d.out]
		for o, b := range d.B.Data {
			row[o] += b
		}
	}
}

// backward adds dW, dB and writes dx (rows×in) unless dx is nil.
func (d *dense) backward(x, dy []float32, rows int, dx []float32) {
	tensor.Gemm(true, false, d.out, d.in, rows, 1, dy, d.out, x, d.in, 1, d.W.Grad, d.in)
	for r := 0; r < rows; r++ {
		for o, v := range dy[r*d.out : (r+1)*d.out] {
			d.B.Grad[o] += v
		}
	}
	if dx != nil {
		tensor.Gemm(false, false, rows, d.in, d.out, 1, dy, d.out, d.W.Data, d.in, 0, dx, d.in)
	}
}

// apply computes one output row without allocation (inference).
func (d *dense) apply(x, y []float32) {
	for o := 0; o < d.out; o++ {
		y[o] = d.B.Data[o] + tensor.Dot(d.W.Data[o*d.in:(o+1)*d.in], x)
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Model is the NPI: a task-specific encoder f_enc of the observation and
// the previous call, an LSTM core fed the encoding and the embedding of the
// running program, and three heads: return probability, program key (the
// next program is the one whose key matches best) and one softmax per
// argument slot.
type Model struct {
	Config ModelConfig
	task   Task
	progs  []Program

	obsDim, nProg, nSlots, vocab, din int

	enc  []*dense
	emb  *nn.Param // nProg × ProgEmbed
	core *nn.LSTM
	end  *dense // H → 1
	key  *dense // H → KeyDim
	keys *nn.Param
	args []*dense // per slot H → vocab
}

// NewModel builds a model for task t with fresh weights drawn from r.
func NewModel(t Task, cfg ModelConfig, r *rand.Rand) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Task != t.Name() || cfg.Recursive != t.Recursive() {
		return nil, fmt.Errorf("model config for %s (recursive %v) used with task %s (recursive %v)", cfg.Task, cfg.Recursive, t.Name(), t.Recursive())
	}
	progs := t.Programs()
	m := &Model{Config: cfg, task: t, progs: progs, obsDim: t.ObsDim(), nProg: len(progs), vocab: argVocab(progs)}
	for _, p := range progs {
		m.nSlots = max(m.nSlots, len(p.Args))
	}
	m.nSlots = max(m.nSlots, 1)
	m.din = m.obsDim + m.nProg + m.nSlots*m.vocab
	in := m.din
	for l := range cfg.EncLayers {
		m.enc = append(m.enc, newDense(fmt.Sprintf("enc%d", l), in, cfg.Enc, r))
		in = cfg.Enc
	}
	m.emb = nn.NewParam("prog_embed", m.nProg, cfg.ProgEmbed)
	for i := range m.emb.Data {
		m.emb.Data[i] = float32(r.NormFloat64() * 0.5)
	}
	m.core = nn.NewLSTM("core", cfg.Enc+cfg.ProgEmbed, cfg.Hidden, r)
	m.end = newDense("end", cfg.Hidden, 1, r)
	m.key = newDense("key", cfg.Hidden, cfg.KeyDim, r)
	m.keys = nn.NewParam("prog_keys", m.nProg, cfg.KeyDim)
	for i := range m.keys.Data {
		m.keys.Data[i] = float32(r.NormFloat64() / math.Sqrt(float64(cfg.KeyDim)))
	}
	for s := range m.nSlots {
		m.args = append(m.args, newDense(fmt.Sprintf("arg%d", s), cfg.Hidden, m.vocab, r))
	}
	return m, nil
}

// Task returns the task the model runs.
func (m *Model) Task() Task { return m.task }

// Params lists every trainable parameter in a fixed order.
func (m *Model) Params() []*nn.Param {
	var ps []*nn.Param
	for _, d := range m.enc {
		ps = append(ps, d.W, d.B)
	}
	ps = append(ps, m.emb)
	ps = append(ps, m.core.Params()...)
	ps = append(ps, m.end.W, m.end.B, m.key.W, m.key.B, m.keys)
	for _, d := range m.args {
		ps = append(ps, d.W, d.B)
	}
	return ps
}

// encodeInput writes the encoder input of one step: the observation, the
// previous call's program one-hot and its arguments one-hot per slot.
func (m *Model) encodeInput(dst, obs []float32, prev Call) {
	clear(dst[:m.din])
	copy(dst, obs[:m.obsDim])
	dst[m.obsDim+prev.Prog] = 1
	for s := range m.progs[prev.Prog].Args {
		dst[m.obsDim+m.nProg+s*m.vocab+prev.Args[s]] = 1
	}
}

// Workspace holds the buffers of single-step inference; one per goroutine.
type Workspace struct {
	x, a, b, core, gates, key, logits []float32
}

// NewWorkspace allocates inference buffers for m.
func (m *Model) NewWorkspace() *Workspace {
	E := m.Config.Enc
	return &Workspace{
		x: make([]float32, m.din), a: make([]float32, E), b: make([]float32, E),
		core: make([]float32, E+m.Config.ProgEmbed), gates: make([]float32, 4*m.Config.Hidden),
		key: make([]float32, m.Config.KeyDim), logits: make([]float32, max(m.vocab, m.nProg)),
	}
}

// Predict advances the state (h, c) of an invocation of program cur by one
// step and returns the predicted action. It does not allocate.
func (m *Model) Predict(ws *Workspace, h, c, obs []float32, cur int, prev Call) Action {
	m.encodeInput(ws.x, obs, prev)
	in := ws.x
	for _, d := range m.enc {
		d.apply(in, ws.a)
		for i, v := range ws.a {
			ws.a[i] = float32(math.Tanh(float64(v)))
		}
		in = ws.a
		ws.a, ws.b = ws.b, ws.a
	}
	E := m.Config.Enc
	copy(ws.core, in[:E])
	copy(ws.core[E:], m.emb.Data[cur*m.Config.ProgEmbed:(cur+1)*m.Config.ProgEmbed])
	m.core.Step(h, c, ws.core, ws.gates)
	var z [1]float32
	m.end.apply(h, z[:])
	if z[0] > 0 {
		return Action{Return: true}
	}
	m.key.apply(h, ws.key)
	K := m.Config.KeyDim
	best, bestScore := 0, float32(math.Inf(-1))
	for p := 0; p < m.nProg; p++ {
		if s := tensor.Dot(m.keys.Data[p*K:(p+1)*K], ws.key); s > bestScore {
			best, bestScore = p, s
		}
	}
	a := Action{Call: Call{Prog: best}}
	for s, spec := range m.progs[best].Args {
		m.args[s].apply(h, ws.logits[:m.vocab])
		a.Call.Args[s] = argmax(ws.logits[:len(spec.Values)])
	}
	return a
}

func argmax(v []float32) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}
