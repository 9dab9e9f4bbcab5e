package run

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"hash/crc32"
	"testing"
)

// FuzzDecodeCheckpointFramed decodes arbitrary checkpoint bodies behind a
// correct checksum, in the current format and in the first (gob) one, so
// that mutations reach the length and log-size checks behind the CRC: an
// error, or a checkpoint that re-encodes to the same file.
func FuzzDecodeCheckpointFramed(f *testing.F) {
	f.Add(EncodeCheckpoint(&Checkpoint{LogSize: 12, State: []byte("state")})[len(ckptMagic)+4:], false)
	var old bytes.Buffer
	gob.NewEncoder(&old).Encode(struct {
		LogSize int64
		State   []byte
	}{40, []byte("x")})
	f.Add(old.Bytes(), true)
	f.Fuzz(func(t *testing.T, body []byte, first bool) {
		var b []byte
		if first {
			b = binary.LittleEndian.AppendUint32([]byte(ckptMagic1), crc32.ChecksumIEEE(body))
		} else {
			b = binary.LittleEndian.AppendUint32([]byte(ckptMagic), crc32.Checksum(body, castagnoli))
		}
		b = append(b, body...)
		c, err := DecodeCheckpoint(b)
		if err != nil {
			return
		}
		if c.LogSize < 0 {
			t.Fatalf("negative log size %d accepted", c.LogSize)
		}
		if !first && !bytes.Equal(EncodeCheckpoint(c), b) {
			t.Fatal("re-encoding differs")
		}
	})
}
