package encode

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"

	"github.com/jetliner/jetliner/core/schema"
)

// A block is encoded column by column, in two passes over each column: the
// first adds every row's encoded size to sizes, which become each row's offset
// in the block; the second writes each value at its row's offset. The common
// top-level columns (integers, floats, booleans, strings and bytes, nullable or
// not) have loops of their own that call nothing per value; every other column
// runs its row encoder (the closures of compile) into a scratch buffer in the
// first pass and copies the pieces in the second.

// colEnc is one column of a block segment: rows [start, start+n) of its array.
type colEnc interface {
	// sizes adds the encoded size of each row to sz[r]. A value that cannot be
	// written returns an error and its row (relative to start).
	sizes(sz []int32) (int, error)
	// put writes rows [first, first+len(at)) of the segment, row first+r at
	// buf[at[r]:], advancing at[r].
	put(buf []byte, at []int32, first int)
}

// colBinder makes a column's colEnc for a segment.
type colBinder func(arr arrow.Array, start, n int) colEnc

// longLen is the length of v as a zigzag varint.
func longLen(v int64) int32 {
	u := uint64(v<<1) ^ uint64(v>>63)
	return int32(bits.Len64(u|1)+6) / 7
}

// putLong writes v as a zigzag varint at b[p:] and returns the position after it.
func putLong(b []byte, p int32, v int64) int32 {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b[p] = byte(u) | 0x80
		u >>= 7
		p++
	}
	b[p] = byte(u)
	return p + 1
}

// nullable is the validity and branch bytes of a [null, T] column (valid is nil
// for a column that is not a union, or has no nulls in the segment).
type nullable struct {
	union       bool
	valid       []byte // the validity bitmap, nil when every value is valid
	off         int    // the array's offset into it
	null, value byte   // the branch bytes
}

func newNullable(n *schema.Node, arr arrow.Array) nullable {
	if !n.Nullable {
		return nullable{}
	}
	nl := nullable{union: true, null: byte(2 * n.NullIndex), value: byte(2 * (1 - n.NullIndex))}
	if arr.NullN() > 0 {
		nl.valid, nl.off = arr.NullBitmapBytes(), arr.Data().Offset()
	}
	return nl
}

func (nl *nullable) isNull(i int) bool {
	return nl.valid != nil && !bitutil.BitIsSet(nl.valid, nl.off+i)
}

// fixedCol is a column of fixed-width values: integers (as int or long),
// floats, doubles and booleans.
type fixedCol[T any] struct {
	nullable
	vals  []T
	start int
	size  func(T) int32
	write func(b []byte, p int32, v T) int32
}

func (c *fixedCol[T]) sizes(sz []int32) (int, error) {
	vals := c.vals[c.start : c.start+len(sz)]
	switch {
	case !c.union:
		for r, v := range vals {
			sz[r] += c.size(v)
		}
	case c.valid == nil:
		for r, v := range vals {
			sz[r] += 1 + c.size(v)
		}
	default:
		for r, v := range vals {
			if c.isNull(c.start + r) {
				sz[r]++
			} else {
				sz[r] += 1 + c.size(v)
			}
		}
	}
	return 0, nil
}

func (c *fixedCol[T]) put(buf []byte, at []int32, first int) {
	start := c.start + first
	vals := c.vals[start : start+len(at)]
	for r, v := range vals {
		p := at[r]
		if c.union {
			if c.isNull(start + r) {
				buf[p] = c.null
				at[r] = p + 1
				continue
			}
			buf[p] = c.value
			p++
		}
		at[r] = c.write(buf, p, v)
	}
}

// The per-type pieces of fixedCol. Go inlines neither through the func fields,
// so the hot types below get their own loops; these serve the rest.

func intSize[T integer](v T) int32 { return longLen(int64(v)) }

func intWrite[T integer](b []byte, p int32, v T) int32 { return putLong(b, p, int64(v)) }

// longCol is fixedCol specialised for int64 and int32 values, the most common.
type longCol[T int32 | int64] struct {
	nullable
	vals  []T
	start int
}

func (c *longCol[T]) sizes(sz []int32) (int, error) {
	vals := c.vals[c.start : c.start+len(sz)]
	extra := int32(0)
	if c.union {
		extra = 1
	}
	if c.valid == nil {
		for r, v := range vals {
			u := uint64(int64(v)<<1) ^ uint64(int64(v)>>63)
			sz[r] += extra + int32(bits.Len64(u|1)+6)/7
		}
		return 0, nil
	}
	for r, v := range vals {
		if c.isNull(c.start + r) {
			sz[r]++
		} else {
			sz[r] += 1 + longLen(int64(v))
		}
	}
	return 0, nil
}

func (c *longCol[T]) put(buf []byte, at []int32, first int) {
	start := c.start + first
	vals := c.vals[start : start+len(at)]
	for r, v := range vals {
		p := at[r]
		if c.union {
			if c.isNull(start + r) {
				buf[p] = c.null
				at[r] = p + 1
				continue
			}
			buf[p] = c.value
			p++
		}
		u := uint64(int64(v)<<1) ^ uint64(int64(v)>>63)
		for u >= 0x80 {
			buf[p] = byte(u) | 0x80
			u >>= 7
			p++
		}
		buf[p] = byte(u)
		at[r] = p + 1
	}
}

