// Package scan runs the read pipeline: it expands the sources, frames each file's
// blocks on one goroutine, decompresses and decodes them on a pool of workers, and
// hands Arrow record batches back in file order with the row index, file path,
// n_rows and ignore_errors semantics of a plain sequential read.
package scan

import (
	"math"
	"runtime"

	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/schema"
)

// Options is everything a scan can be told. The zero value is not valid; start from
// DefaultOptions.
type Options struct {
	Sources          []string
	Glob             bool
	Columns          []string // nil: every column
	NRows            int64    // < 0: no limit
	RowIndexName     string
	RowIndexOffset   int64
	RowIndexType     string // "uint32" or "uint64", as Polars' with_row_index gives
	IncludeFilePaths string
	IgnoreErrors     bool
	BatchSize        int
	BufferBlocks     int
	BufferBytes      int64
	ReadChunkSize    int   // 0: automatic
	MaxBlockSize     int64 // < 0: no cap
	Storage          map[string]string
	Workers          int // 0: one per CPU
	// MaxSchemaDepth refuses a file whose schema nests deeper (see
	// schema.DefaultMaxDepth); at most schema.MaxDepthLimit.
	MaxSchemaDepth int
}

// DefaultOptions are the defaults of API.md.
func DefaultOptions() Options {
	return Options{
		Glob:         true,
		NRows:        -1,
		RowIndexType: "uint32",
		BatchSize:    100_000,
		BufferBlocks: 4,
		BufferBytes:  64 << 20,
		MaxBlockSize: 512 << 20,

		MaxSchemaDepth: schema.DefaultMaxDepth,
	}
}

const (
	localChunkSize = 256 << 10
	s3ChunkSize    = 4 << 20
)

// Upper bounds of the numeric options. Each lies far above any setting that helps
// a read, and low enough that no value can make the engine allocate absurdly or
// make a channel of impossible size (buffer_blocks=2**62 used to fail inside the
// pipeline, and 2**32 to abort the process with Go's "out of memory"). The Python
// package checks the same bounds first (python/jetliner/_options.py); these are
// the engine's own guard, for any other caller of the C ABI.
const (
	// MaxBatchSize: rows per batch. A DataFrame of Polars' default build holds at
	// most 2**32-1 rows, and one batch is built whole in memory.
	MaxBatchSize = 1<<32 - 1
	// MaxBufferBlocks: units (batches of blocks) queued ahead of the consumer, and
	// S3 chunks fetched ahead. The queue is allocated up front, 8 bytes a slot;
	// the bytes read ahead are capped by buffer_bytes whatever the depth.
	MaxBufferBlocks = 1 << 16
	// MaxBufferBytes: 1 TiB of read-ahead, more memory than a read can use.
	MaxBufferBytes = 1 << 40
	// MaxReadChunkSize: 1 GiB per read request or ranged GET; a request's buffer
	// is allocated whole.
	MaxReadChunkSize = 1 << 30
	// MaxBlockSizeCap: a 1 TiB block would not fit in memory to be decoded; None
	// (here < 0) is how to ask for no cap.
	MaxBlockSizeCap = 1 << 40
	// MaxWorkers: decoding goroutines, each with its own decoder state.
	MaxWorkers = 1024
)

// validate checks option values, so bad ones fail before any I/O.
func (o *Options) validate() error {
	bad := func(format string, args ...any) error { return jerr.New(jerr.Config, format, args...) }
	switch {
	case len(o.Sources) == 0:
		return bad("no source given")
	case o.BatchSize <= 0:
		return bad("batch_size must be a positive integer, got %d", o.BatchSize)
	case o.BatchSize > MaxBatchSize:
		return bad("batch_size must be at most %d, got %d", MaxBatchSize, o.BatchSize)
	case o.BufferBlocks <= 0:
		return bad("buffer_blocks must be a positive integer, got %d", o.BufferBlocks)
	case o.BufferBlocks > MaxBufferBlocks:
		return bad("buffer_blocks must be at most %d, got %d", MaxBufferBlocks, o.BufferBlocks)
	case o.BufferBytes <= 0:
		return bad("buffer_bytes must be a positive integer, got %d", o.BufferBytes)
	case o.BufferBytes > MaxBufferBytes:
		return bad("buffer_bytes must be at most %d (1 TiB), got %d", int64(MaxBufferBytes), o.BufferBytes)
	case o.ReadChunkSize < 0:
		return bad("read_chunk_size must be a positive integer or None, got %d", o.ReadChunkSize)
	case o.ReadChunkSize > MaxReadChunkSize:
		return bad("read_chunk_size must be at most %d (1 GiB), got %d", MaxReadChunkSize, o.ReadChunkSize)
	case o.MaxBlockSize == 0:
		return bad("max_block_size must be a positive integer or None, got 0")
	case o.MaxBlockSize > MaxBlockSizeCap:
		return bad("max_block_size must be at most %d (1 TiB), or None for no cap, got %d", int64(MaxBlockSizeCap), o.MaxBlockSize)
	case o.Workers > MaxWorkers:
		return bad("workers must be at most %d, got %d", MaxWorkers, o.Workers)
	case o.MaxSchemaDepth < 1 || o.MaxSchemaDepth > schema.MaxDepthLimit:
		return bad("max_schema_depth must be between 1 and %d, got %d", schema.MaxDepthLimit, o.MaxSchemaDepth)
	case o.RowIndexType != "uint32" && o.RowIndexType != "uint64":
		return bad("row index type must be uint32 or uint64, got %q", o.RowIndexType)
	case o.RowIndexOffset < 0:
		return bad("row_index_offset must be non-negative, got %d", o.RowIndexOffset)
	case o.RowIndexName != "" && o.RowIndexType == "uint32" && o.RowIndexOffset > math.MaxUint32:
		// Not even the first row has a UInt32 index; the rows that reach past
		// 2**32-1 from a smaller offset fail in rowIndex, when the read gets there.
		return bad("row_index_offset %d is past the largest UInt32 row index (%d); %s", o.RowIndexOffset, uint64(math.MaxUint32), needU64Index)
	case o.RowIndexName != "" && o.RowIndexName == o.IncludeFilePaths:
		return bad("row_index_name and include_file_paths are both %q", o.RowIndexName)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}
