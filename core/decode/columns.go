package decode

import (
	"encoding/binary"
	"math"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// column decodes values of one Avro type and appends them to Arrow buffers. There
// is one implementation per Avro type; nested types hold their children.
//
// Every column can take nulls, even non-nullable ones: the children of a null
// struct or of an untaken union branch are null in Arrow.
type column interface {
	decode(r *reader) // read one value from r and append it
	appendNull()
	reserve(n int) // room for n more values, a hint
	length() int
	// finish hands the accumulated values over as Arrow data (the caller owns one
	// reference) and leaves the column empty for the next batch.
	finish() arrow.ArrayData
	release() // drop everything without building
	// mark and rollback bracket one block, so a bad block under ignore_errors
	// leaves no half-decoded rows behind.
	mark()
	rollback()
}

// newData builds Arrow data from buffers and children that this package owns one
// reference to, and hands that reference over to the result.
func newData(dt arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData, nulls int) arrow.ArrayData {
	d := array.NewData(dt, n, bufs, children, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	for _, c := range children {
		c.Release()
	}
	return d
}

// ---- null -----------------------------------------------------------------------

type nullCol struct{ n, saved int }

func (c *nullCol) decode(*reader) { c.n++ }
func (c *nullCol) appendNull()    { c.n++ }
func (c *nullCol) reserve(int)    {}
func (c *nullCol) length() int    { return c.n }
func (c *nullCol) release()       { c.n = 0 }
func (c *nullCol) mark()          { c.saved = c.n }
func (c *nullCol) rollback()      { c.n = c.saved }
func (c *nullCol) finish() arrow.ArrayData {
	n := c.n
	c.n = 0
	return array.NewData(arrow.Null, n, []*memory.Buffer{nil}, nil, n, 0)
}

// ---- fixed-width primitives -------------------------------------------------------

// prim is the shared part of the fixed-width columns: a validity bitmap and values.
type prim[T any] struct {
	dt    arrow.DataType
	nulls validity
	v     values[T]
}

func (c *prim[T]) init(dt arrow.DataType, alloc memory.Allocator) {
	c.dt = dt
	c.nulls.init(alloc)
	c.v.init(alloc)
}

func (c *prim[T]) put(x T) {
	c.v.append(x)
	c.nulls.appendValid()
}

func (c *prim[T]) appendNull() {
	var zero T
	c.v.append(zero)
	c.nulls.appendNull()
}

func (c *prim[T]) reserve(n int) { c.v.reserve(n) }
func (c *prim[T]) length() int   { return c.v.n }
func (c *prim[T]) mark()         { c.v.mark(); c.nulls.mark() }
func (c *prim[T]) rollback()     { c.v.rollback(); c.nulls.rollback() }
func (c *prim[T]) release()      { c.v.release(); c.nulls.release() }

func (c *prim[T]) finish() arrow.ArrayData {
	n := c.v.n
	bm, nulls := c.nulls.take()
	return newData(c.dt, n, []*memory.Buffer{bm, c.v.take()}, nil, nulls)
}

// The leaf columns below write straight into their reserved buffers and read the
// branch index of a [null, T] union themselves (see nullPrefix): these are the
// innermost loop of every read, where a call or a wrapper per value shows.

type int32Col struct {
	prim[int32]
	nullPrefix
}

func (c *int32Col) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	v := r.long()
	if v != int64(int32(v)) {
		r.failf("int value %d out of 32-bit range", v)
	}
	if c.v.n < len(c.v.vals) {
		c.v.vals[c.v.n] = int32(v)
		c.v.n++
		c.nulls.n++
		return
	}
	c.put(int32(v))
}

type int64Col struct {
	prim[int64]
	nullPrefix
}

func (c *int64Col) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	v := r.long()
	if c.v.n < len(c.v.vals) {
		c.v.vals[c.v.n] = v
		c.v.n++
		c.nulls.n++
		return
	}
	c.put(v)
}

type float32Col struct {
	prim[float32]
	nullPrefix
}

