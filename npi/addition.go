package npi

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Grade-school addition on a scratch pad of four rows (two inputs, carry,
// output) and one pointer per row. Column 0 is the rightmost; moving a
// pointer LEFT increases its column. Cells hold a digit or blank.

const blank = -1

// Addition pointers / rows.
const (
	addIn1 = iota
	addIn2
	addCarry
	addOut
)

type addition struct {
	rec   bool
	progs []Program
	// program indices
	add, add1, carry, lshift, move, write int
}

func newAddition(recursive bool) *addition {
	t := &addition{rec: recursive}
	t.progs = []Program{
		{Name: "ADD"},
		{Name: "ADD1"},
		{Name: "CARRY"},
		{Name: "LSHIFT"},
		{Name: "MOVE_PTR", Primitive: true, Args: []ArgSpec{
			{"ptr", values("IN1", "IN2", "CARRY", "OUT")},
			{"dir", values("LEFT", "RIGHT")}}},
		{Name: "WRITE", Primitive: true, Args: []ArgSpec{
			{"row", values("OUT", "CARRY")},
			{"value", digits()}}},
	}
	ix := programIndex(t.progs)
	t.add, t.add1, t.carry, t.lshift, t.move, t.write = ix["ADD"], ix["ADD1"], ix["CARRY"], ix["LSHIFT"], ix["MOVE_PTR"], ix["WRITE"]
	return t
}

func (t *addition) Name() string        { return "addition" }
func (t *addition) Recursive() bool     { return t.rec }
func (t *addition) Programs() []Program { return t.progs }
func (t *addition) Root() Call          { return Call{Prog: t.add} }
func (t *addition) ObsDim() int         { return 4 * 11 }
func (t *addition) TrainSize() int      { return 5 }

func (t *addition) Loops() []string {
	if t.rec {
		return nil
	}
	return []string{"ADD"}
}

var addRowNames = [4]string{"in1", "in2", "carry", "out"}

func (t *addition) DescribeObs(obs []float32) string {
	parts := make([]string, 4)
	for r := range 4 {
		v := "?"
		for d := range 11 {
			if obs[r*11+d] > 0.5 {
				if d == 10 {
					v = "_"
				} else {
					v = fmt.Sprint(d)
				}
			}
		}
		parts[r] = addRowNames[r] + "=" + v
	}
	return strings.Join(parts, " ")
}

// addInput holds two decimal numbers as digit strings, most significant
// first. Leading zeros are allowed and are added like any digit.
type addInput struct{ a, b string }

func (in addInput) String() string { return in.a + "+" + in.b }

func randomDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// RandomInput: one operand of exactly size digits, the other of a uniform
// length in 1…size, in random order.
func (t *addition) RandomInput(r *rand.Rand, size int) Input {
	size = max(size, 1)
	a := randomDigits(r, size)
	b := randomDigits(r, 1+r.IntN(size))
	if r.IntN(2) == 0 {
		a, b = b, a
	}
	return addInput{a, b}
}

func (t *addition) ParseInput(s string) (Input, error) {
	parts := strings.Split(strings.TrimSpace(s), "+")
	if len(parts) != 2 {
		return nil, fmt.Errorf("addition input %q: want two numbers as A+B", s)
	}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return nil, fmt.Errorf("addition input %q: operand %q is not a decimal number", s, p)
		}
		parts[i] = p
	}
	return addInput{parts[0], parts[1]}, nil
}

type addEnv struct {
	t    *addition
	rows [4][]int8 // indexed by column; beyond the slice: blank
	ptr  [4]int
}

func (t *addition) NewEnv(in Input) Env {
	x := in.(addInput)
	e := &addEnv{t: t}
	for r, s := range []string{x.a, x.b} {
		row := make([]int8, len(s))
		for k := range s {
			row[k] = int8(s[len(s)-1-k] - '0')
		}
		e.rows[r] = row
	}
	return e
}

func (e *addEnv) cell(row, col int) int {
	if col < len(e.rows[row]) {
		return int(e.rows[row][col])
	}
	return blank
}

func (e *addEnv) set(row, col, v int) {
	for len(e.rows[row]) <= col {
		e.rows[row] = append(e.rows[row], blank)
	}
	e.rows[row][col] = int8(v)
}

func (e *addEnv) Observe(dst []float32) {
	clear(dst[:44])
	for r := range 4 {
		v := e.cell(r, e.ptr[r])
		if v == blank {
			v = 10
		}
		dst[r*11+v] = 1
	}
}

