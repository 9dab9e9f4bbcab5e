package npi

import (
	"github.com/nadir-ml/nadir/tensor"
	"math"

	"github.com/nadir-ml/nadir/nn"
)

// batchRunner runs the model teacher-forced on a batch of invocations padded
// to a common length, for training (loss and gradients) and for checking
// (argmax predictions against the targets). Rows are time-major: row
// t*N+n is step t of sequence n. Buffers are reused between batches.
type batchRunner struct {
	m    *Model
	T, N int

	xin   []float32   // rows × din
	acts  [][]float32 // encoder layer outputs, rows × Enc each
	coreX []float32   // rows × (Enc+ProgEmbed)
	cache nn.LSTMCache
	hs    []float32 // rows × H (aliases the cache)

	endZ   []float32 // rows
	keyY   []float32 // rows × K
	scores []float32 // rows × P
	argZ   [][]float32

	valid []bool
	cur   []int // per sequence
	tgt   []Action

	// gradients
	dhs, dEnd, dKey, dScores []float32
	dArg                     [][]float32
	dAct, dAct2, dHead       []float32
}

func newBatchRunner(m *Model) *batchRunner {
	b := &batchRunner{m: m, acts: make([][]float32, len(m.enc)), argZ: make([][]float32, m.nSlots), dArg: make([][]float32, m.nSlots)}
	return b
}

// load fills the inputs and targets from invs (at most N sequences).
func (b *batchRunner) load(invs []*Invocation) {
	m := b.m
	T := 0
	for _, inv := range invs {
		T = max(T, len(inv.Steps))
	}
	N := len(invs)
	b.T, b.N = T, N
	rows := T * N
	b.xin = grow(b.xin, rows*m.din)
	clear(b.xin)
	if cap(b.valid) < rows {
		b.valid = make([]bool, rows)
		b.tgt = make([]Action, rows)
	}
	b.valid, b.tgt = b.valid[:rows], b.tgt[:rows]
	clear(b.valid)
	b.cur = b.cur[:0]
	for n, inv := range invs {
		b.cur = append(b.cur, inv.Call.Prog)
		for t, s := range inv.Steps {
			r := t*N + n
			m.encodeInput(b.xin[r*m.din:(r+1)*m.din], s.Obs, s.Prev)
			b.valid[r] = true
			b.tgt[r] = s.Act
		}
	}
}

// forward computes every head's outputs for the loaded batch.
func (b *batchRunner) forward() {
	m := b.m
	rows := b.T * b.N
	E, Pe := m.Config.Enc, m.Config.ProgEmbed
	in := b.xin
	for l, d := range m.enc {
		b.acts[l] = grow(b.acts[l], rows*E)
		d.forward(in, rows, b.acts[l])
		for i, v := range b.acts[l] {
			b.acts[l][i] = float32(math.Tanh(float64(v)))
		}
		in = b.acts[l]
	}
	C := E + Pe
	b.coreX = grow(b.coreX, rows*C)
	for r := 0; r < rows; r++ {
		p := b.cur[r%b.N]
		copy(b.coreX[r*C:], in[r*E:(r+1)*E])
		copy(b.coreX[r*C+E:(r+1)*C], m.emb.Data[p*Pe:(p+1)*Pe])
	}
	b.hs = m.core.Forward(&b.cache, b.coreX, b.T, b.N, nil, nil)
	b.endZ = grow(b.endZ, rows)
	m.end.forward(b.hs, rows, b.endZ)
	K := m.Config.KeyDim
	b.keyY = grow(b.keyY, rows*K)
	m.key.forward(b.hs, rows, b.keyY)
	b.scores = grow(b.scores, rows*m.nProg)
	for r := 0; r < rows; r++ {
		k := b.keyY[r*K : (r+1)*K]
		for p := 0; p < m.nProg; p++ {
			b.scores[r*m.nProg+p] = tensor.Dot(m.keys.Data[p*K:(p+1)*K], k)
		}
	}
	for s, d := range m.args {
		b.argZ[s] = grow(b.argZ[s], rows*m.vocab)
		d.forward(b.hs, rows, b.argZ[s])
	}
}

// predicted returns the argmax action of row r.
func (b *batchRunner) predicted(r int) Action {
	m := b.m
	if b.endZ[r] > 0 {
		return Action{Return: true}
	}
	p := argmax(b.scores[r*m.nProg : (r+1)*m.nProg])
	a := Action{Call: Call{Prog: p}}
	for s, spec := range m.progs[p].Args {
		a.Call.Args[s] = argmax(b.argZ[s][r*m.vocab : r*m.vocab+len(spec.Values)])
	}
	return a
}

// correct reports whether row r's prediction matches its target: the return
// decision, and for a call the program and every argument it uses.
func (b *batchRunner) correct(r int) bool {
	return b.predicted(r) == b.tgt[r]
}

