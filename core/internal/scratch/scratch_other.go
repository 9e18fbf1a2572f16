//go:build !linux && !darwin

package scratch

// Without a way to reserve address space, every buffer lives on the heap.
const minReserve = 1<<63 - 1

func reserve(int64) []byte { return nil }
func unreserve([]byte)     {}
func discard([]byte, int)  {}