func (c *float32Col) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	c.put(r.float())
}

type float64Col struct {
	prim[float64]
	nullPrefix
}

func (c *float64Col) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	v := r.double()
	if c.v.n < len(c.v.vals) {
		c.v.vals[c.v.n] = v
		c.v.n++
		c.nulls.n++
		return
	}
	c.put(v)
}

// nullPrefix lets a leaf column decode a [null, T] union itself. The branch index
// of a two-branch union is one byte, 0x00 or 0x02, so it is checked as such.
type nullPrefix struct {
	nullable  bool
	nullByte  byte // the encoding of the null branch's index
	valueByte byte // the encoding of the other branch's index
}

func (u *nullPrefix) setNullable(nullIdx int) {
	u.nullable = true
	u.nullByte, u.valueByte = byte(2*nullIdx), byte(2*(1-nullIdx))
}

// readNull reads the branch index and reports whether it is the null branch. A
// bad index fails the reader and counts as null; the block is dropped anyway.
func (u *nullPrefix) readNull(r *reader) bool {
	if r.pos >= len(r.buf) {
		r.fail(errShort)
		return true
	}
	b := r.buf[r.pos]
	r.pos++
	switch b {
	case u.valueByte:
		return false
	case u.nullByte:
		return true
	}
	r.failf("union branch index out of range for a 2-branch union")
	return true
}

// nullableLeaf is a column that decodes a [null, T] union without a wrapper.
type nullableLeaf interface {
	column
	setNullable(nullIdx int)
}

// boolCol packs booleans into a bitmap.
type boolCol struct {
	nulls validity
	bits  bitmap
	nullPrefix
}

func newBoolCol(alloc memory.Allocator) *boolCol {
	c := &boolCol{}
	c.nulls.init(alloc)
	c.bits.init(alloc)
	return c
}

func (c *boolCol) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	c.bits.append(r.boolean())
	c.nulls.appendValid()
}

func (c *boolCol) appendNull() {
	c.bits.append(false)
	c.nulls.appendNull()
}

func (c *boolCol) reserve(n int) { c.bits.reserve(n) }
func (c *boolCol) length() int   { return c.bits.n }
func (c *boolCol) mark()         { c.nulls.mark(); c.bits.mark() }
func (c *boolCol) rollback()     { c.nulls.rollback(); c.bits.rollback() }
func (c *boolCol) release()      { c.nulls.release(); c.bits.release() }

func (c *boolCol) finish() arrow.ArrayData {
	n := c.bits.n
	bm, nulls := c.nulls.take()
	return newData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{bm, c.bits.take()}, nil, nulls)
}

// ---- variable-width: bytes, string, fixed -------------------------------------------

// binaryCol holds binary and string values in Arrow's view layout (binary_view,
// string_view), which is what Polars stores: Polars takes the buffers as they
// are, where the offsets layout needed a conversion pass on Polars' side. A view
// is 16 bytes: the length, then a value of up to 12 bytes inline, or its first 4
// bytes, a buffer index and an offset into the data buffer.
type binaryCol struct {
	dt    arrow.DataType
	nulls validity
	views values[uint64] // two words per value
	data  bytesBuf       // the values longer than 12 bytes
	// perRow is the data bytes per value of the last batch: reserving by it
	// spares most of the reallocations (and their copies) of a growing buffer.
	perRow float64
}

const maxInline = 12 // bytes of a value held in its view

func (c *binaryCol) init(dt arrow.DataType, alloc memory.Allocator) {
	c.dt = dt
	c.nulls.init(alloc)
	c.views.init(alloc)
	c.data.init(alloc)
}