// doubleCol is fixedCol specialised for float64.
type doubleCol struct {
	nullable
	vals  []float64
	start int
}

func (c *doubleCol) sizes(sz []int32) (int, error) {
	n := int32(8)
	if c.union {
		n = 9
	}
	for r := range sz {
		if c.isNull(c.start + r) {
			sz[r]++
		} else {
			sz[r] += n
		}
	}
	return 0, nil
}

func (c *doubleCol) put(buf []byte, at []int32, first int) {
	start := c.start + first
	vals := c.vals[start : start+len(at)]
	for r, v := range vals {
		p := at[r]
		if c.union {
			if c.isNull(start + r) {
				buf[p] = c.null
				at[r] = p + 1
				continue
			}
			buf[p] = c.value
			p++
		}
		binary.LittleEndian.PutUint64(buf[p:p+8], math.Float64bits(v))
		at[r] = p + 8
	}
}

// boolCol writes booleans from the array's bitmap.
type boolCol struct {
	nullable
	bits       []byte
	off, start int
}

func (c *boolCol) sizes(sz []int32) (int, error) {
	n := int32(1)
	if c.union {
		n = 2
	}
	for r := range sz {
		if c.isNull(c.start + r) {
			sz[r]++
		} else {
			sz[r] += n
		}
	}
	return 0, nil
}

func (c *boolCol) put(buf []byte, at []int32, first int) {
	start := c.start + first
	for r := range at {
		p := at[r]
		if c.union {
			if c.isNull(start + r) {
				buf[p] = c.null
				at[r] = p + 1
				continue
			}
			buf[p] = c.value
			p++
		}
		buf[p] = 0
		if bitutil.BitIsSet(c.bits, c.off+start+r) {
			buf[p] = 1
		}
		at[r] = p + 1
	}
}

// textCol writes strings and bytes: a length, then the bytes.
type textCol[A interface{ Value(int) string }] struct {
	nullable
	arr   A
	start int
}

func (c *textCol[A]) sizes(sz []int32) (int, error) {
	extra := int32(0)
	if c.union {
		extra = 1
	}
	for r := range sz {
		if c.isNull(c.start + r) {
			sz[r]++
			continue
		}
		n := int64(len(c.arr.Value(c.start + r)))
		sz[r] += extra + longLen(n) + int32(n)
	}
	return 0, nil
}

func (c *textCol[A]) put(buf []byte, at []int32, first int) {
	start := c.start + first
	for r := range at {
		p := at[r]
		if c.union {
			if c.isNull(start + r) {
				buf[p] = c.null
				at[r] = p + 1
				continue
			}
			buf[p] = c.value
			p++
		}
		s := c.arr.Value(start + r)
		p = putLong(buf, p, int64(len(s)))
		at[r] = p + int32(copy(buf[p:], s))
	}
}

// binaryText adapts a binary array to Value(int) string.
type binaryText[A interface{ Value(int) []byte }] struct{ a A }

func (b binaryText[A]) Value(i int) string { return unsafeString(b.a.Value(i)) }

// rowCol runs a column's row encoder: into scratch in the first pass, copied
// into place in the second.
type rowCol struct {
	enc     encFn
	start   int
	scratch []byte
	ends    []int32
}

func (c *rowCol) sizes(sz []int32) (int, error) {
	c.scratch, c.ends = c.scratch[:0], c.ends[:0]
	var err error
	for r := range sz {
		before := len(c.scratch)
		if c.scratch, err = c.enc(c.scratch, c.start+r); err != nil {
			return r, err
		}
		sz[r] += int32(len(c.scratch) - before)
		c.ends = append(c.ends, int32(len(c.scratch)))
	}
	return 0, nil
}

func (c *rowCol) put(buf []byte, at []int32, first int) {
	prev := int32(0)
	if first > 0 {
		prev = c.ends[first-1]
	}
	for r, end := range c.ends[first : first+len(at)] {
		at[r] += int32(copy(buf[at[r]:], c.scratch[prev:end]))
		prev = end
	}
}

// fastColumn returns the column loop of a top-level column of Arrow type dt
// written as n, or nil when it has none (the row encoder serves). Only the
// conversions that cannot fail qualify: the loops check nothing.
func fastColumn(n *schema.Node, dt arrow.DataType) colBinder {
	b := fastColumnFor(n, dt)
	if b == nil || n.Nullable {
		return b
	}
	// A null where the type is not nullable is the row encoder's to report.
	return func(arr arrow.Array, start, count int) colEnc {
		if arr.NullN() > 0 {
			return nil
		}
		return b(arr, start, count)
	}
}

