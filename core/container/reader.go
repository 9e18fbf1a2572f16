// Package container reads the framing of Avro object container files: the header
// (magic, metadata, sync marker) and the sequence of blocks behind it. It does not
// decompress or decode; it hands out each block's compressed bytes with the
// position they came from.
package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/source"
)

// Magic starts every Avro object container file.
var Magic = [4]byte{'O', 'b', 'j', 1}

// SyncSize is the length of the sync marker.
const SyncSize = 16

// maxHeaderBytes bounds the metadata map so a corrupt header cannot make us read or
// allocate without limit.
const maxHeaderBytes = 64 << 20

// Header is the parsed file header.
type Header struct {
	Schema []byte            // avro.schema, JSON
	Codec  string            // avro.codec; "" is the same as "null"
	Meta   map[string][]byte // every metadata entry, avro.* included
	Sync   [SyncSize]byte
	Size   int64 // header length: the offset of the first block
}

// Block is one framed block: its record count and still-compressed data.
type Block struct {
	Index  int64  // 0-based position among the file's blocks
	Offset int64  // file offset of the block's first byte (its count varint)
	Count  int64  // records in the block
	Data   []byte // compressed record data
}

// Reader frames the blocks of one file, in order.
type Reader struct {
	Header Header

	path      string
	r         *chunkReader
	nextIndex int64
	maxBlock  int64
}

// Options tunes a Reader.
type Options struct {
	ChunkSize    int   // bytes per read request
	MaxBlockSize int64 // refuse compressed blocks larger than this; < 0 means no cap
}

// NewReader reads the header of src and returns a Reader positioned at the first block.
func NewReader(ctx context.Context, src source.Source, opts Options) (*Reader, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 1 << 20
	}
	cr := newChunkReader(ctx, src, opts.ChunkSize, 0)
	rd := &Reader{path: src.Path(), r: cr, maxBlock: opts.MaxBlockSize}
	if err := rd.guarded(rd.readHeader); err != nil {
		return nil, err
	}
	return rd, nil
}

// guarded runs f, turning a memory fault on a mapped source (the file shrank
// while it was read) into the error it returns: see source.Viewer.
func (rd *Reader) guarded(f func() error) (err error) {
	if rd.r.view == nil {
		return f()
	}
	defer func() {
		if p := recover(); p != nil {
			if err = rd.r.view.Fault(p); err == nil {
				panic(p)
			}
		}
	}()
	defer source.PanicOnFault()()
	return f()
}

func (rd *Reader) parseErr(format string, args ...any) *jerr.Error {
	return jerr.New(jerr.Parse, format, args...).WithPath(rd.path)
}

// ioErr keeps kinded errors (e.g. from an S3 source) and calls a short read a truncation.
func (rd *Reader) ioErr(err error, what string) error {
	if k := jerr.KindOf(err); k != "" {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return rd.parseErr("file is truncated: %s", what)
	}
	if errors.Is(err, errVarintOverflow) {
		// Bad bytes, not a failed read: without this it was reported as SourceError.
		return rd.parseErr("corrupt %s: %v", what, err)
	}
	if errors.Is(err, context.Canceled) {
		return jerr.Wrap(jerr.Cancelled, err, "read cancelled").WithPath(rd.path)
	}
	return jerr.Wrap(jerr.Source, err, "cannot read %s", what).WithPath(rd.path)
}

func (rd *Reader) readHeader() error {
	magic, err := rd.r.next(len(Magic))
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			// A failed read (S3 error, cancellation) is not a malformed file; it
			// used to be reported as "shorter than the 4-byte magic".
			return rd.ioErr(err, "file header")
		}
		if rd.r.src.Size() == 0 {
			return rd.parseErr("not an Avro file: the file is empty")
		}
		return rd.parseErr("not an Avro file: shorter than the 4-byte magic")
	}
	if !bytes.Equal(magic, Magic[:]) {
		return rd.parseErr("not an Avro file: bad magic bytes %q (want \"Obj\\x01\")", magic)
	}
	meta := map[string][]byte{}
	var total int64
	for {
		count, err := rd.r.varint()
		if err != nil {
			return rd.ioErr(err, "header metadata")
		}
		if count == 0 {
			break
		}
		if count < 0 {
			// A negative count is followed by the block's byte size, which we don't need.
			count = -count
			if _, err := rd.r.varint(); err != nil {
				return rd.ioErr(err, "header metadata")
			}
		}
		for i := int64(0); i < count; i++ {
			key, err := rd.bytesField(&total)
			if err != nil {
				return err
			}
			val, err := rd.bytesField(&total)
			if err != nil {
				return err
			}
			meta[string(key)] = val
		}
	}
	sync, err := rd.r.next(SyncSize)
	if err != nil {
		return rd.ioErr(err, "header sync marker")
	}
	h := &rd.Header
	copy(h.Sync[:], sync)
	h.Meta = meta
	h.Schema = meta["avro.schema"]
	if h.Schema == nil {
		return rd.parseErr("header has no avro.schema entry")
	}
	h.Codec = string(meta["avro.codec"])
	h.Size = rd.r.offset()
	return nil
}

