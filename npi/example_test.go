package npi_test

import (
	"fmt"
	"strings"

	"github.com/nadir-ml/nadir/npi"
)

// printer is a Hook that prints the reference's call tree.
type printer struct {
	progs []npi.Program
	depth int
}

func (p *printer) Begin(npi.Call) { p.depth++ }
func (p *printer) End(npi.Call)   { p.depth-- }
func (p *printer) Step(_ []float32, _ npi.Call, a npi.Action) {
	if !a.Return {
		fmt.Printf("%s%s\n", strings.Repeat("  ", p.depth), npi.FormatCall(p.progs, a.Call))
	}
}

// The reference trace of a recursive addition: ADD calls itself on the
// next column until the column is blank.
func ExampleExec() {
	task, _ := npi.NewTask("addition", true)
	in, _ := task.ParseInput("5+7")
	env := task.NewEnv(in)
	fmt.Println(npi.FormatCall(task.Programs(), task.Root()))
	npi.NewExec(task, env, &printer{progs: task.Programs()}).Run(task.Root())
	fmt.Println("result:", env.Output())
	// Output:
	// ADD
	//   ADD1
	//     WRITE(OUT, 2)
	//     CARRY
	//       MOVE_PTR(CARRY, LEFT)
	//       WRITE(CARRY, 1)
	//       MOVE_PTR(CARRY, RIGHT)
	//   LSHIFT
	//     MOVE_PTR(IN1, LEFT)
	//     MOVE_PTR(IN2, LEFT)
	//     MOVE_PTR(CARRY, LEFT)
	//     MOVE_PTR(OUT, LEFT)
	//   ADD
	//     ADD1
	//       WRITE(OUT, 1)
	//     LSHIFT
	//       MOVE_PTR(IN1, LEFT)
	//       MOVE_PTR(IN2, LEFT)
	//       MOVE_PTR(CARRY, LEFT)
	//       MOVE_PTR(OUT, LEFT)
	//     ADD
	// result: 12
}

// Train a recursive topological sort on graphs of up to six vertices and
// prove it correct for graphs of every size.
func ExampleVerify() {
	task, _ := npi.NewTask("toposort", true)
	m, sum, err := npi.Train(task, npi.TrainConfig{Model: npi.DefaultModelConfig("toposort", true), Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := npi.Verify(m)
	fmt.Printf("step accuracy %.0f%%, verified %v on %d cases\n", 100*sum.StepAccuracy, v.Verified, v.Cases)
	res, _ := npi.Evaluate(m, npi.EvalConfig{Sizes: []int{60}, N: 5, Seed: 1})
	fmt.Printf("60 vertices: %.0f%% exact\n", 100*res[0].Accuracy)
	// Output:
	// step accuracy 100%, verified true on 20 cases
	// 60 vertices: 100% exact
}