func fastColumnFor(n *schema.Node, dt arrow.DataType) colBinder {
	if n.SingleUnion || n.Logical != schema.LogicalNone || dt.ID() == arrow.NULL {
		return nil
	}
	switch {
	case n.Kind == schema.Long && dt.ID() == arrow.INT64, n.Kind == schema.Int && dt.ID() == arrow.INT32,
		n.Kind == schema.Long && dt.ID() == arrow.INT32:
		return func(arr arrow.Array, start, _ int) colEnc {
			if dt.ID() == arrow.INT64 {
				return &longCol[int64]{nullable: newNullable(n, arr), vals: fixedValues[int64](arr), start: start}
			}
			return &longCol[int32]{nullable: newNullable(n, arr), vals: fixedValues[int32](arr), start: start}
		}
	case (n.Kind == schema.Int || n.Kind == schema.Long) && (dt.ID() == arrow.INT8 || dt.ID() == arrow.INT16 || dt.ID() == arrow.UINT8 || dt.ID() == arrow.UINT16):
		return func(arr arrow.Array, start, _ int) colEnc {
			switch dt.ID() {
			case arrow.INT8:
				return &fixedCol[int8]{nullable: newNullable(n, arr), vals: fixedValues[int8](arr), start: start, size: intSize[int8], write: intWrite[int8]}
			case arrow.INT16:
				return &fixedCol[int16]{nullable: newNullable(n, arr), vals: fixedValues[int16](arr), start: start, size: intSize[int16], write: intWrite[int16]}
			case arrow.UINT8:
				return &fixedCol[uint8]{nullable: newNullable(n, arr), vals: fixedValues[uint8](arr), start: start, size: intSize[uint8], write: intWrite[uint8]}
			}
			return &fixedCol[uint16]{nullable: newNullable(n, arr), vals: fixedValues[uint16](arr), start: start, size: intSize[uint16], write: intWrite[uint16]}
		}
	case n.Kind == schema.Long && dt.ID() == arrow.UINT32:
		return func(arr arrow.Array, start, _ int) colEnc {
			return &fixedCol[uint32]{nullable: newNullable(n, arr), vals: fixedValues[uint32](arr), start: start, size: intSize[uint32], write: intWrite[uint32]}
		}
	case n.Kind == schema.Double && dt.ID() == arrow.FLOAT64:
		return func(arr arrow.Array, start, _ int) colEnc {
			return &doubleCol{nullable: newNullable(n, arr), vals: fixedValues[float64](arr), start: start}
		}
	case n.Kind == schema.Float && dt.ID() == arrow.FLOAT32:
		return func(arr arrow.Array, start, _ int) colEnc {
			return &fixedCol[float32]{nullable: newNullable(n, arr), vals: fixedValues[float32](arr), start: start,
				size: func(float32) int32 { return 4 },
				write: func(b []byte, p int32, v float32) int32 {
					binary.LittleEndian.PutUint32(b[p:p+4], math.Float32bits(v))
					return p + 4
				}}
		}
	case n.Kind == schema.Boolean && dt.ID() == arrow.BOOL:
		return func(arr arrow.Array, start, _ int) colEnc {
			return &boolCol{nullable: newNullable(n, arr), bits: arr.Data().Buffers()[1].Bytes(), off: arr.Data().Offset(), start: start}
		}
	case n.Kind == schema.String || n.Kind == schema.Bytes:
		var mk func(arr arrow.Array, nl nullable, start int) colEnc
		switch dt.ID() {
		case arrow.STRING_VIEW:
			mk = func(arr arrow.Array, nl nullable, start int) colEnc {
				return &textCol[*array.StringView]{nullable: nl, arr: arr.(*array.StringView), start: start}
			}
		case arrow.STRING:
			mk = func(arr arrow.Array, nl nullable, start int) colEnc {
				return &textCol[*array.String]{nullable: nl, arr: arr.(*array.String), start: start}
			}
		case arrow.LARGE_STRING:
			mk = func(arr arrow.Array, nl nullable, start int) colEnc {
				return &textCol[*array.LargeString]{nullable: nl, arr: arr.(*array.LargeString), start: start}
			}
		}
		if n.Kind == schema.Bytes {
			switch dt.ID() {
			case arrow.BINARY_VIEW:
				mk = func(arr arrow.Array, nl nullable, start int) colEnc {
					return &textCol[binaryText[*array.BinaryView]]{nullable: nl, arr: binaryText[*array.BinaryView]{arr.(*array.BinaryView)}, start: start}
				}
			case arrow.BINARY:
				mk = func(arr arrow.Array, nl nullable, start int) colEnc {
					return &textCol[binaryText[*array.Binary]]{nullable: nl, arr: binaryText[*array.Binary]{arr.(*array.Binary)}, start: start}
				}
			case arrow.LARGE_BINARY:
				mk = func(arr arrow.Array, nl nullable, start int) colEnc {
					return &textCol[binaryText[*array.LargeBinary]]{nullable: nl, arr: binaryText[*array.LargeBinary]{arr.(*array.LargeBinary)}, start: start}
				}
			}
		}
		if mk == nil {
			return nil
		}
		return func(arr arrow.Array, start, _ int) colEnc { return mk(arr, newNullable(n, arr), start) }
	}
	return nil
}
