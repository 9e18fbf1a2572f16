//go:build !amd64 && !arm64

package decode

func prefetchMarks(data *byte, marks *uint32, n int) {}
