package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// reader reads Avro binary values from one decompressed block. Errors are sticky,
// like bufio.Scanner's: the first one is kept, the position jumps to the end so
// every later read fails fast, and callers check err once per record rather than
// after every value.
type reader struct {
	buf []byte
	pos int
	err error
	// empty is how many more values that take no bytes (nulls, records of nulls)
	// this block may hold. The data length bounds everything else.
	empty int64
}

var (
	errShort    = errors.New("unexpected end of block data")
	errVarint   = errors.New("malformed varint")
	errNegative = errors.New("negative length")
)

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.pos = len(r.buf)
}

func (r *reader) failf(format string, args ...any) { r.fail(fmt.Errorf(format, args...)) }

// long reads a zigzag varint. Values below 64 in magnitude take one byte and are
// by far the most common, so that case is small enough to be inlined into every
// decoder; longer encodings take the loop in longSlow.
func (r *reader) long() int64 {
	if r.pos < len(r.buf) && r.buf[r.pos] < 0x80 {
		b := int64(r.buf[r.pos])
		r.pos++
		return b>>1 ^ -(b & 1)
	}
	return r.longSlow()
}

func (r *reader) longSlow() int64 {
	if len(r.buf)-r.pos >= 8 {
		// Varints of up to 8 bytes (56 bits: every timestamp, most ids) are
		// decoded from one 64-bit load without a loop: find the terminating byte,
		// then squeeze out the continuation bits in three shift-and-mask steps.
		x := binary.LittleEndian.Uint64(r.buf[r.pos:])
		if stop := ^x & 0x8080808080808080; stop != 0 {
			n := (bits.TrailingZeros64(stop) + 1) / 8 // bytes in the varint
			x &= ^uint64(0) >> (64 - 8*n)
			x &= 0x7f7f7f7f7f7f7f7f
			x = x&0x007f007f007f007f | (x&0x7f007f007f007f00)>>1
			x = x&0x00003fff00003fff | (x&0x3fff00003fff0000)>>2
			x = x&0x000000000fffffff | (x&0x0fffffff00000000)>>4
			r.pos += n
			return int64(x>>1) ^ -int64(x&1)
		}
	}
	if len(r.buf)-r.pos >= 10 {
		// Away from the end of the block a varint cannot run out of data, so the
		// bytes are taken without per-byte length checks.
		b := r.buf[r.pos : r.pos+10]
		u := uint64(b[0] & 0x7f)
		for i := 1; i < 10; i++ {
			u |= uint64(b[i]&0x7f) << (7 * i)
			if b[i] < 0x80 {
				if i == 9 && b[i] > 1 {
					break // more than 64 bits
				}
				r.pos += i + 1
				return int64(u>>1) ^ -int64(u&1)
			}
		}
		r.fail(errVarint)
		return 0
	}
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.pos >= len(r.buf) {
			r.fail(errShort)
			return 0
		}
		b := r.buf[r.pos]
		r.pos++
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if shift == 63 && b > 1 {
				break // more than 64 bits
			}
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	r.fail(errVarint)
	return 0
}

// int reads a long that must fit in 32 bits, as Avro ints do.
func (r *reader) int() int32 {
	v := r.long()
	if v != int64(int32(v)) {
		r.failf("int value %d out of 32-bit range", v)
		return 0
	}
	return int32(v)
}

func (r *reader) boolean() bool {
	if r.pos >= len(r.buf) {
		r.fail(errShort)
		return false
	}
	b := r.buf[r.pos]
	r.pos++
	if b > 1 {
		r.failf("invalid boolean byte 0x%02x", b)
	}
	return b == 1
}

func (r *reader) float() float32 {
	if len(r.buf)-r.pos < 4 {
		r.fail(errShort)
		return 0
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(r.buf[r.pos:]))
	r.pos += 4
	return v
}

func (r *reader) double() float64 {
	if len(r.buf)-r.pos < 8 {
		r.fail(errShort)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.buf[r.pos:]))
	r.pos += 8
	return v
}

// bytes reads a length-prefixed byte string. The result aliases the block buffer.
func (r *reader) bytes() []byte {
	n := r.long()
	if n < 0 {
		r.fail(errNegative)
		return nil
	}
	if int64(len(r.buf)-r.pos) < n {
		r.fail(errShort)
		return nil
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

// fixed reads n raw bytes. The result aliases the block buffer.
func (r *reader) fixed(n int) []byte {
	if len(r.buf)-r.pos < n {
		r.fail(errShort)
		return nil
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b
}

func (r *reader) skip(n int64) {
	if n < 0 {
		r.fail(errNegative)
		return
	}
	if int64(len(r.buf)-r.pos) < n {
		r.fail(errShort)
		return
	}
	r.pos += int(n)
}

// blockCount reads the item count of one block of an array or map. A negative count
// is followed by the block's size in bytes; end is where the block's items must
// then end (see blockDone), and -1 for a block without a size. minItem is the
// smallest encoding of one item; it bounds the count so that a corrupt count
// cannot make us allocate far beyond the data we actually have.
func (r *reader) blockCount(minItem int) (n int64, end int) {
	n, end = r.long(), -1
	if n < 0 {
		if n == math.MinInt64 {
			r.failf("invalid item count")
			return 0, -1
		}
		n = -n
		size := r.long()
		if r.err != nil {
			return 0, -1
		}
		if size < 0 || size > int64(len(r.buf)-r.pos) {
			r.failf("array or map block declares %d bytes but %d are left", size, len(r.buf)-r.pos)
			return 0, -1
		}
		end = r.pos + int(size)
	}
	left := int64(len(r.buf) - r.pos)
	if minItem > 0 && n > left/int64(minItem) || minItem == 0 && n > left+r.empty {
		r.failf("item count %d is impossible with %d bytes left", n, left)
		return 0, -1
	}
	return n, end
}

// blockDone checks that the items of a block written with its size took exactly
// that many bytes. Skipping jumps by the size, so without this check a corrupt
// size gave different rows depending on which columns were read.
func (r *reader) blockDone(end int) {
	if end >= 0 && r.err == nil && r.pos != end {
		r.failf("array or map block items end %d bytes away from where the block's declared size puts its end", r.pos-end)
	}
}

// maxEmptyItems caps the values in one block that take no bytes on the wire (array
// items or records made only of nulls), which the data length cannot bound. It is
// a budget for the whole block: it used to be a cap per array block, so each
// byte of a count could buy 16M items, and a few bytes of a corrupt file made the
// decoder spin for minutes or render gigabytes of JSON.
const maxEmptyItems = 1 << 24

// emptyItem charges one value that took no bytes against the block's budget.
func (r *reader) emptyItem() { r.emptyItems(1) }

// jsonEmptyCost is what an empty value costs when rendered as JSON, where it is
// text ("null", "{}") rather than a counter: 65536 of them per block at most.
const jsonEmptyCost = 256

func (r *reader) emptyItems(cost int64) {
	r.empty -= cost
	if r.empty < 0 {
		r.failf("more than %d values that take no bytes in one block", maxEmptyItems)
	}
}
