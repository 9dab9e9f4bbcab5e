package nn

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzParseModel checks the model grammar and its dry sizing pass against
// each other: ModelFootprint and ParseModel accept the same models, and a
// built model has exactly the parameters and layer outputs its footprint
// counts. Models of more than fuzzBuildLimit parameters are only sized:
// sizing must never allocate them (mlp:1000000000 is in the seeds).
func FuzzParseModel(f *testing.F) {
	for _, s := range []string{"mlp:32", "mlp:1000000000", "mlp:99999,99999,99999", "mlp:4,,3",
		"cnn:c8,p,c16,p,f32", "cnn:c8,d16,p,d32,g", "cnn:c100000,p", "cnn:c8k99", "cnn:c4k5s2,p,p,p,p,g",
		"cnn:c3s2,d4,f5", "cnn:c4k2", "cnn:f4,c4", "cnn:g,p", "mlp:-1", "cnn:c9223372036854775807"} {
		f.Add(s, uint8(0), uint8(27), uint8(27), uint8(8))
	}
	f.Add("cnn:c2,p,p,p", uint8(2), uint8(5), uint8(9), uint8(0))
	const fuzzBuildLimit = 200_000
	act, _ := ParseActivation("relu")
	f.Fuzz(func(t *testing.T, spec string, c, h, w, classes uint8) {
		in := []int{int(c%4) + 1, int(h%32) + 1, int(w%32) + 1}
		if strings.HasPrefix(spec, "mlp") {
			in = []int{in[1] * in[2]}
		}
		k := int(classes%12) + 1 // 1 is refused
		fp, ferr := ModelFootprint(spec, in, k)
		if ferr != nil {
			if strings.Contains(ferr.Error(), "\n") {
				t.Fatalf("error of several lines: %q", ferr)
			}
			if fp != (Footprint{}) {
				t.Fatal("footprint with an error")
			}
		}
		if ferr == nil && (fp.Params <= 0 || fp.Activations <= 0 || fp.Bytes(64, 500, 2) <= 0) {
			t.Fatalf("%q on %v: footprint %+v", spec, in, fp)
		}
		if ferr == nil && fp.Params > fuzzBuildLimit {
			return
		}
		net, err := ParseModel(spec, in, k, act, rand.New(rand.NewPCG(1, 2)))
		if (err != nil) != (ferr != nil) {
			t.Fatalf("%q on %v: ParseModel error %v, ModelFootprint error %v", spec, in, err, ferr)
		}
		if err != nil {
			if err.Error() != ferr.Error() {
				t.Fatalf("different errors:\n%v\n%v", err, ferr)
			}
			return
		}
		if got := int64(net.NumParams()); got != fp.Params {
			t.Fatalf("%q on %v: %d parameters, footprint says %d", spec, in, got, fp.Params)
		}
		var acts int64
		for _, l := range net.Layers {
			acts += numel64(l.OutShape())
		}
		if acts != fp.Activations {
			t.Fatalf("%q on %v: %d activations, footprint says %d", spec, in, acts, fp.Activations)
		}
		if got := net.Spec().Footprint(); got.Params != fp.Params || got.Buffers != fp.Buffers {
			t.Fatalf("%q: spec footprint %+v, grammar footprint %+v", spec, got, fp)
		}
	})
}

// withChecksum frames a network body as MarshalBinary does, so that the
// fuzzer's mutations get past the checksum to the decoder behind it.
func withChecksum(body []byte) []byte {
	out := []byte(netMagic)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return append(out, body...)
}

// FuzzUnmarshalNet decodes arbitrary network bodies behind a valid
// checksum: an error, or a network that re-encodes to a fixed point. An
// architecture claiming more values than the file holds is refused before
// it is built.
func FuzzUnmarshalNet(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	act, _ := ParseActivation("relu")
	for _, m := range []struct {
		spec string
		in   []int
	}{{"mlp:3", []int{4}}, {"cnn:c2,p,d3,f4", []int{1, 6, 6}}, {"cnn:c2s2,g", []int{2, 5, 5}}} {
		net, err := ParseModel(m.spec, m.in, 3, act, r)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range net.Params() {
			p.Slots = [][]float32{make([]float32, p.Len())}
		}
		b, err := net.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[len(netMagic)+4:])
	}
	huge := `{"spec":{"in":[1000000],"layers":[{"kind":"dense","in":[1000000],"out":1000000,"bias":true}]},"slots":[0,0]}`
	f.Add(append(binary.LittleEndian.AppendUint32(nil, uint32(len(huge))), huge...))
	f.Fuzz(func(t *testing.T, body []byte) {
		net, err := UnmarshalNet(withChecksum(body))
		if err != nil {
			return
		}
		b1, err := net.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		net2, err := UnmarshalNet(b1)
		if err != nil {
			t.Fatalf("re-encoded network does not decode: %v", err)
		}
		b2, _ := net2.MarshalBinary()
		if !bytes.Equal(b1, b2) {
			t.Fatal("encoding is not a fixed point")
		}
	})
}
