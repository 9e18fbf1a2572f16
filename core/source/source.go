// Package source opens the bytes jetliner reads: local files and S3 objects, and
// expands the globs and lists that name them.
//
// A Source is a random-access byte range reader, like io.ReaderAt with a context:
// the container reader above it asks for ranges and never needs to know whether
// they come from a disk or over HTTP.
package source

import (
	"context"
)

// Source reads byte ranges of one file or object.
type Source interface {
	// ReadAt reads len(p) bytes starting at off. Like io.ReaderAt it returns
	// n < len(p) only with a non-nil error, which is io.EOF at the end of the data.
	ReadAt(ctx context.Context, p []byte, off int64) (n int, err error)
	// Size is the total length in bytes.
	Size() int64
	// Path is the name the user gave (a local path or an s3:// URI).
	Path() string
	// Close releases the source. It is safe to call more than once.
	Close() error
}

// Stats counts what a source actually read, so tests and the benchmark can see
// that projection and early stopping really save I/O.
type Stats struct {
	Requests int64 // read calls (local) or HTTP requests (S3), retries included
	Bytes    int64 // bytes received
}
