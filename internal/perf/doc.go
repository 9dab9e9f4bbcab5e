// Package perf holds nadir's performance workloads: the fixed problems that
// `nadir bench` times and that the nn benchmarks (go test -bench) run, so
// that every figure quoted for nadir comes from one definition.
//
// The workloads mirror the PyTorch peer script (bench/torch_ref.py, or the
// shared copy it stands in for) shape for shape, so a nadir figure is only
// ever quoted as a ratio against PyTorch measured on the same machine in the
// same session:
//
//   - GEMM: C = A·B on float32 square matrices of 512 and 1024, no
//     transposes, reported in GFLOP/s (2n³ flops per product);
//   - MLP train step: Flatten, 784→256, ReLU, 256→256, ReLU, 256→10 on a
//     batch of 128 28×28 images, softmax cross-entropy, backward and one
//     plain SGD step (lr 0.01, no momentum: the peer's optimiser);
//   - LeNet train step: conv 5×5 1→32, ReLU, max-pool 2, conv 5×5 32→64,
//     ReLU, max-pool 2, dense 1024→128, ReLU, dense 128→10, the same batch,
//     loss and optimiser; convolutions and dense layers carry biases, none
//     is padded;
//   - VGG train steps (vgg16, vgg48): the growth benchmark's network
//     cnn:cW,p,cW,p,cW,cW,p,cW,cW,p,cW,cW,g (3×3 conv + BatchNorm + ReLU,
//     four max pools, global average pool, dense 10) at widths 16 and 48,
//     the same batch and loss, SGD lr 0.01 with Nesterov momentum 0.9 and
//     weight decay 1e-4 (the reference growth code's optimiser);
//   - depthwise: a 3×3 depthwise convolution (64 channels, padding 1, bias)
//     forward and backward on a 32×64×16×16 batch with loss Σy².
//
// Timing follows the peer: one warm-up call, then Reps timed runs whose
// median is reported. A GEMM run repeats the product until about 2³⁰
// multiply-adds have been done and a train-step run averages Steps steps,
// so that one run is long enough for the clock.
//
// Workloads allocate everything in their constructors; Run methods reuse
// the layers' buffers, so a steady-state step allocates little (the nn
// benchmarks report how little).
package perf
