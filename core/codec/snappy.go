package codec

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/klauspost/compress/snappy"
)

// snappyDecompressor implements the snappy codec: a raw snappy block (not the
// framed stream format) followed by the big-endian CRC-32 (IEEE) of the
// uncompressed data.
type snappyDecompressor struct{}

func (snappyDecompressor) Name() string { return "snappy" }

func (snappyDecompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	if len(src) < 4 {
		return dst[:0], corrupt("snappy", "block of %d bytes is too short for its CRC", len(src))
	}
	body := src[:len(src)-4]
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return dst[:0], corruptErr("snappy", err)
	}
	// The block states its decompressed length up front, so a bomb is refused
	// before anything is allocated.
	if limit >= 0 && int64(n) > limit {
		return dst[:0], tooLarge("snappy", limit)
	}
	if cap(dst) < n {
		dst = make([]byte, n) // no append: the old contents need not be copied
	}
	out, err := snappy.Decode(dst[:cap(dst)], body)
	if err != nil {
		return dst[:0], corruptErr("snappy", err)
	}
	stored := binary.BigEndian.Uint32(src[len(src)-4:])
	if computed := crc32.ChecksumIEEE(out); computed != stored {
		return dst[:0], corrupt("snappy", "CRC mismatch: stored 0x%08x, computed 0x%08x", stored, computed)
	}
	return out, nil
}