// lossBackward computes the summed loss over valid rows and adds the
// gradients of scale × loss into the parameters. The loss of a step is the
// return-flag cross-entropy plus, for a call, the cross-entropies of the
// program and of each argument the program uses.
func (b *batchRunner) lossBackward(scale float32) float64 {
	m := b.m
	rows := b.T * b.N
	H, K, P, V := m.Config.Hidden, m.Config.KeyDim, m.nProg, m.vocab
	b.dEnd = grow(b.dEnd, rows)
	b.dScores = grow(b.dScores, rows*P)
	clear(b.dEnd)
	clear(b.dScores)
	for s := range b.dArg {
		b.dArg[s] = grow(b.dArg[s], rows*V)
		clear(b.dArg[s])
	}
	var loss float64
	for r := 0; r < rows; r++ {
		if !b.valid[r] {
			continue
		}
		a := b.tgt[r]
		z := float64(b.endZ[r])
		y := 0.0
		if a.Return {
			y = 1
		}
		// log(1+e^z) − y z, stable.
		loss += math.Max(z, 0) - y*z + math.Log1p(math.Exp(-math.Abs(z)))
		b.dEnd[r] = scale * float32(1/(1+math.Exp(-z))-y)
		if a.Return {
			continue
		}
		loss += softmaxCE(b.scores[r*P:(r+1)*P], a.Call.Prog, scale, b.dScores[r*P:(r+1)*P])
		for s, spec := range m.progs[a.Call.Prog].Args {
			nv := len(spec.Values)
			loss += softmaxCE(b.argZ[s][r*V:r*V+nv], a.Call.Args[s], scale, b.dArg[s][r*V:r*V+nv])
		}
	}
	// Heads → dL/dh.
	b.dhs = grow(b.dhs, rows*H)
	clear(b.dhs)
	b.headBackward(m.end, b.dEnd)
	b.dKey = grow(b.dKey, rows*K)
	for r := 0; r < rows; r++ {
		dk := b.dKey[r*K : (r+1)*K]
		clear(dk)
		k := b.keyY[r*K : (r+1)*K]
		for p := 0; p < P; p++ {
			g := b.dScores[r*P+p]
			if g == 0 {
				continue
			}
			kp := m.keys.Data[p*K : (p+1)*K]
			gk := m.keys.Grad[p*K : (p+1)*K]
			for j := range dk {
				dk[j] += g * kp[j]
				gk[j] += g * k[j]
			}
		}
	}
	b.headBackward(m.key, b.dKey)
	for s, d := range m.args {
		b.headBackward(d, b.dArg[s])
	}
	dCore, _, _ := m.core.Backward(&b.cache, b.dhs, nil, nil)
	// Split the core input gradient into encoder output and embedding.
	E, Pe := m.Config.Enc, m.Config.ProgEmbed
	C := E + Pe
	b.dAct = grow(b.dAct, rows*E)
	for r := 0; r < rows; r++ {
		copy(b.dAct[r*E:(r+1)*E], dCore[r*C:r*C+E])
		p := b.cur[r%b.N]
		ge := m.emb.Grad[p*Pe : (p+1)*Pe]
		for j, v := range dCore[r*C+E : (r+1)*C] {
			ge[j] += v
		}
	}
	for l := len(m.enc) - 1; l >= 0; l-- {
		for i, v := range b.acts[l] {
			b.dAct[i] *= 1 - v*v
		}
		if l == 0 {
			m.enc[0].backward(b.xin, b.dAct, rows, nil)
			break
		}
		b.dAct2 = grow(b.dAct2, rows*E)
		m.enc[l].backward(b.acts[l-1], b.dAct, rows, b.dAct2)
		b.dAct, b.dAct2 = b.dAct2, b.dAct
	}
	return loss
}

// headBackward adds a dense head's gradients and its dh into b.dhs.
func (b *batchRunner) headBackward(d *dense, dy []float32) {
	rows := b.T * b.N
	H := b.m.Config.Hidden
	b.dHead = grow(b.dHead, rows*H)
	d.backward(b.hs, dy, rows, b.dHead)
	for i, v := range b.dHead {
		b.dhs[i] += v
	}
}

// softmaxCE returns −log softmax(z)[y] and writes scale·(softmax − onehot)
// into dz.
func softmaxCE(z []float32, y int, scale float32, dz []float32) float64 {
	mx := z[0]
	for _, v := range z {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(float64(v - mx))
	}
	for i, v := range z {
		p := math.Exp(float64(v-mx)) / sum
		if i == y {
			p--
		}
		dz[i] = scale * float32(p)
	}
	return math.Log(sum) - float64(z[y]-mx)
}
