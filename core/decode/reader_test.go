package decode

import (
	"encoding/binary"
	"math"
	"math/rand"
	"testing"
)

// TestLongAgainstStdlib checks the varint decoder's three paths (one byte, the
// 64-bit-load path, and the byte loop near the end of a block) against
// encoding/binary on values of every length, with and without bytes after them.
func TestLongAgainstStdlib(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	values := []int64{0, 1, -1, 63, -64, 64, -65, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32}
	for shift := 0; shift < 64; shift++ {
		values = append(values, 1<<shift, -(1 << shift), (1<<shift)-1, rng.Int63()>>shift, -(rng.Int63() >> shift))
	}
	for _, v := range values {
		enc := binary.AppendVarint(nil, v) // zigzag, as Avro
		for _, pad := range []int{0, 3, 16} {
			buf := append(append([]byte(nil), enc...), make([]byte, pad)...)
			for i := len(enc); i < len(buf); i++ {
				buf[i] = 0xff // continuation bits must not leak into the value
			}
			r := reader{buf: buf}
			if got := r.long(); got != v || r.err != nil || r.pos != len(enc) {
				t.Fatalf("value %d pad %d: got %d, pos %d, err %v", v, pad, got, r.pos, r.err)
			}
		}
	}
}

func TestLongRejectsOverlongAndShort(t *testing.T) {
	over := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0}
	if r := (reader{buf: over}); r.long() != 0 || r.err == nil {
		t.Fatalf("a 10-byte varint above 64 bits was accepted")
	}
	short := []byte{0x80, 0x80}
	if r := (reader{buf: short}); r.long() != 0 || r.err == nil {
		t.Fatalf("a truncated varint was accepted")
	}
}
