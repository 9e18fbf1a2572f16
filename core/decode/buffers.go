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

func (v *values[T]) append(x T) {
	if v.n == len(v.vals) {
		v.reserve(1)
	}
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

// validity is a bitmap that only comes into being at the first null: most nullable
// columns in real data have few or no nulls, and Arrow lets an all-valid array
// omit its bitmap.
type validity struct {
	alloc memory.Allocator
	bits  values[byte]
	on    bool // the bitmap exists
	n     int  // values appended
	nulls int

	savedN, savedNulls int
	savedOn            bool
}

func (b *validity) init(alloc memory.Allocator) { b.alloc = alloc; b.bits.init(alloc) }

func (b *validity) appendValid() {
	if b.on {
		b.set(b.n, true)
	}
	b.n++
}

func (b *validity) appendNull() {
	if !b.on {
		b.materialize()
	}
	b.set(b.n, false)
	b.n++
	b.nulls++
}

// appendValidN records n valid values at once.
func (b *validity) appendValidN(n int) {
	if b.on {
		for i := 0; i < n; i++ {
			b.set(b.n+i, true)
		}
	}
	b.n += n
}

func (b *validity) materialize() {
	b.on = true
	need := (b.n + 8) / 8
	b.bits.reserve(need + 64)
	for i := 0; i < need; i++ {
		b.bits.vals[i] = 0xff
	}
	b.bits.n = need
}

func (b *validity) set(i int, valid bool) {
	byteIdx := i >> 3
	for byteIdx >= b.bits.n {
		b.bits.append(0)
	}
	mask := byte(1) << (i & 7)
	if valid {
		b.bits.vals[byteIdx] |= mask
	} else {
		b.bits.vals[byteIdx] &^= mask
	}
}

// take returns the bitmap (nil if there were no nulls) and the null count.
func (b *validity) take() (*memory.Buffer, int) {
	nulls := b.nulls
	var buf *memory.Buffer
	if b.on {
		b.bits.n = (b.n + 7) / 8
		buf = b.bits.take()
	}
	b.on, b.n, b.nulls = false, 0, 0
	return buf, nulls
}

func (b *validity) release() {
	b.bits.release()
	b.on, b.n, b.nulls = false, 0, 0
}

func (b *validity) mark() {
	b.savedN, b.savedNulls, b.savedOn = b.n, b.nulls, b.on
}

func (b *validity) rollback() {
	b.n, b.nulls = b.savedN, b.savedNulls
	if b.on {
		b.bits.n = (b.n + 7) / 8
		if !b.savedOn && b.nulls == 0 {
			b.on = false
		}
	}
}