func (c *binaryCol) put(r *reader, b []byte) {
	n := len(b)
	if c.views.n+2 > len(c.views.vals) {
		c.views.reserve(2)
	}
	v := c.views.vals[c.views.n : c.views.n+2 : c.views.n+2]
	c.views.n += 2
	c.nulls.appendValid()
	if n <= maxInline {
		lo, hi := loadShort(b)
		v[0] = uint64(n) | lo<<32
		v[1] = lo>>32 | hi<<32
		return
	}
	if c.data.n+n > math.MaxInt32 {
		r.failf("more than 2 GiB of string data in one batch; use a smaller batch_size")
		return
	}
	v[0] = uint64(n) | uint64(binary.LittleEndian.Uint32(b))<<32
	v[1] = uint64(c.data.n) << 32 // buffer 0, at this offset
	c.data.appendBytes(b)
}

// loadShort returns the bytes of b (at most 12) as two little-endian words, the
// bytes past its end zero, as the view layout requires. Most values sit inside a
// block buffer with bytes to spare after them, and are loaded without a copy.
func loadShort(b []byte) (lo, hi uint64) {
	n := len(b)
	if cap(b) >= 12 {
		w := b[:12]
		lo = binary.LittleEndian.Uint64(w)
		hi = uint64(binary.LittleEndian.Uint32(w[8:]))
	} else {
		var w [12]byte
		copy(w[:], b)
		lo = binary.LittleEndian.Uint64(w[:])
		hi = uint64(binary.LittleEndian.Uint32(w[8:]))
	}
	if n < 8 {
		return lo & (1<<(8*n) - 1), 0
	}
	return lo, hi & (1<<(8*(n-8)) - 1)
}

func (c *binaryCol) appendNull() {
	c.views.append(0)
	c.views.append(0)
	c.nulls.appendNull()
}

func (c *binaryCol) reserve(n int) {
	c.views.reserve(2 * n)
	c.data.reserve(int(float64(n) * c.perRow * 1.05))
}

func (c *binaryCol) length() int { return c.views.n / 2 }
func (c *binaryCol) mark()       { c.views.mark(); c.data.mark(); c.nulls.mark() }
func (c *binaryCol) rollback()   { c.views.rollback(); c.data.rollback(); c.nulls.rollback() }
func (c *binaryCol) release()    { c.views.release(); c.data.release(); c.nulls.release() }

func (c *binaryCol) finish() arrow.ArrayData {
	n := c.length()
	if n > 0 {
		c.perRow = float64(c.data.n) / float64(n)
	}
	bm, nulls := c.nulls.take()
	bufs := []*memory.Buffer{bm, c.views.take()}
	if c.data.n > 0 {
		bufs = append(bufs, c.data.take())
	} else {
		c.data.release()
	}
	return newData(c.dt, n, bufs, nil, nulls)
}

type bytesCol struct {
	binaryCol
	nullPrefix
}

func (c *bytesCol) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	c.put(r, r.bytes())
}

// stringCol checks UTF-8: Polars assumes valid strings, and bad bytes are a corrupt
// file, not something to pass on silently.
type stringCol struct {
	binaryCol
	nullPrefix
}

func (c *stringCol) decode(r *reader) {
	if c.nullable && c.readNull(r) {
		c.appendNull()
		return
	}
	b := r.bytes()
	if !validUTF8(b) {
		r.failf("string is not valid UTF-8")
		return
	}
	c.put(r, b)
}

func validUTF8(b []byte) bool {
	if n := len(b); n <= 16 && cap(b) >= 16 {
		// Short values (most of them) in two loads, masked to their length.
		w := b[:16]
		lo := binary.LittleEndian.Uint64(w)
		hi := binary.LittleEndian.Uint64(w[8:])
		if n < 8 {
			lo, hi = lo&(1<<(8*n)-1), 0
		} else {
			hi &= 1<<(8*(n-8)) - 1
		}
		return (lo|hi)&0x8080808080808080 == 0 || utf8.Valid(b)
	}
	// ASCII fast path, 8 bytes at a time.
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			return utf8.Valid(b[i:])
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return utf8.Valid(b[i:])
		}
	}
	return true
}

type fixedCol struct {
	binaryCol
	size int
}

func (c *fixedCol) decode(r *reader) { c.put(r, r.fixed(c.size)) }

// uuidFixedCol renders a fixed[16] uuid in its canonical 36-character text form.
type uuidFixedCol struct{ binaryCol }

