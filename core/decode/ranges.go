package decode

import (
	"encoding/binary"
	"math/big"
	"math/bits"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Values that Avro allows but Polars cannot hold as the type they map to. Polars
// takes each of them without complaint and then shows null (a time of day
// beyond 24 h) or wrong digits (a decimal wider than its precision). So the
// decoder refuses them: the record fails with a DecodeError like any bad data,
// and ignore_errors skips its block. Each check is one comparison on a value
// already in a register.
//
// Dates and timestamps are not checked: Polars holds every 32-bit day and every
// 64-bit count exactly, and files use extremes on purpose (Long.MAX_VALUE as
// "valid forever"), though Polars cannot print instants beyond year 262142.

const (
	msPerDay = 86_400_000
	usPerDay = msPerDay * 1000
)

// outOfRange fails the record for value v of a logical type. It is out of line
// and the decoders return right after it, appending nothing (the block is rolled
// back anyway), so their hot paths hold no spill or call setup for it.
//
//go:noinline
func outOfRange(r *reader, logical string, v int64, valid string) {
	r.failf("%s value %d is outside %s", logical, v, valid)
}

// timeMillisCol and timeMicrosCol scale to nanoseconds, Polars' only Time unit, so
// Polars takes the buffer as is. A time of day is in [0, 24 h): Polars shows
// anything else as null.
type timeMillisCol struct {
	prim[int64]
	nullPrefix
}

func (c *timeMillisCol) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	v := r.int()
	if uint32(v) >= msPerDay {
		outOfRange(r, "time-millis", int64(v), "a day [0, 86400000)")
		return
	}
	c.put(int64(v) * 1_000_000)
}

type timeMicrosCol struct {
	prim[int64]
	nullPrefix
}

func (c *timeMicrosCol) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	v := r.long()
	if uint64(v) >= usPerDay {
		outOfRange(r, "time-micros", v, "a day [0, 86400000000)")
		return
	}
	c.put(v * 1_000)
}

// decimalCol turns big-endian two's-complement bytes into Arrow's little-endian
// 128-bit decimals, and checks that each value has no more digits than the
// precision: Polars would show a wider value's digits as they are, wrong for
// the type.
type decimalCol struct {
	prim[[2]uint64]
	size      int       // fixed size, or 0 for bytes
	bound     [2]uint64 // 10^precision: values' magnitudes must be below it
	precision int
	scale     int
}

// pow10 is 10^p as a 128-bit number (low word, high word), for p up to 38.
func pow10(p int) [2]uint64 {
	var lo, hi uint64 = 1, 0
	for i := 0; i < p; i++ {
		h, l := bits.Mul64(lo, 10)
		lo, hi = l, hi*10+h
	}
	return [2]uint64{lo, hi}
}

func newDecimalCol(dt arrow.DataType, size int, alloc memory.Allocator) *decimalCol {
	d := dt.(*arrow.Decimal128Type)
	c := &decimalCol{size: size, precision: int(d.Precision), scale: int(d.Scale), bound: pow10(int(d.Precision))}
	c.init(dt, alloc)
	return c
}

func (c *decimalCol) decode(r *reader) {
	var b []byte
	if c.size > 0 {
		b = r.fixed(c.size)
	} else {
		b = r.bytes()
	}
	if r.err != nil {
		return
	}
	if len(b) > 16 {
		// Wider encodings are fine as long as the extra bytes are only sign.
		sign := byte(0)
		if b[0]&0x80 != 0 {
			sign = 0xff
		}
		for _, x := range b[:len(b)-16] {
			if x != sign {
				r.failf("decimal value does not fit in 128 bits")
				return
			}
		}
		b = b[len(b)-16:]
	}
	var be [16]byte
	if len(b) > 0 && b[0]&0x80 != 0 {
		for i := range be {
			be[i] = 0xff
		}
	}
	copy(be[16-len(b):], b)
	lo, hi := binary.BigEndian.Uint64(be[8:]), binary.BigEndian.Uint64(be[:8])
	// The magnitude, compared with 10^precision as an unsigned 128-bit number.
	// The most negative value stays 2^127 when negated, above every bound.
	mlo, mhi := lo, hi
	if int64(hi) < 0 {
		var borrow uint64
		mlo, borrow = bits.Sub64(0, lo, 0)
		mhi, _ = bits.Sub64(0, hi, borrow)
	}
	if mhi > c.bound[1] || (mhi == c.bound[1] && mlo >= c.bound[0]) {
		c.tooWide(r, lo, hi)
		return
	}
	c.put([2]uint64{lo, hi})
}

//go:noinline
func (c *decimalCol) tooWide(r *reader, lo, hi uint64) {
	r.failf("decimal(%d,%d) value %s has more than %d digits", c.precision, c.scale, formatDecimal(lo, hi, c.scale), c.precision)
}

// formatDecimal renders a 128-bit two's-complement unscaled value with scale
// digits after the point, for error messages.
func formatDecimal(lo, hi uint64, scale int) string {
	v := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
	v.Or(v, new(big.Int).SetUint64(lo))
	if int64(hi) < 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	digits := new(big.Int).Abs(v).String()
	sign := ""
	if v.Sign() < 0 {
		sign = "-"
	}
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}
