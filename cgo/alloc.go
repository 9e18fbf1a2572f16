package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// cAllocator hands out C memory for Arrow buffers. Batches outlive the cgo call
// that exports them and C keeps pointers to their buffers, which the cgo pointer
// rules only allow for memory Go does not own. Nothing is zeroed: the decoders
// write every byte they expose.
type cAllocator struct {
	live atomic.Int64 // bytes currently allocated, for leak tests
}

func (a *cAllocator) Allocate(size int) []byte {
	p := C.malloc(C.size_t(max(size, 1)))
	if p == nil {
		panic("jetliner: out of memory")
	}
	a.live.Add(int64(size))
	return unsafe.Slice((*byte)(p), size)
}

func (a *cAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) == 0 {
		return a.Allocate(size)
	}
	p := C.realloc(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(max(size, 1)))
	if p == nil {
		panic("jetliner: out of memory")
	}
	a.live.Add(int64(size - len(b)))
	return unsafe.Slice((*byte)(p), size)
}

func (a *cAllocator) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	a.live.Add(-int64(len(b)))
	C.free(unsafe.Pointer(unsafe.SliceData(b)))
}

var allocator = &cAllocator{}
