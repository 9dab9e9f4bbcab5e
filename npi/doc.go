// Package npi implements neural programmer-interpreters (Reed & de Freitas)
// with recursion (Cai, Shin & Song, ICLR 2017): an LSTM learns, from
// execution traces, to run a hierarchy of programs on an environment, and
// because each call of a program restarts the LSTM from a zero state, a
// recursive program's behaviour on inputs of any size follows from its
// behaviour on a finite set of situations that can be checked exhaustively.
//
// # Model
//
// At step t of an invocation of program p the core computes
//
//	s_t = f_enc(e_t, prev_t)            tanh MLP of the observation and the previous call
//	h_t = LSTM([s_t ; M_prog[p]], h_{t−1})
//	r_t = σ(w·h_t)                      return when r_t > ½
//	k_t = W_k h_t; next program = argmax_j M_key[j]·k_t
//	a_t = one softmax per argument slot, over the slot's values
//
// prev_t is the call made by the previous step (at the first step, the
// invocation's own call), as in the public ports. A step either returns or
// calls one program. Primitives act on the environment; any other call
// pushes the caller's (h, c), starts the callee from zero and restores the
// caller on return (Runner). A Runner stops a runaway program at a step
// limit (ten times the reference's step count) and a call-depth limit
// (twice the reference's), with a *RunawayError.
//
// Training (Train) imitates reference traces: every invocation is one short
// sequence from a zero state; the loss is the cross-entropy of the return
// flag, and for calls of the program and of each argument the program uses.
// Adam, batches of invocations of similar length, until the teacher-forced
// step accuracy on the training set is 100% for a few epochs, or a time
// limit. TrainContext hands the trainer's state to a Checkpoint callback
// after every epoch and continues from such a state exactly (`nadir npi
// train` keeps it in a run directory of package run, so `nadir resume`
// finishes a killed run with the model an uninterrupted one makes). The nn.LSTM core is trained by backpropagation through time.
//
// # Environments
//
// Each task (NewTask) has a recursive and a non-recursive variant with the
// same primitives and observations. Observations never depend on the input's
// length: they are the few cells or flags under the pointers.
//
//   - addition: a scratch pad of four rows (two operands, carry, output)
//     with one pointer per row. Observation: the cell under each pointer,
//     one-hot over 0–9 and blank (4×11). Programs ADD, ADD1 (write the
//     column's digit, CARRY if the sum is ≥ 10), CARRY, LSHIFT; primitives
//     MOVE_PTR(ptr, dir), WRITE(row, value). Recursive ADD is ADD1, LSHIFT,
//     ADD until the column is blank; the loop variant repeats ADD1, LSHIFT in
//     one invocation.
//   - bubblesort: pointers p1, p2 = p1+1 and a pass counter. Observation:
//     [p1 at 0, p2 inside the array, a[p1] > a[p2], last pass]. BUBBLESORT
//     = BUBBLE, RESET, BUBBLESORT; BUBBLE = BSTEP; BSTEP = COMPSWAP,
//     RSHIFT, BSTEP; RESET = LSHIFT, advance the counter; LSHIFT moves back
//     recursively. Primitives PTR(ptr, dir), SWAP(ptr, ptr).
//   - quicksort: Lomuto partition in a frame of registers lo, hi, i, j.
//     Observation: [lo < hi, j ≥ hi, a[j] < a[hi], range stack empty].
//     QUICKSORT(range) opens a frame on the whole array or on the part left
//     or right of the caller's pivot position; it calls PARTITION (PSTEP
//     recursively over j, then SWAP(I, HI)), QUICKSORT(LEFT),
//     QUICKSORT(RIGHT). The loop variant keeps an explicit stack of ranges
//     in the environment (PUSH(range), POP) and loops in QUICKSORT and
//     PARTITION.
//   - toposort: depth-first search with colours over a DAG. A register s
//     walks the start vertices; a frame (v, c) points into v's adjacency
//     list. Observation: s at the end, s white, no frame, v's colour, c at
//     the end of the list, the child's colour. TOPOSORT = [TRAVERSE(START)
//     if s is white], MOVE(S), TOPOSORT; TRAVERSE(src) opens a frame on
//     the start vertex or the current child: COLOR(GREY), TVISIT,
//     COLOR(BLACK), WRITE; TVISIT = [TRAVERSE(CHILD) if the child is
//     white], MOVE(C), TVISIT. The loop variant runs DFS with an explicit
//     stack of frames (PUSH, POP). The output, read backwards, is a
//     topological order.
//
// Non-primitive calls that work on a sub-problem (QUICKSORT, TRAVERSE) get a
// fresh pointer frame from the environment (Env.Enter) that is dropped on
// return, so the caller's pointers are back when it resumes; helpers share
// their caller's frame.
//
// # Verification
//
// Inside one invocation the core's state, hence every decision, is a
// function of the program, its arguments and the observations met since the
// call began (the previous-call input is the previous decision). For a
// recursive task an invocation lasts a bounded number of steps, and its
// observation sequence is drawn from a finite alphabet, so the set of
// situations any input of any size can produce is finite: the verification
// set. Its elements are the base cases (invocations that make no recursive
// call: ADD on a blank column, BSTEP with p2 past the end, LSHIFT at the
// start, QUICKSORT on a range of at most one element, TRAVERSE on a vertex
// without white children, …) and the reduction rules (the other
// invocations, e.g. ADD1 for every digit/carry combination, BSTEP for both
// comparison outcomes, TVISIT for every colour pattern of two consecutive
// children).
//
// VerificationSet enumerates it by running the reference on a family of
// small inputs chosen per task so that every situation occurs (documented on
// each task's VerificationInputs: each invocation sees a bounded window of
// the data — two columns and a carry, two neighbours and the array's ends, a
// vertex and two consecutive children — and the family realises every
// window), and keeps each distinct (call, observation sequence) once. The
// tests confirm the enumeration: larger families add nothing, and every
// invocation of random inputs of up to 100 elements is in the set.
//
// Verify runs the model on every element, from a zero state and fed the
// reference's observations (callees run by the reference), and compares
// every predicted action. If all match, induction on the call tree shows
// that the learned program equals the reference on every input: the
// innermost calls are elements of the set, and a call whose callees behave
// like the reference meets the same observations as the reference and is
// itself an element. Verify names the first failing element otherwise.
//
// A non-recursive variant loops within one invocation for a number of steps
// that grows with the input, so its hidden state must carry an unbounded
// count; it has no finite verification set and is reported unverified with
// that reason (its small cases are still checked).
//
// Evaluate runs learned programs end to end on random inputs of given sizes
// and reports exact-output accuracy and teacher-forced step accuracy.
package npi
