//go:build !linux

package source

import (
	"os"
)

const (
	pageSize       = 4096
	adviseWillNeed = 0
	adviseDontNeed = 0
)

// mapFile does not map on this platform (only Linux has the madvise calls the
// reader relies on to bound its memory): local files are read with pread.
func mapFile(*os.File, int64) []byte { return nil }

func unmap([]byte) {}

func adviseRange([]byte, int64, int64, int) {}
