package nn

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Footprint is what a network needs in memory, counted in float32 values,
// computed from the model grammar or a NetSpec without allocating anything,
// so that an oversized model is refused before it is built.
type Footprint struct {
	// Params counts trainable values; Buffers non-trainable state
	// (BatchNorm running statistics).
	Params, Buffers int64
	// Activations counts the values of every layer's output for one
	// example (training keeps an output and a gradient of each).
	Activations int64
	// Scratch counts per-example working space of the kernels (the patch
	// matrices of convolutions).
	Scratch int64
}

// Bytes estimates the peak memory of training with mini-batches of batch
// examples, slots optimiser values per parameter (1 for SGD momentum, 2
// for Adam) and evaluation in batches of evalBatch: parameters with their
// gradients and slots, outputs and gradients of a training batch, and the
// larger of the training and evaluation batches' kernel scratch.
func (f Footprint) Bytes(batch, evalBatch, slots int) int64 {
	b := int64(max(batch, 1))
	e := int64(max(evalBatch, 1))
	v := satAdd(satMul(f.Params, int64(2+max(slots, 0))), f.Buffers)
	v = satAdd(v, max(satMul(f.Activations, 2*b), satMul(f.Activations, e)))
	v = satAdd(v, satMul(f.Scratch, max(b, e)))
	return satMul(v, 4)
}

// satLimit bounds every size computed here: far above any real model and
// far below int64 overflow, so that products of hostile sizes saturate.
const satLimit = int64(1) << 60

func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > satLimit/b {
		return satLimit
	}
	return min(a*b, satLimit)
}

func satAdd(a, b int64) int64 { return min(a+b, satLimit) }

func numel64(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		n = satMul(n, int64(d))
	}
	return n
}

// ModelFootprint parses a model of the grammar ParseModel reads, for
// inputs of shape in and the given classes, and returns its footprint. It
// reports the same errors as ParseModel (bad tokens, kernels larger than
// their input, feature maps too small to pool) without building anything.
func ModelFootprint(spec string, in []int, classes int) (Footprint, error) {
	b, err := parseModel(spec, in, classes, Activation{}, nil, true)
	if err != nil {
		return Footprint{}, err
	}
	return b.fp, nil
}

// Footprint returns the spec's footprint: parameters and buffers of the
// layer kinds that hold any, and every layer's output size. Unknown kinds
// and inconsistent shapes are left for Build to report.
func (s NetSpec) Footprint() Footprint {
	var f Footprint
	for _, l := range s.Layers {
		in := numel64(l.In)
		c := int64(0)
		if len(l.In) > 0 {
			c = int64(max(l.In[0], 0))
		}
		out := int64(max(l.Out, 0))
		switch l.Kind {
		case "dense":
			f.Params = satAdd(f.Params, satMul(in, out))
			if l.Bias {
				f.Params = satAdd(f.Params, out)
			}
			f.Activations = satAdd(f.Activations, out)
		case "conv2d":
			g := int64(max(l.Groups, 1))
			k := int64(max(l.Kernel, 0))
			f.Params = satAdd(f.Params, satMul(satMul(out, c/g), satMul(k, k)))
			if l.Bias {
				f.Params = satAdd(f.Params, out)
			}
		case "batchnorm":
			f.Params = satAdd(f.Params, satMul(c, 2))
			f.Buffers = satAdd(f.Buffers, satMul(c, 2))
			f.Activations = satAdd(f.Activations, in)
		default:
			f.Activations = satAdd(f.Activations, in)
		}
	}
	return f
}

// AvailableMemory returns the memory the system can give a new allocation
// without swapping (MemAvailable of /proc/meminfo), or 0 where that is
// unknown.
func AvailableMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 || kb > math.MaxInt64/1024 {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// FormatBytes renders a byte count for messages ("1.5 GiB").
func FormatBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	v, i := float64(b), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}
