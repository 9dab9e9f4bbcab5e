package nn

import "github.com/nadir-ml/nadir/tensor"

// LayerMACs counts the multiply-accumulates of one example's forward pass
// through l (dense and convolution layers; 0 for the rest, whose cost is
// linear in the activations and small beside them).
func LayerMACs(l Layer) int64 {
	s := l.Spec()
	switch s.Kind {
	case "dense":
		return int64(tensor.Numel(s.In)) * int64(s.Out)
	case "conv2d":
		out := l.OutShape() // C, H, W
		g := max(s.Groups, 1)
		cin := s.In[0] / g
		return int64(out[0]) * int64(out[1]) * int64(out[2]) * int64(cin) * int64(s.Kernel*s.Kernel)
	}
	return 0
}

// MACs is the network's multiply-accumulates per example.
func (n *Net) MACs() int64 {
	var t int64
	for _, l := range n.Layers {
		t += LayerMACs(l)
	}
	return t
}