func (e *addEnv) Apply(c Call) error {
	switch c.Prog {
	case e.t.move:
		p, dir := c.Args[0], c.Args[1]
		if p < 0 || p > 3 || dir < 0 || dir > 1 {
			return fmt.Errorf("MOVE_PTR: bad arguments %d, %d", p, dir)
		}
		if dir == 0 {
			e.ptr[p]++
		} else {
			if e.ptr[p] == 0 {
				return fmt.Errorf("MOVE_PTR: %s pointer moved right of column 0", addRowNames[p])
			}
			e.ptr[p]--
		}
	case e.t.write:
		row, v := c.Args[0], c.Args[1]
		if row < 0 || row > 1 || v < 0 || v > 9 {
			return fmt.Errorf("WRITE: bad arguments %d, %d", row, v)
		}
		r := addOut
		if row == 1 {
			r = addCarry
		}
		e.set(r, e.ptr[r], v)
	default:
		return fmt.Errorf("program %d is not a primitive", c.Prog)
	}
	return nil
}

func (e *addEnv) Enter(Call) error { return nil }
func (e *addEnv) Leave(Call)       {}

// Output is the out row as a number (leading zeros dropped).
func (e *addEnv) Output() string {
	var b strings.Builder
	for k := len(e.rows[addOut]) - 1; k >= 0; k-- {
		v := e.rows[addOut][k]
		if v == blank {
			b.WriteByte('_')
		} else {
			b.WriteByte(byte('0' + v))
		}
	}
	return trimNumber(b.String())
}

func trimNumber(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// decimalSum adds two digit strings.
func decimalSum(a, b string) string {
	n := max(len(a), len(b)) + 1
	out := make([]byte, n)
	carry := 0
	for k := 0; k < n; k++ {
		s := carry
		if k < len(a) {
			s += int(a[len(a)-1-k] - '0')
		}
		if k < len(b) {
			s += int(b[len(b)-1-k] - '0')
		}
		out[n-1-k] = byte('0' + s%10)
		carry = s / 10
	}
	return trimNumber(string(out))
}

func (t *addition) Correct(in Input, env Env) bool {
	x := in.(addInput)
	return env.Output() == decimalSum(x.a, x.b)
}

// Body is the reference. Every decision reads the cells under the pointers.
func (t *addition) Body(x *Exec, c Call) {
	e := x.Env().(*addEnv)
	const L, R = 0, 1
	column := func() (d1, d2, cr int) {
		return e.cell(addIn1, e.ptr[addIn1]), e.cell(addIn2, e.ptr[addIn2]), e.cell(addCarry, e.ptr[addCarry])
	}
	done := func() bool {
		d1, d2, cr := column()
		return d1 == blank && d2 == blank && cr == blank
	}
	switch c.Prog {
	case t.add:
		if t.rec {
			if !done() {
				x.Call(t.add1)
				x.Call(t.lshift)
				x.Call(t.add)
			}
			return
		}
		for !done() {
			x.Call(t.add1)
			x.Call(t.lshift)
		}
	case t.add1:
		d1, d2, cr := column()
		s := max(d1, 0) + max(d2, 0) + max(cr, 0)
		x.Call(t.write, 0, s%10)
		if s >= 10 {
			x.Call(t.carry)
		}
	case t.carry:
		x.Call(t.move, addCarry, L)
		x.Call(t.write, 1, 1)
		x.Call(t.move, addCarry, R)
	case t.lshift:
		for p := range 4 {
			x.Call(t.move, p, L)
		}
	default:
		panic("npi: addition has no body for " + t.progs[c.Prog].Name)
	}
}

// VerificationInputs: every invocation sees at most two adjacent columns k
// and k+1 and the carry into column k (blank or 1). The family pairs a last
// column that produces each carry (0+0, 5+5) with every choice of the next
// two columns of each operand (blank, or a digit followed by blank or a
// digit), so column 1 and 2 realise every (carry, column, next column)
// combination an input of any length can present.
func (t *addition) VerificationInputs(yield func(Input) bool) {
	var uppers []string
	uppers = append(uppers, "")
	for d := range 10 {
		uppers = append(uppers, fmt.Sprint(d))
	}
	for d := range 100 {
		uppers = append(uppers, fmt.Sprintf("%02d", d))
	}
	for _, low := range []string{"0", "5"} {
		for _, ua := range uppers {
			for _, ub := range uppers {
				if !yield(addInput{ua + low, ub + low}) {
					return
				}
			}
		}
	}
}
