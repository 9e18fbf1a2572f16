// Package scratch provides the buffers that blocks are decompressed into.
//
// A block's decompressed size is unknown until it has been decompressed, and a
// hostile block may claim to be any size up to the scan's max_block_size. A
// buffer grown by doubling holds the old and the new array at once and leaves
// both to the garbage collector, so a bomb refused at a 512 MiB limit used to
// cost over a gigabyte that the process then kept. A Buffer instead reserves
// address space for the whole limit up front (where the platform can map
// memory): a decompressor appends into it without ever reallocating, only the
// pages written become memory, and Shrink hands them back to the operating
// system at once.
package scratch

import "unsafe"

// A Buffer is a reusable output buffer for one decompression at a time. The
// zero value is ready to use. It is not safe for concurrent use.
type Buffer struct {
	reserved []byte // address space mapped for the whole limit, or nil
	heap     []byte // the buffer used where nothing is mapped
}

// overshoot is room past the limit: some decompressors append a whole block of
// their own format (zstandard: up to 128 KiB) before they compare the output
// with their limit, and appending past the end of the reservation would
// reallocate the whole output on the heap.
const overshoot = 1 << 20

// Get returns an empty slice to decompress into. Given a limit (limit >= 0), the
// slice has room for more than limit bytes, so that a decompressor that stops
// a little past its limit never reallocates; room that is never written costs no
// memory where the platform can reserve it. Without a limit, it is the heap
// buffer kept from the last call, grown by the decompressor as needed.
func (b *Buffer) Get(limit int64) []byte {
	if limit < 0 || limit+overshoot < minReserve {
		return b.heap[:0]
	}
	n := limit + overshoot
	if int64(len(b.reserved)) < n {
		b.release()
		b.reserved = reserve(n)
	}
	if b.reserved != nil {
		return b.reserved[:0:n]
	}
	return b.heap[:0]
}

// Keep takes back the slice a decompression returned (or dst[:0] of a failed
// one), so that a heap buffer the decompressor grew is reused by the next call.
func (b *Buffer) Keep(p []byte) {
	if !b.owns(p) {
		b.heap = p[:0]
	}
}

// Shrink returns the memory beyond the first keep bytes to the operating system;
// the room stays reserved. The heap buffer is dropped if it is larger than keep.
func (b *Buffer) Shrink(keep int) {
	if b.reserved != nil && keep < len(b.reserved) {
		discard(b.reserved, keep)
	}
	if cap(b.heap) > keep {
		b.heap = nil
	}
}

// Free releases everything the Buffer holds. The Buffer may be used again.
func (b *Buffer) Free() {
	b.release()
	b.heap = nil
}

func (b *Buffer) release() {
	if b.reserved != nil {
		unreserve(b.reserved)
		b.reserved = nil
	}
}

// owns reports whether p points into the reserved space. (A decompressor may
// also return its input, as the null codec does, or a slice of its own.)
func (b *Buffer) owns(p []byte) bool {
	if b.reserved == nil || cap(p) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b.reserved[:1])))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p[:1])))
	return at >= base && at < base+uintptr(len(b.reserved))
}
