package decode

import (
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// values is a growable array of fixed-width T living in allocator memory, so the
// finished buffer can be handed to Arrow (and across the C boundary) as is.
type values[T any] struct {
	alloc memory.Allocator
	mem   *memory.Buffer
	vals  []T // the whole capacity, viewed as T
	n     int
	saved int
}

func (v *values[T]) init(alloc memory.Allocator) { v.alloc = alloc }

// reserve makes room for at least extra more values.
func (v *values[T]) reserve(extra int) {
	if v.n+extra <= len(v.vals) {
		return
	}
	want := max(v.n+extra, 2*len(v.vals), 64)
	var zero T
	size := int(unsafe.Sizeof(zero))
	if v.mem == nil {
		v.mem = memory.NewResizableBuffer(v.alloc)
	}
	v.mem.Reserve(want * size)
	raw := v.mem.Buf()
	v.vals = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/size)
}

// append adds one value. The common case, with room to spare, is kept small
// enough to be inlined.
func (v *values[T]) append(x T) {
	if v.n < len(v.vals) {
		v.vals[v.n] = x
		v.n++
		return
	}
	v.appendSlow(x)
}

//go:noinline
func (v *values[T]) appendSlow(x T) {
	v.reserve(1)
	v.vals[v.n] = x
	v.n++
}

// take hands over the buffer holding the n values and starts afresh.
func (v *values[T]) take() *memory.Buffer {
	var zero T
	if v.mem == nil {
		v.reserve(1) // Arrow wants a real buffer even for zero values
	}
	b := v.mem
	b.ResizeNoShrink(v.n * int(unsafe.Sizeof(zero)))
	v.mem, v.vals, v.n, v.saved = nil, nil, 0, 0
	return b
}

func (v *values[T]) release() {
	if v.mem != nil {
		v.mem.Release()
	}
	v.mem, v.vals, v.n, v.saved = nil, nil, 0, 0
}

func (v *values[T]) mark()     { v.saved = v.n }
func (v *values[T]) rollback() { v.n = v.saved }

// bytesBuf is a growable byte buffer in allocator memory (string and binary data).
type bytesBuf = values[byte]

func (v *values[T]) appendBytes(b []byte) {
	// Only used with T = byte; written generically so bytesBuf shares the code.
	if v.n+len(b) > len(v.vals) {
		v.reserve(len(b))
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v.vals))), len(v.vals))
	copy(dst[v.n:], b)
	v.n += len(b)
}

// validity tracks which values are null. It records the positions of the nulls
// and builds Arrow's bitmap only when the batch is finished: a valid value then
// costs one increment, real data is mostly valid, and an all-valid array needs
// no bitmap at all.
type validity struct {
	alloc memory.Allocator
	n     int     // values appended
	nulls []int32 // positions of the nulls, ascending

	savedN, savedNulls int
}

func (b *validity) init(alloc memory.Allocator) { b.alloc = alloc }

func (b *validity) appendValid() { b.n++ }

func (b *validity) appendNull() {
	b.nulls = append(b.nulls, int32(b.n))
	b.n++
}

// take returns the bitmap (nil if there were no nulls) and the null count, and
// starts afresh.
func (b *validity) take() (*memory.Buffer, int) {
	nulls := len(b.nulls)
	var buf *memory.Buffer
	if nulls > 0 {
		buf = memory.NewResizableBuffer(b.alloc)
		buf.Resize((b.n + 7) / 8)
		bits := buf.Bytes()
		for i := range bits {
			bits[i] = 0xff
		}
		for _, i := range b.nulls {
			bits[i>>3] &^= 1 << (i & 7)
		}
	}
	b.n, b.nulls = 0, b.nulls[:0]
	return buf, nulls
}

func (b *validity) release() { b.n, b.nulls = 0, b.nulls[:0] }

func (b *validity) mark() { b.savedN, b.savedNulls = b.n, len(b.nulls) }

func (b *validity) rollback() { b.n, b.nulls = b.savedN, b.nulls[:b.savedNulls] }

// bitmap is a growable packed array of booleans (Arrow's boolean layout).
type bitmap struct {
	bytes values[byte]
	n     int
	saved int
}

func (m *bitmap) init(alloc memory.Allocator) { m.bytes.init(alloc) }

func (m *bitmap) append(v bool) {
	if m.n&7 == 0 {
		m.bytes.append(0)
	}
	if v {
		m.bytes.vals[m.n>>3] |= 1 << (m.n & 7)
	}
	m.n++
}

func (m *bitmap) reserve(n int) { m.bytes.reserve(n/8 + 1) }

func (m *bitmap) take() *memory.Buffer {
	buf := m.bytes.take()
	m.n = 0
	return buf
}

func (m *bitmap) release() { m.bytes.release(); m.n = 0 }

func (m *bitmap) mark() { m.saved = m.n }

func (m *bitmap) rollback() {
	m.n = m.saved
	m.bytes.n = (m.n + 7) / 8
	if m.n&7 != 0 {
		// Clear the bits past the end: append only ever sets bits.
		m.bytes.vals[m.n>>3] &= 1<<(m.n&7) - 1
	}
}