func (rd *Reader) bytesField(total *int64) ([]byte, error) {
	n, err := rd.r.varint()
	if err != nil {
		return nil, rd.ioErr(err, "header metadata")
	}
	*total += n
	if n < 0 || *total > maxHeaderBytes || n > rd.r.remaining() {
		return nil, rd.parseErr("corrupt header: metadata entry of %d bytes", n)
	}
	b := make([]byte, n)
	if err := rd.r.readFull(b); err != nil {
		return nil, rd.ioErr(err, "header metadata")
	}
	return b, nil
}

// Next frames the next block, appending its data to buf (which may be nil) and
// returning the block whose Data aliases the grown buf; from a source.Viewer,
// Data is a view of the source instead and buf is returned as it was. At the end
// of the file it returns io.EOF. Errors are *jerr.Error; after one, Resync can
// skip ahead.
func (rd *Reader) Next(buf []byte) (b Block, out []byte, err error) {
	if err := rd.guarded(func() error { b, out, err = rd.next(buf); return err }); err != nil {
		return b, buf, err
	}
	return b, out, nil
}

func (rd *Reader) next(buf []byte) (Block, []byte, error) {
	// Blocks are read front to back from here on; the header alone (a schema
	// read) should not make the system read the file ahead.
	rd.r.readAhead = true
	start := rd.r.offset()
	b := Block{Index: rd.nextIndex, Offset: start}
	if rd.r.remaining() == 0 {
		return b, buf, io.EOF
	}
	rd.nextIndex++
	blockErr := func(format string, args ...any) (Block, []byte, error) {
		return b, buf, rd.parseErr(format, args...).At(b.Index, -1, start)
	}
	// headerErr keeps read failures (S3 errors, cancellation) as what they are: they
	// used to become "truncated block header" ParseErrors, which ignore_errors skips.
	headerErr := func(err error) (Block, []byte, error) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return blockErr("truncated block header")
		}
		if errors.Is(err, errVarintOverflow) {
			return blockErr("corrupt block header: %v", err)
		}
		return b, buf, rd.ioErr(err, "block header")
	}
	count, err := rd.r.varint()
	if err != nil {
		return headerErr(err)
	}
	size, err := rd.r.varint()
	if err != nil {
		return headerErr(err)
	}
	if count < 0 || size < 0 {
		return blockErr("corrupt block header: count %d, size %d", count, size)
	}
	if rd.maxBlock >= 0 && size > rd.maxBlock {
		return b, buf, jerr.New(jerr.Codec, "block of %d bytes exceeds max_block_size (%d)", size, rd.maxBlock).
			WithPath(rd.path).At(b.Index, -1, start)
	}
	// Written as a subtraction: size+SyncSize overflows for sizes near MaxInt64 (no
	// max_block_size), which let a corrupt size through to make() and panicked.
	if size > rd.r.remaining()-SyncSize {
		return blockErr("file is truncated: block declares %d bytes but only %d remain", size, rd.r.remaining()-min(rd.r.remaining(), SyncSize))
	}
	n := len(buf)
	data, buf, err := rd.r.take(int(size), buf)
	if err != nil {
		return b, buf[:n], rd.ioErr(err, "block data")
	}
	sync, err := rd.r.next(SyncSize)
	if err != nil {
		return b, buf[:n], rd.ioErr(err, "block sync marker")
	}
	if !bytes.Equal(sync, rd.Header.Sync[:]) {
		return b, buf[:n], rd.parseErr("sync marker mismatch after block data: the block is corrupt").At(b.Index, -1, start)
	}
	b.Count, b.Data = count, data
	return b, buf, nil
}

// Resync skips to just after the next sync marker found after the start of the
// failed block at offset from, so reading can go on with the following block. It
// returns the number of bytes skipped and io.EOF if no further marker exists.
func (rd *Reader) Resync(from int64) (skipped int64, err error) {
	err = rd.guarded(func() error { skipped, err = rd.resync(from); return err })
	return skipped, err
}

func (rd *Reader) resync(from int64) (int64, error) {
	rd.r.seek(from + 1)
	for {
		if err := rd.r.fill(SyncSize); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				rd.r.seek(rd.r.src.Size())
				return rd.r.src.Size() - from, io.EOF
			}
			return 0, rd.ioErr(err, "data while resynchronising")
		}
		window := rd.r.buf[rd.r.pos:]
		if i := bytes.Index(window, rd.Header.Sync[:]); i >= 0 {
			rd.r.pos += i + SyncSize
			return rd.r.offset() - from, nil
		}
		// Keep the last SyncSize-1 bytes: a marker may straddle two chunks.
		rd.r.pos += len(window) - (SyncSize - 1)
		if err := rd.r.fill(len(rd.r.buf) - rd.r.pos + 1); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				rd.r.seek(rd.r.src.Size())
				return rd.r.src.Size() - from, io.EOF
			}
			return 0, rd.ioErr(err, "data while resynchronising")
		}
	}
}

// Offset is the file offset of the next block.
func (rd *Reader) Offset() int64 { return rd.r.offset() }

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

// String describes the reader for debugging.
func (rd *Reader) String() string {
	return fmt.Sprintf("container.Reader(%s, codec=%q, next block %d at %d)", rd.path, rd.Header.Codec, rd.nextIndex, rd.Offset())
}