func (c *uuidFixedCol) decode(r *reader) {
	b := r.fixed(16)
	if b == nil {
		return
	}
	var out [36]byte
	const hex = "0123456789abcdef"
	j := 0
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[x>>4], hex[x&15]
		j += 2
	}
	c.put(r, out[:])
}

// ---- enum -----------------------------------------------------------------------

// enumCol stores symbol indices; the dictionary of symbols is attached at finish.
type enumCol[T uint8 | uint16 | uint32] struct {
	prim[T]
	symbols []string
	alloc   memory.Allocator
}

func (c *enumCol[T]) decode(r *reader) {
	i := r.long()
	if i < 0 || i >= int64(len(c.symbols)) {
		r.failf("enum index %d out of range (%d symbols)", i, len(c.symbols))
		return
	}
	c.put(T(i))
}

func (c *enumCol[T]) finish() arrow.ArrayData {
	d := c.prim.finish().(*array.Data)
	b := array.NewStringBuilder(c.alloc)
	defer b.Release()
	b.AppendValues(c.symbols, nil)
	dict := b.NewArray()
	defer dict.Release()
	d.SetDictionary(dict.Data())
	return d
}

// ---- records, arrays, maps --------------------------------------------------------

// structCol is a record: one child column per field.
type structCol struct {
	dt       arrow.DataType
	nulls    validity
	children []column
	n, saved int
}

func (c *structCol) decode(r *reader) {
	for _, ch := range c.children {
		ch.decode(r)
	}
	c.nulls.appendValid()
	c.n++
}

func (c *structCol) appendNull() {
	for _, ch := range c.children {
		ch.appendNull()
	}
	c.nulls.appendNull()
	c.n++
}

func (c *structCol) reserve(n int) {
	for _, ch := range c.children {
		ch.reserve(n)
	}
}

func (c *structCol) length() int { return c.n }

func (c *structCol) mark() {
	c.saved = c.n
	c.nulls.mark()
	for _, ch := range c.children {
		ch.mark()
	}
}

func (c *structCol) rollback() {
	c.n = c.saved
	c.nulls.rollback()
	for _, ch := range c.children {
		ch.rollback()
	}
}

func (c *structCol) release() {
	c.nulls.release()
	for _, ch := range c.children {
		ch.release()
	}
	c.n = 0
}

func (c *structCol) finish() arrow.ArrayData {
	n := c.n
	kids := make([]arrow.ArrayData, len(c.children))
	for i, ch := range c.children {
		kids[i] = ch.finish()
	}
	bm, nulls := c.nulls.take()
	c.n = 0
	return newData(c.dt, n, []*memory.Buffer{bm}, kids, nulls)
}

// listCol is an Avro array, or a map as a list of key/value structs.
type listCol struct {
	dt      arrow.DataType
	nulls   validity
	offsets values[int32]
	child   column
	minItem int
	// room is the child length the child's buffers were last reserved for.
	// Reserving for every list (a call down every nested column) cost more than
	// the items themselves in lists of a few records; now it happens when the
	// room runs out, doubling.
	room int
}

func (c *listCol) start() {
	if c.offsets.n == 0 {
		c.offsets.append(0)
	}
}

func (c *listCol) decode(r *reader) {
	c.start()
	for {
		n, end := r.blockCount(c.minItem)
		if n == 0 || r.err != nil {
			break
		}
		if k, have := int(min(n, int64(len(r.buf)-r.pos))), c.child.length(); have+k > c.room {
			extra := max(k, have, 64)
			c.child.reserve(extra)
			c.room = have + extra
		}
		if c.minItem > 0 {
			for i := int64(0); i < n; i++ {
				c.child.decode(r)
			}
		} else {
			// Items that may take no bytes: charge those that do (see maxEmptyItems).
			for i := int64(0); i < n && r.err == nil; i++ {
				start := r.pos
				c.child.decode(r)
				if r.pos == start {
					r.emptyItem()
				}
			}
		}
		r.blockDone(end)
	}
	if c.child.length() > math.MaxInt32 {
		r.failf("more than 2^31 list items in one batch; use a smaller batch_size")
		return
	}
	c.offsets.append(int32(c.child.length()))
	c.nulls.appendValid()
}

