package run

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// Checkpoint file names inside a run directory's ckpt/.
const (
	CkptDir  = "ckpt"
	LastCkpt = "last.ckpt" // the latest checkpoint
	PrevCkpt = "prev.ckpt" // the one before it, kept for when the latest is damaged
)

// Checkpoint is what a run directory keeps to continue a run: the event
// log's length at the moment of the checkpoint and the producer's state,
// opaque to this package (the trainer's network, optimiser and position,
// the growth engine's rounds).
type Checkpoint struct {
	LogSize int64
	State   []byte
	// Warning is set by Resume when the latest checkpoint was unusable and
	// this one is the previous: it says what was wrong with the latest.
	Warning string
}

// The checkpoint file: magic, CRC-32C of everything after the checksum,
// the log size and the state's length (both uint64, little-endian), the
// state. A flipped bit or a truncated file fails the checksum or the
// length; nothing of a damaged file is decoded.
const ckptMagic = "NADIRCK2"

const ckptHeader = len(ckptMagic) + 4 + 8 + 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by the errors of damaged checkpoint files.
var ErrCorrupt = errors.New("checkpoint is damaged")

// EncodeCheckpoint renders c as a checkpoint file's bytes.
func EncodeCheckpoint(c *Checkpoint) []byte {
	b := make([]byte, ckptHeader+len(c.State))
	copy(b, ckptMagic)
	binary.LittleEndian.PutUint64(b[len(ckptMagic)+4:], uint64(c.LogSize))
	binary.LittleEndian.PutUint64(b[len(ckptMagic)+12:], uint64(len(c.State)))
	copy(b[ckptHeader:], c.State)
	binary.LittleEndian.PutUint32(b[len(ckptMagic):], crc32.Checksum(b[len(ckptMagic)+4:], castagnoli))
	return b
}

// DecodeCheckpoint verifies and decodes a checkpoint file's bytes; a
// damaged file gives an error wrapping ErrCorrupt.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) >= len(ckptMagic1) && string(b[:len(ckptMagic1)]) == ckptMagic1 {
		return decodeCheckpoint1(b)
	}
	if len(b) < len(ckptMagic) || string(b[:len(ckptMagic)]) != ckptMagic {
		return nil, errors.New("not a nadir checkpoint")
	}
	if len(b) < ckptHeader {
		return nil, fmt.Errorf("%w: truncated header (%d bytes)", ErrCorrupt, len(b))
	}
	n := binary.LittleEndian.Uint64(b[len(ckptMagic)+12:])
	if n != uint64(len(b)-ckptHeader) {
		return nil, fmt.Errorf("%w: %d bytes of state, the header says %d (truncated?)", ErrCorrupt, len(b)-ckptHeader, n)
	}
	if crc32.Checksum(b[len(ckptMagic)+4:], castagnoli) != binary.LittleEndian.Uint32(b[len(ckptMagic):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	size := binary.LittleEndian.Uint64(b[len(ckptMagic)+4:])
	if size > 1<<62 {
		return nil, fmt.Errorf("%w: log size %d", ErrCorrupt, size)
	}
	return &Checkpoint{LogSize: int64(size), State: append([]byte(nil), b[ckptHeader:]...)}, nil
}

// ReadCheckpoint reads and verifies a checkpoint file; errors name path.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// saveCheckpoint writes dir/ckpt/last.ckpt, the previous latest becoming
// prev.ckpt. The new file is complete and synced before either rename, so
// a failed write leaves last.ckpt as it was, and a crash between the
// renames leaves prev.ckpt, which loadLatest falls back to.
func saveCheckpoint(dir string, c *Checkpoint) error {
	cdir := filepath.Join(dir, CkptDir)
	last := filepath.Join(cdir, LastCkpt)
	tmp := filepath.Join(cdir, ".next.ckpt")
	if err := writeFile(tmp, EncodeCheckpoint(c)); err != nil {
		os.Remove(tmp)
		return &WriteError{Path: last, Err: fmt.Errorf("%w (the last good checkpoint is kept)", err)}
	}
	if err := os.Rename(last, filepath.Join(cdir, PrevCkpt)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &WriteError{Path: last, Err: err}
	}
	if err := os.Rename(tmp, last); err != nil {
		return &WriteError{Path: last, Err: err}
	}
	syncDir(cdir)
	return nil
}

// loadLatest reads ckpt/last.ckpt, or ckpt/prev.ckpt with a Warning when
// the latest is missing or damaged.
func loadLatest(dir string) (*Checkpoint, error) {
	cdir := filepath.Join(dir, CkptDir)
	last, lerr := ReadCheckpoint(filepath.Join(cdir, LastCkpt))
	if lerr == nil {
		return last, nil
	}
	prev, perr := ReadCheckpoint(filepath.Join(cdir, PrevCkpt))
	if perr == nil {
		why := lerr.Error()
		if errors.Is(lerr, fs.ErrNotExist) {
			why = filepath.Join(cdir, LastCkpt) + ": missing"
		}
		prev.Warning = fmt.Sprintf("%s; resuming from the previous checkpoint, %s", why, filepath.Join(cdir, PrevCkpt))
		return prev, nil
	}
	if errors.Is(lerr, fs.ErrNotExist) && errors.Is(perr, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no checkpoint yet (%s); start the run again", dir, filepath.Join(CkptDir, LastCkpt))
	}
	if errors.Is(lerr, fs.ErrNotExist) {
		return nil, perr
	}
	return nil, lerr
}

// Format 0 checkpoints ("NADIRCK1", written before this package) are a
// CRC-32 (IEEE) of the body and the trainer's gob, which held the log size
// itself as LogSize. The gob is the state as it was; decoding it into a
// struct of that one field reads the size and skips the rest.
const ckptMagic1 = "NADIRCK1"

func decodeCheckpoint1(b []byte) (*Checkpoint, error) {
	if len(b) < len(ckptMagic1)+4 {
		return nil, fmt.Errorf("%w: truncated header (%d bytes)", ErrCorrupt, len(b))
	}
	body := b[len(ckptMagic1)+4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(ckptMagic1):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	var v0 struct{ LogSize int64 }
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&v0); err != nil || v0.LogSize < 0 {
		return nil, fmt.Errorf("%w: format 0 state: %v", ErrCorrupt, err)
	}
	return &Checkpoint{LogSize: v0.LogSize, State: append([]byte(nil), body...)}, nil
}
