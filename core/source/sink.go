package source

import (
	"context"
	"io"
)

// A Sink is a destination being written. Nothing is visible at the destination
// until Commit succeeds; Abort discards everything written (idempotent, safe after
// a failed Write or Commit).
//
// A Sink is written from one goroutine; Abort may be called from another (to stop
// a write the user interrupted) and waits for a Write in progress to return.
type Sink interface {
	io.Writer
	// Commit makes what was written visible at the destination, replacing what
	// was there. On error nothing is visible and the sink is aborted. A second
	// Commit after a successful one does nothing.
	Commit() error
	// Abort discards what was written. It does nothing after a successful Commit
	// and may be called any number of times.
	Abort() error
}

// Create starts writing the named destination: a local path, a file:// URL or an
// s3:// URI. ctx bounds the whole write (every Write and the Commit), not just
// the call: cancelling it makes the next Write fail with a CancelledError.
func Create(ctx context.Context, name string, opts *Options) (Sink, error) {
	if opts == nil {
		opts = &Options{}
	}
	if IsS3(name) {
		return createS3(ctx, name, opts)
	}
	path, err := LocalPath(name)
	if err != nil {
		return nil, err
	}
	return createLocal(ctx, name, path)
}
