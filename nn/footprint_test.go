package nn

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestModelFootprint(t *testing.T) {
	fp, err := ModelFootprint("cnn:c8,p,f32", []int{1, 28, 28}, 10)
	if err != nil {
		t.Fatal(err)
	}
	// conv 8·9, BN 2·8, dense 8·14·14·32+32, head 32·10+10.
	if want := int64(8*9 + 16 + 8*14*14*32 + 32 + 32*10 + 10); fp.Params != want {
		t.Fatalf("params %d, want %d", fp.Params, want)
	}
	if fp.Buffers != 16 || fp.Scratch != 9*28*28 {
		t.Fatalf("buffers %d scratch %d", fp.Buffers, fp.Scratch)
	}
	// conv, BN, act: 3·8·28·28; pool and flatten: 2·8·14·14; dense, act: 2·32; head 10.
	if want := int64(3*8*28*28 + 2*8*14*14 + 2*32 + 10); fp.Activations != want {
		t.Fatalf("activations %d, want %d", fp.Activations, want)
	}
}

// Models a user mistypes are refused up front, in one line, without
// allocating them.
func TestParseModelRefusesOversized(t *testing.T) {
	act, _ := ParseActivation("relu")
	for _, c := range []struct {
		spec string
		in   []int
		want string
	}{
		{"cnn:c8k99", []int{1, 28, 28}, "kernel 99 larger than the 28x28 input"},
		{"cnn:c8,p,c8k15", []int{1, 28, 28}, "kernel 15 larger than the 14x14 input"},
		{"mlp:1000000000", []int{784}, "more than the"},
		{"mlp:99999,99999,99999", []int{784}, "more than the"},
		{"cnn:c10000000,p", []int{1, 28, 28}, "more than the"},
	} {
		if strings.HasSuffix(c.want, "the") && AvailableMemory() == 0 {
			continue // no /proc/meminfo: nothing to compare with
		}
		_, err := ParseModel(c.spec, c.in, 10, act, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", c.spec, err, c.want)
		}
	}
}

// The 3x3 default stays valid on the 1x1 maps deep stacks reach.
func TestParseModelDeepStack(t *testing.T) {
	act, _ := ParseActivation("relu")
	if _, err := ParseModel("cnn:c4,p,c4,p,c4,p,c4,p,c4,g", []int{1, 28, 28}, 10, act, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
}

func TestUnmarshalNetRefusesArchitectureLargerThanData(t *testing.T) {
	h := `{"spec":{"in":[100000],"layers":[{"kind":"dense","in":[100000],"out":100000}]},"slots":[0]}`
	body := append([]byte{byte(len(h)), 0, 0, 0}, h...)
	_, err := UnmarshalNet(withChecksum(body))
	if err == nil || !strings.Contains(err.Error(), "the architecture has 10000000000 values, the data holds at most 0") {
		t.Fatalf("got %v", err)
	}
}
