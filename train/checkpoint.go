package train

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nadir-ml/nadir/nn"
	"github.com/nadir-ml/nadir/optim"
	"github.com/nadir-ml/nadir/run"
)

// Checkpoint is the trainer's part of a run checkpoint, everything needed
// to continue a run exactly: the architecture with the weights and the
// optimiser state (both inside Net, since optimiser slots live in the
// parameters), the optimiser's scalar state, the position (which with the
// seed fixes every random stream), and opaque state of the caller (the
// growth engine's round, phase and history). The run package frames it
// with the event log's length and a checksum.
type Checkpoint struct {
	Version int
	Net     []byte // nn.Net.MarshalBinary
	OptName string
	OptJSON []byte
	Pos     Position
	Extra   []byte
	// Warning is not stored: Resume sets it when the latest checkpoint was
	// damaged and this is the previous one.
	Warning string `json:"-"`
}

const stateVersion = 2

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
	return &Checkpoint{Version: stateVersion, Net: nb, OptName: t.Opt.Name(), OptJSON: oj, Pos: t.Pos, Extra: extra}, nil
}

// Encode renders the checkpoint as a run checkpoint's state (not MarshalBinary:
// gob would call it for itself).
func (c *Checkpoint) Encode() ([]byte, error) {
	var b bytes.Buffer
	w := *c
	w.Warning = ""
	if err := gob.NewEncoder(&b).Encode(&w); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeCheckpoint decodes a run checkpoint's state.
func decodeCheckpoint(rc *run.Checkpoint) (*Checkpoint, error) {
	var c Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(rc.State)).Decode(&c); err != nil {
		return nil, fmt.Errorf("trainer state: %v", err)
	}
	// Version 1 is the state of format-0 checkpoints, which also held the
	// log size (read by package run; gob skips the field here).
	if c.Version != 1 && c.Version != stateVersion {
		return nil, fmt.Errorf("unsupported trainer state version %d", c.Version)
	}
	if p := c.Pos; p.Epoch < 0 || p.Step < 0 || p.PhaseStart < 0 || p.PhaseEpochs < 0 || p.Seen < 0 {
		return nil, fmt.Errorf("trainer state is corrupt (negative position)")
	}
	c.Warning = rc.Warning
	return &c, nil
}

// LoadCheckpoint reads and verifies a checkpoint file (such as
// ckpt/round-3.ckpt).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	rc, err := run.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	c, err := decodeCheckpoint(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// LoadRunCheckpoint reads the latest usable checkpoint of a run directory
// (the previous one, with Warning set, when the latest is damaged).
func LoadRunCheckpoint(dir string) (*Checkpoint, error) {
	rc, err := run.ReadCheckpointOf(dir)
	if err != nil {
		return nil, err
	}
	c, err := decodeCheckpoint(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	return c, nil
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

// Save writes the checkpoint alone to path (outside a run directory: no
// log length), atomically.
func (c *Checkpoint) Save(path string) error {
	b, err := c.Encode()
	if err != nil {
		return err
	}
	return run.WriteFile(path, run.EncodeCheckpoint(&run.Checkpoint{State: b}))
}
