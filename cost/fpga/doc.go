// Package fpga is the analytic performance model of a CNN running on a
// pipeline of FPGAs, the fast exploration step of hardware/software
// co-exploration (METHODS §5.3).
//
// One accelerator runs a convolution by tiles: Tm output channels, Tn input
// channels and a Tr×Tc patch of the output map at a time, with Tm·Tn
// multipliers and ports moving Wp, Ip and Op words per cycle for weights,
// inputs and outputs. Loads of the next tile overlap the computation of
// the current one, so a tile costs the largest of its load and compute
// times, and a layer costs that times the number of tiles (Time). The
// tiles fix the DSPs, the block RAMs of the double-buffered tile memories
// and the port width (Tiling.Usage); a design that exceeds its board is
// infeasible (Board.Check). The formulas follow the group's reference
// model (hotNAS, PM_FPGA_Template.py): a golden file of its outputs on
// random cases is part of the tests. One property of those formulas is
// kept on purpose: R and C are output rows and columns, yet the compute and
// store times divide the row and column tiles by the stride once more, so
// a stride-2 layer costs a quarter of the cycles its multiply-accumulates
// would suggest.
//
// A network is a chain of layers. Explore cuts it into contiguous pipeline
// stages, puts each stage on its own board of a pool, and gives every
// stage the accelerator tiling that runs its layers fastest (BestTiling);
// it returns the design of highest throughput, the slowest stage setting
// the rate, and among those the one of least power. Both searches are
// exact over their spaces and cheap enough to run for every child a
// search samples. EvaluateFixed instead keeps every board's accelerator fixed and
// searches only the partition, which is what a network sees when the
// hardware was designed before it.
//
// Boards (Catalogue) are real Xilinx parts with their data-sheet DSP and
// block-RAM counts; power is a static figure per board plus a fixed
// dynamic cost per DSP and per block RAM, with every constant stated in
// board.go. Energy efficiency is operations per second per watt.
package fpga
