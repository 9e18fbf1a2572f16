//go:build linux

package source

import (
	"os"
	"syscall"
	"unsafe"
)

var pageSize = os.Getpagesize()

const (
	adviseWillNeed = syscall.MADV_WILLNEED
	adviseDontNeed = syscall.MADV_DONTNEED
)

// mapFile maps the whole of f read-only, or returns nil if it cannot (an empty
// file, a pipe, a file system without mmap), in which case reads fall back to
// pread.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	// Shared rather than private: pages given back with MADV_DONTNEED are read
	// again from the file, never replaced by zeros.
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return data
}

func unmap(data []byte) { _ = syscall.Munmap(data) }

func adviseRange(data []byte, start, stop int64, advice int) {
	// The range may run past len(data) to the end of the last page, which the
	// mapping covers too.
	pages := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), start)), stop-start)
	_ = syscall.Madvise(pages, advice)
}
