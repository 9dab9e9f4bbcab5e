package npi

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/nadir-ml/nadir/run"
)

// ModelFile is the model checkpoint's name inside a run directory.
const ModelFile = "model.npi"

const ckptMagic = "NADIRNPI"

type ckptHeader struct {
	Version int          `json:"version"`
	Config  ModelConfig  `json:"config"`
	Params  []ckptTensor `json:"params"`
}

type ckptTensor struct {
	Name string `json:"name"`
	Rows int    `json:"rows"`
	Cols int    `json:"cols"`
}

// Save writes the model to dir/model.npi atomically (temporary file,
// fsync, rename), creating dir if needed. The file is the magic "NADIRNPI",
// a little-endian uint32 header length, a JSON header (architecture and
// parameter shapes) and the parameters as little-endian float32.
func Save(dir string, m *Model) error {
	var buf bytes.Buffer
	h := ckptHeader{Version: 1, Config: m.Config}
	for _, p := range m.Params() {
		h.Params = append(h.Params, ckptTensor{p.Name, p.Rows, p.Cols})
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return err
	}
	buf.WriteString(ckptMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(len(hj)))
	buf.Write(hj)
	for _, p := range m.Params() {
		binary.Write(&buf, binary.LittleEndian, p.Data)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &run.WriteError{Path: dir, Err: err}
	}
	return run.WriteFile(filepath.Join(dir, ModelFile), buf.Bytes())
}

// Load reads dir/model.npi and rebuilds the model with its task.
func Load(dir string) (*Model, error) {
	path := filepath.Join(dir, ModelFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	defer f.Close()
	m, err := readModel(f)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

func readModel(r io.Reader) (*Model, error) {
	magic := make([]byte, len(ckptMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != ckptMagic {
		return nil, fmt.Errorf("not an NPI model file")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > 1<<20 {
		return nil, fmt.Errorf("bad header length")
	}
	hj := make([]byte, n)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, fmt.Errorf("truncated header")
	}
	var h ckptHeader
	if err := json.Unmarshal(hj, &h); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if h.Version != 1 {
		return nil, fmt.Errorf("unsupported version %d", h.Version)
	}
	// The parameters follow the header; a configuration whose model
	// needs more values than the file holds is corrupt, refused before
	// NewModel allocates it.
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if need := h.Config.minParams(); need > int64(len(rest)/4) {
		return nil, fmt.Errorf("configuration %+v needs at least %d parameters, the file holds %d", h.Config, need, len(rest)/4)
	}
	r = bytes.NewReader(rest)
	t, err := NewTask(h.Config.Task, h.Config.Recursive)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(t, h.Config, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	ps := m.Params()
	if len(ps) != len(h.Params) {
		return nil, fmt.Errorf("%d parameters, the architecture has %d", len(h.Params), len(ps))
	}
	for i, p := range ps {
		if h.Params[i] != (ckptTensor{p.Name, p.Rows, p.Cols}) {
			return nil, fmt.Errorf("parameter %d is %+v, the architecture has %s %d×%d", i, h.Params[i], p.Name, p.Rows, p.Cols)
		}
		if err := binary.Read(r, binary.LittleEndian, p.Data); err != nil {
			return nil, fmt.Errorf("parameter %s: truncated data", p.Name)
		}
		for _, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("parameter %s holds a non-finite value", p.Name)
			}
		}
	}
	return m, nil
}

// minParams is a lower bound on the parameters of a model of this
// configuration (the LSTM's and the encoder's weights), computed without
// overflow for any sizes.
func (c ModelConfig) minParams() int64 {
	const limit = int64(1) << 50
	sat := func(a, b int64) int64 {
		if a <= 0 || b <= 0 {
			return 0
		}
		if a > limit/b {
			return limit
		}
		return a * b
	}
	h, e, p, k, l := int64(c.Hidden), int64(c.Enc), int64(c.ProgEmbed), int64(c.KeyDim), int64(c.EncLayers)
	in := min(max(e, 0), limit) + min(max(p, 0), limit) + min(max(h, 0), limit)
	n := sat(sat(4, h), in)               // LSTM input and recurrent weights
	n = min(n+sat(sat(l-1, e), e), limit) // encoder layers after the first
	return min(n+sat(h, k), limit)        // key projection
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return &run.WriteError{Path: path, Err: err}
	}
	return run.WriteFile(path, append(b, '\n'))
}

// StateFile is the training state's name inside a run directory: written
// after every epoch, removed when training ends.
const StateFile = "train.state"

const stateMagic = "NADIRNPS"

// SaveTrainState writes st to dir/train.state atomically, with a checksum.
func SaveTrainState(dir string, st *TrainState) error {
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(st); err != nil {
		return err
	}
	out := binary.LittleEndian.AppendUint32([]byte(stateMagic), crc32.ChecksumIEEE(body.Bytes()))
	return run.WriteFile(filepath.Join(dir, StateFile), append(out, body.Bytes()...))
}

// LoadTrainState reads dir/train.state.
func LoadTrainState(dir string) (*TrainState, error) {
	path := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < len(stateMagic)+4 || string(b[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%s: not an NPI training state", path)
	}
	body := b[len(stateMagic)+4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(stateMagic):]) {
		return nil, fmt.Errorf("%s: training state is corrupt (checksum mismatch)", path)
	}
	var st TrainState
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &st, nil
}
