package container

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
)

// Writer frames the blocks of one object container file onto an io.Writer, the
// mirror of Reader: NewWriter writes the header, WriteBlock one block at a time,
// in order. It keeps the first error: once a write fails every later call
// returns it, so a caller may check only at the end.
type Writer struct {
	// Sync is the file's sync marker, random unless WriterOptions.Sync set it.
	Sync [SyncSize]byte

	w      io.Writer
	head   []byte
	offset int64
	blocks int64
	err    error
}

// WriterOptions says what goes into a file's header.
type WriterOptions struct {
	Schema []byte // avro.schema: the writer schema's JSON (required)
	Codec  string // avro.codec; "" writes "null"
	// Meta is the user's metadata. Keys starting with "avro." are the format's
	// and are refused.
	Meta map[string][]byte
	// Sync is the sync marker; zero means a random one (crypto/rand), as the
	// specification asks, so that a marker is unlikely to occur in the data.
	Sync [SyncSize]byte
}

// NewWriter writes the header to w and returns a Writer for the blocks.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	if len(opts.Schema) == 0 {
		return nil, fmt.Errorf("container: a file needs a schema")
	}
	meta := make(map[string][]byte, len(opts.Meta)+2)
	total := 0
	for k, v := range opts.Meta {
		if strings.HasPrefix(k, ReservedPrefix) {
			return nil, fmt.Errorf("container: metadata key %q is reserved: keys starting with %q are the Avro format's own", k, ReservedPrefix)
		}
		meta[k] = v
		total += len(k) + len(v)
	}
	if total+len(opts.Schema) > MaxHeaderBytes {
		return nil, fmt.Errorf("container: the header metadata is %d bytes, more than readers accept (%d)", total+len(opts.Schema), MaxHeaderBytes)
	}
	codec := opts.Codec
	if codec == "" {
		codec = "null"
	}
	meta[MetaSchema] = opts.Schema
	meta[MetaCodec] = []byte(codec)
	cw := &Writer{w: w, Sync: opts.Sync}
	if cw.Sync == ([SyncSize]byte{}) {
		if _, err := rand.Read(cw.Sync[:]); err != nil {
			return nil, fmt.Errorf("container: sync marker: %w", err)
		}
	}
	cw.write(AppendHeader(nil, meta, cw.Sync))
	return cw, cw.err
}

// WriteBlock writes one block: count records whose encoding, compressed, is data.
func (w *Writer) WriteBlock(count int64, data []byte) error {
	w.head = AppendBlockHeader(w.head[:0], count, len(data))
	w.write(w.head)
	w.write(data)
	w.write(w.Sync[:])
	w.blocks++
	return w.err
}

// Offset is the number of bytes written so far; Blocks the number of blocks.
func (w *Writer) Offset() int64 { return w.offset }

// Blocks is the number of blocks written so far.
func (w *Writer) Blocks() int64 { return w.blocks }

// Err is the first error a write returned, if any.
func (w *Writer) Err() error { return w.err }

func (w *Writer) write(p []byte) {
	if w.err != nil || len(p) == 0 {
		return
	}
	n, err := w.w.Write(p)
	w.offset += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	w.err = err
}
