package scan

import (
	"context"
	"errors"
	"io"

	"github.com/jetliner/jetliner/core/source"
)

// FileCount is what Count found in one file.
type FileCount struct {
	Path    string `json:"path"`
	Blocks  int64  `json:"blocks"`  // blocks framed
	Records int64  `json:"records"` // the sum of the blocks' declared record counts
	Bytes   int64  `json:"bytes"`   // the file's size
}

// Count frames every block of every file the sources name and adds up the record
// counts the block headers declare. Nothing is decompressed or decoded, so it
// costs one pass of I/O: it is what `jetliner count` runs. Framing is checked as
// a read checks it (sync markers, truncation, max_block_size), and the first bad
// block is an error; ignore_errors does not apply.
func Count(ctx context.Context, opts Options) ([]FileCount, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A Scan that never starts its pipeline: it lends Count its source and
	// container settings, so a count opens files exactly as a read does.
	s := &Scan{opts: opts, ctx: ctx, cancel: cancel}
	files, err := source.Expand(ctx, opts.Sources, s.sourceOptions())
	if err != nil {
		return nil, err
	}
	out := make([]FileCount, 0, len(files))
	var buf []byte
	for _, path := range files {
		fc, err := s.countFile(path, &buf)
		if err != nil {
			return nil, err
		}
		out = append(out, fc)
	}
	return out, nil
}

// countFile frames one file's blocks into *buf, which is reused across files.
func (s *Scan) countFile(path string, buf *[]byte) (FileCount, error) {
	src, rd, err := s.openFile(path)
	if err != nil {
		return FileCount{}, err
	}
	defer src.Close()
	fc := FileCount{Path: path, Bytes: src.Size()}
	for {
		b, grown, err := rd.Next((*buf)[:0])
		*buf = grown
		if errors.Is(err, io.EOF) {
			return fc, nil
		}
		if err != nil {
			return FileCount{}, err
		}
		fc.Blocks++
		fc.Records += b.Count
	}
}
