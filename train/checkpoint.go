package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
)

// Checkpoint is everything needed to continue a run exactly: the
// architecture with the weights and the optimiser state (both inside Net,
// since optimiser slots live in the parameters), the optimiser's scalar
// state, the position (which with the seed fixes every random stream), the
// event log's length, and opaque state of the caller (the growth engine's
// round, phase and history).
type Checkpoint struct {
	Version int
	Net     []byte // nn.Net.MarshalBinary
	OptName string
	OptJSON []byte
	Pos     Position
	LogSize int64
	Extra   []byte
}

const ckptMagic = "NADIRCK1"

// NewCheckpoint captures the trainer's state.
func NewCheckpoint(t *Trainer, extra []byte) (*Checkpoint, error) {
	nb, err := t.Net.MarshalBinary()
	if err != nil {
		return nil, err
	}
	oj, err := json.Marshal(t.Opt)
	if err != nil {
		return nil, err
	}
	if err := t.Log.Sync(); err != nil {
		return nil, err
	}
	return &Checkpoint{Version: 1, Net: nb, OptName: t.Opt.Name(), OptJSON: oj, Pos: t.Pos, LogSize: t.Log.Size(), Extra: extra}, nil
}

// Save writes the checkpoint atomically.
func (c *Checkpoint) Save(path string) error {
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(c); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(ckptMagic)
	binary.Write(&buf, binary.LittleEndian, crc32.ChecksumIEEE(body.Bytes()))
	buf.Write(body.Bytes())
	return WriteFileAtomic(path, buf.Bytes())
}

// LoadCheckpoint reads and verifies a checkpoint file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeCheckpoint(b, path)
}

// decodeCheckpoint verifies and decodes the bytes of a checkpoint file;
// path names it in errors.
func decodeCheckpoint(b []byte, path string) (*Checkpoint, error) {
	if len(b) < len(ckptMagic)+4 || string(b[:len(ckptMagic)]) != ckptMagic {
		return nil, fmt.Errorf("%s: not a nadir checkpoint", path)
	}
	sum := binary.LittleEndian.Uint32(b[len(ckptMagic):])
	body := b[len(ckptMagic)+4:]
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%s: checkpoint is corrupt (checksum mismatch)", path)
	}
	var c Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if c.Version != 1 {
		return nil, fmt.Errorf("%s: unsupported checkpoint version %d", path, c.Version)
	}
	if p := c.Pos; p.Epoch < 0 || p.Step < 0 || p.PhaseStart < 0 || p.PhaseEpochs < 0 || p.Seen < 0 || c.LogSize < 0 {
		return nil, fmt.Errorf("%s: checkpoint is corrupt (negative position or log size)", path)
	}
	return &c, nil
}

// Restore rebuilds the network and optimiser of a checkpoint.
func (c *Checkpoint) Restore() (*nn.Net, optim.Optimizer, error) {
	net, err := nn.UnmarshalNet(c.Net)
	if err != nil {
		return nil, nil, err
	}
	opt, err := optim.New(c.OptName, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(c.OptJSON, opt); err != nil {
		return nil, nil, errors.Join(errors.New("optimizer state"), err)
	}
	return net, opt, nil
}