func (c *listCol) appendNull() {
	c.start()
	c.offsets.append(int32(c.child.length()))
	c.nulls.appendNull()
}

func (c *listCol) reserve(n int) { c.start(); c.offsets.reserve(n) }
func (c *listCol) length() int   { return max(c.offsets.n-1, 0) }
func (c *listCol) mark()         { c.start(); c.offsets.mark(); c.nulls.mark(); c.child.mark() }
func (c *listCol) rollback()     { c.offsets.rollback(); c.nulls.rollback(); c.child.rollback() }
func (c *listCol) release() {
	c.offsets.release()
	c.nulls.release()
	c.child.release()
	c.room = 0
}

func (c *listCol) finish() arrow.ArrayData {
	c.start()
	n := c.length()
	bm, nulls := c.nulls.take()
	offs := c.offsets.take()
	kid := c.child.finish()
	c.room = 0
	return newData(c.dt, n, []*memory.Buffer{bm, offs}, []arrow.ArrayData{kid}, nulls)
}

// mapEntryCol is one key/value pair of a map.
type mapEntryCol struct {
	structCol
	key *stringCol
	val column
}

func (c *mapEntryCol) decode(r *reader) {
	c.key.decode(r)
	c.val.decode(r)
	c.nulls.appendValid()
	c.n++
}

// ---- unions ---------------------------------------------------------------------

// nullableCol is a [null, T] union: T's column, with nulls where the null branch
// was taken.
type nullableCol struct {
	column
	nullIdx int64
}

func (c *nullableCol) decode(r *reader) {
	switch r.long() {
	case c.nullIdx:
		c.column.appendNull()
	case 1 - c.nullIdx:
		c.column.decode(r)
	default:
		r.failf("union branch index out of range for a 2-branch union")
	}
}

// singleUnionCol is a one-branch union [T].
type singleUnionCol struct{ column }

func (c *singleUnionCol) decode(r *reader) {
	if i := r.long(); i != 0 {
		r.failf("union branch index %d out of range for a 1-branch union", i)
		return
	}
	c.column.decode(r)
}

// unionCol is a general union: a struct with one child per non-null branch, of
// which only the taken one is non-null.
type unionCol struct {
	structCol
	childOf []int // wire branch index -> child index, -1 for the null branch
}

func (c *unionCol) decode(r *reader) {
	b := r.long()
	if b < 0 || b >= int64(len(c.childOf)) {
		r.failf("union branch index %d out of range (%d branches)", b, len(c.childOf))
		return
	}
	k := c.childOf[b]
	if k < 0 {
		c.appendNull()
		return
	}
	for i, ch := range c.children {
		if i == k {
			ch.decode(r)
		} else {
			ch.appendNull()
		}
	}
	c.nulls.appendValid()
	c.n++
}

// ---- duration -------------------------------------------------------------------

// durationCol is Avro's fixed[12] duration: three little-endian unsigned 32-bit
// counts that do not reduce to one span (a month has no fixed length), so they stay
// apart as a struct of months, days and milliseconds.
type durationCol struct {
	structCol
	months, days, millis *prim[uint32]
}

func (c *durationCol) decode(r *reader) {
	b := r.fixed(12)
	if b == nil {
		return
	}
	c.months.put(binary.LittleEndian.Uint32(b[0:]))
	c.days.put(binary.LittleEndian.Uint32(b[4:]))
	c.millis.put(binary.LittleEndian.Uint32(b[8:]))
	c.nulls.appendValid()
	c.n++
}

// uint32Col lets prim[uint32] act as a column for durationCol's children.
type uint32Col struct{ *prim[uint32] }

func (c uint32Col) decode(r *reader) { r.failf("internal: duration parts are decoded by their parent") }
