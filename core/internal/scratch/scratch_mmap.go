//go:build linux || darwin

package scratch

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// minReserve is the least limit worth a mapping of its own: below it, the
// heap's doubling costs little.
const minReserve = 4 << 20

var pageSize = os.Getpagesize()

// reserve maps n bytes of address space, rounded up to whole pages, or returns
// nil (and the caller uses the heap) if the system refuses. MAP_NORESERVE keeps
// the reservation out of the kernel's overcommit accounting: only pages that are
// written count, like any other memory.
func reserve(n int64) []byte {
	if int64(int(n)) != n {
		return nil
	}
	size := (int(n) + pageSize - 1) &^ (pageSize - 1)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return mem
}

func unreserve(mem []byte) { _ = unix.Munmap(mem) }

// discard gives back the pages of mem from byte keep on (rounded up to a page):
// they read as zeros again and are memory only once written again.
func discard(mem []byte, keep int) {
	from := (keep + pageSize - 1) &^ (pageSize - 1)
	if from >= len(mem) {
		return
	}
	tail := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(mem)), from)), len(mem)-from)
	_ = unix.Madvise(tail, unix.MADV_DONTNEED)
}
