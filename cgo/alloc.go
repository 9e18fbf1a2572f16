package main

/*
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

// MAP_POPULATE: a buffer is written front to back right away, and faulting its
// pages in one by one took more system time than the decoding of a wide file.
static void* jl_map(size_t n) {
  void* p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void* jl_remap(void* p, size_t old, size_t n) {
  void* q = mremap(p, old, n, MREMAP_MAYMOVE);
  return q == MAP_FAILED ? NULL : q;
}
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
//
// Large buffers are mapped from the kernel directly and unmapped when freed.
// Through malloc, glibc raises its mmap threshold as such buffers are freed and
// then serves them from its arenas, where freed batches left holes that kept a
// streaming read's resident memory creeping up (by ~20 MB over a 1 GB file).
type cAllocator struct {
	live atomic.Int64 // bytes currently allocated, for leak tests
}

// mapThreshold is the size from which buffers are mapped rather than malloc'd.
// The size of a buffer tells which it is, so it must not change.
const mapThreshold = 256 << 10

func (a *cAllocator) Allocate(size int) []byte {
	var p unsafe.Pointer
	if size >= mapThreshold {
		p = C.jl_map(C.size_t(size))
	} else {
		p = C.malloc(C.size_t(max(size, 1)))
	}
	if p == nil {
		panic("jetliner: out of memory")
	}
	a.live.Add(int64(size))
	return unsafe.Slice((*byte)(p), size)
}

func (a *cAllocator) Reallocate(size int, b []byte) []byte {
	old := len(b)
	if cap(b) == 0 {
		return a.Allocate(size)
	}
	ptr := unsafe.Pointer(unsafe.SliceData(b))
	var p unsafe.Pointer
	switch {
	case old >= mapThreshold && size >= mapThreshold:
		p = C.jl_remap(ptr, C.size_t(old), C.size_t(size))
	case old < mapThreshold && size < mapThreshold:
		p = C.realloc(ptr, C.size_t(max(size, 1)))
	default: // from one kind to the other
		nb := a.Allocate(size)
		copy(nb, b)
		a.Free(b)
		return nb
	}
	if p == nil {
		panic("jetliner: out of memory")
	}
	a.live.Add(int64(size - old))
	return unsafe.Slice((*byte)(p), size)
}

func (a *cAllocator) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	a.live.Add(-int64(len(b)))
	ptr := unsafe.Pointer(unsafe.SliceData(b))
	if len(b) >= mapThreshold {
		C.munmap(ptr, C.size_t(len(b)))
		return
	}
	C.free(ptr)
}

var allocator = &cAllocator{}
