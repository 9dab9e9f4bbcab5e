package grow_test

import (
	"math/rand/v2"
	"testing"

	"github.com/nadir-ml/nadir/data"
	"github.com/nadir-ml/nadir/grow"
	"github.com/nadir-ml/nadir/nn"
)

// benchNet is the growth benchmark's network (28×28 inputs, width 16) and
// a batcher of two batches of 128 random images.
func benchNet(b *testing.B) (*nn.Net, *data.Batcher) {
	r := rand.New(rand.NewPCG(1, 2))
	d := &data.Dataset{Name: "img", Shape: []int{1, 28, 28}, Classes: 10}
	for i := 0; i < 256; i++ {
		for j := 0; j < 784; j++ {
			d.X = append(d.X, float32(r.Float64()))
		}
		d.Y = append(d.Y, i%10)
	}
	net, err := nn.ParseModel("cnn:c16,p,c16,p,c16,c16,p,c16,c16,p,c16,c16,g", d.Shape, 10, nn.Activation{Kind: nn.ReLU}, r)
	if err != nil {
		b.Fatal(err)
	}
	bt := data.NewBatcher(d, 128)
	bt.Epoch(nil)
	return net, bt
}

// benchSplitLosses measures four edited units per growable layer, last
// layer first, on the growth benchmark's network (28×28 inputs, width 16)
// over two batches of 128, as a growth step's measuring loop does.
func benchSplitLosses(b *testing.B, plain bool) {
	net, bt := benchNet(b)
	layers := net.Growable()
	for b.Loop() {
		ls := grow.NewSplitLosses(net, bt, []int{0, 1})
		if plain {
			ls = grow.PlainSplitLosses(ls)
		}
		for k := len(layers) - 1; k >= 0; k-- {
			li := layers[k]
			w := net.Layers[li].(nn.Producer).Weight()
			for u := 0; u < 4; u++ {
				w.Data[u*w.Cols] += 0.01
				ls.Loss(li)
			}
		}
	}
}

func BenchmarkSplitLossesDelta(b *testing.B) { benchSplitLosses(b, false) }
func BenchmarkSplitLossesPlain(b *testing.B) { benchSplitLosses(b, true) }

// benchDeltaLayer measures 16 successive edits of the 14×14 layer's units
// (a growth step measures 10–20 splits per layer), so that the delta
// updates, not the first measurement, dominate: the changed rows
// convolved tap by tap (kn2row) or from the image's patches.
func benchDeltaLayer(b *testing.B, kn2row bool) {
	defer grow.SetKn2row(kn2row)()
	net, bt := benchNet(b)
	li := net.Growable()[1]
	w := net.Layers[li].(nn.Producer).Weight()
	for b.Loop() {
		ls := grow.NewSplitLosses(net, bt, []int{0, 1})
		for u := 0; u < 16; u++ {
			w.Data[u*w.Cols] += 0.01
			ls.Loss(li)
		}
	}
}

func BenchmarkSplitLossesDeltaKn2row(b *testing.B) { benchDeltaLayer(b, true) }
func BenchmarkSplitLossesDeltaIm2col(b *testing.B) { benchDeltaLayer(b, false) }
