// Package container reads and writes the framing of Avro object container files:
// the header (magic, metadata, sync marker) and the sequence of blocks behind it.
// It does not compress or decode; the reader hands out each block's compressed
// bytes with the position they came from, the writer frames blocks it is given.
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

	// expected is where the block after the last failed one should start, when
	// that block's header was sane and only its sync marker was wrong; -1
	// otherwise. Resync tries there before the next marker.
	expected int64
	// records is the failed block's declared record count, -1 if unknown.
	records int64
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
	rd := &Reader{path: src.Path(), r: cr, maxBlock: opts.MaxBlockSize, expected: -1, records: -1}
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

// magicErr is a ParseError about the first four bytes, which are at offset 0.
func (rd *Reader) magicErr(format string, args ...any) *jerr.Error {
	return rd.parseErr(format, args...).WithVariant(jerr.InvalidMagic).At(-1, -1, 0)
}

// ioErr keeps kinded errors (e.g. from an S3 source) and calls a short read a truncation.
func (rd *Reader) ioErr(err error, what string) error {
	if k := jerr.KindOf(err); k != "" {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return rd.parseErr("file is truncated: %s", what).WithVariant(jerr.UnexpectedEOF)
	}
	if errors.Is(err, errVarintOverflow) {
		// Bad bytes, not a failed read: without this it was reported as SourceError.
		return rd.parseErr("corrupt %s: %v", what, err).WithVariant(jerr.InvalidHeader)
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
			return rd.magicErr("not an Avro file: the file is empty")
		}
		return rd.magicErr("not an Avro file: shorter than the 4-byte magic")
	}
	if !bytes.Equal(magic, Magic[:]) {
		return rd.magicErr("not an Avro file: bad magic bytes %q (want \"Obj\\x01\")", magic)
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
	h.Schema = meta[MetaSchema]
	if h.Schema == nil {
		return rd.parseErr("header has no avro.schema entry").WithVariant(jerr.InvalidHeader)
	}
	h.Codec = string(meta[MetaCodec])
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
		return nil, rd.parseErr("corrupt header: metadata entry of %d bytes", n).WithVariant(jerr.InvalidHeader)
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
	rd.expected, rd.records = -1, -1
	if rd.r.remaining() == 0 {
		return b, buf, io.EOF
	}
	rd.nextIndex++
	blockErr := func(variant, format string, args ...any) (Block, []byte, error) {
		return b, buf, rd.parseErr(format, args...).WithVariant(variant).At(b.Index, -1, start)
	}
	// headerErr keeps read failures (S3 errors, cancellation) as what they are: they
	// used to become "truncated block header" ParseErrors, which ignore_errors skips.
	headerErr := func(err error) (Block, []byte, error) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return blockErr(jerr.UnexpectedEOF, "truncated block header")
		}
		if errors.Is(err, errVarintOverflow) {
			return blockErr(jerr.InvalidBlock, "corrupt block header: %v", err)
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
		return blockErr(jerr.InvalidBlock, "corrupt block header: count %d, size %d", count, size)
	}
	rd.records = count
	if rd.maxBlock >= 0 && size > rd.maxBlock {
		return b, buf, jerr.New(jerr.Codec, "block of %d bytes exceeds max_block_size (%d)", size, rd.maxBlock).
			WithVariant(jerr.OversizedOutput).WithPath(rd.path).At(b.Index, -1, start)
	}
	// Written as a subtraction: size+SyncSize overflows for sizes near MaxInt64 (no
	// max_block_size), which let a corrupt size through to make() and panicked.
	if size > rd.r.remaining()-SyncSize {
		return blockErr(jerr.UnexpectedEOF, "file is truncated: block declares %d bytes but only %d remain", size, rd.r.remaining()-min(rd.r.remaining(), SyncSize))
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
		// The block is dropped even if its data is intact: the marker is the only
		// check that the block ends where its size says, and damage that reaches
		// the marker often reaches the data before it. The next block, though,
		// should start right here; Resync tries this position first.
		rd.expected = rd.r.offset()
		return b, buf[:n], rd.parseErr("sync marker mismatch after block data: the block is corrupt").
			WithVariant(jerr.InvalidSyncMarker).At(b.Index, -1, start)
	}
	b.Count, b.Data = count, data
	return b, buf, nil
}

// A Skip is what Resync dropped: the bytes [From, To) of the file, starting
// with the failed block, and how reading found its footing again.
type Skip struct {
	From, To int64
	Resume   Resume
	// Records is the failed block's declared record count when the skip is
	// that one block (Resume == ResumeExpected), and -1 otherwise.
	Records int64
}

// Resume says where reading goes on after a Skip.
type Resume int

const (
	// ResumeMarker: just after the next sync marker found by scanning ahead.
	// Everything between the failed block and that marker is dropped, which
	// may include blocks after it whose own framing was never checked.
	ResumeMarker Resume = iota
	// ResumeExpected: where the failed block's size says the next block
	// starts. That block was checked to frame, with its own good sync marker,
	// so only the failed block is dropped.
	ResumeExpected
	// ResumeEnd: no further sync marker; the rest of the file is dropped.
	ResumeEnd
)

// Bytes is the number of bytes dropped.
func (s Skip) Bytes() int64 { return s.To - s.From }

// String says what was dropped, for the message of a skipped block.
func (s Skip) String() string {
	switch s.Resume {
	case ResumeExpected:
		what := "the block"
		if s.Records >= 0 {
			what = fmt.Sprintf("the block and its %d records", s.Records)
		}
		return fmt.Sprintf("dropped %s (bytes %d to %d); the next block starts where this one's size says and is intact",
			what, s.From, s.To)
	case ResumeEnd:
		return fmt.Sprintf("dropped bytes %d to %d, the end of the file: no sync marker follows", s.From, s.To)
	}
	return fmt.Sprintf("dropped bytes %d to %d, up to the next sync marker", s.From, s.To)
}

// Resync moves past the failed block at offset from, so reading can go on with
// a block that frames. It scans for the next sync marker after from. When only
// the failed block's own marker was bad, that finds the marker after the next
// block, and skipping to it would drop that block unseen; so if a block frames
// where the failed block's size says the next one starts, and its marker is the
// one the scan found, reading goes on there instead. At the end of the file it
// returns io.EOF.
func (rd *Reader) Resync(from int64) (skip Skip, err error) {
	err = rd.guarded(func() error { skip, err = rd.resync(from); return err })
	return skip, err
}

func (rd *Reader) resync(from int64) (Skip, error) {
	expected, records := rd.expected, rd.records
	rd.expected, rd.records = -1, -1
	marker, err := rd.nextMarker(from + 1)
	if err != nil {
		return Skip{}, err
	}
	if marker < 0 {
		size := rd.r.src.Size()
		rd.r.seek(size)
		return Skip{From: from, To: size, Resume: ResumeEnd, Records: -1}, io.EOF
	}
	// The probed block must end with the very marker the scan found: a block
	// that frames there only by the accident of a varint swallowing a marker
	// byte (a size one too small) ends elsewhere, and is not taken.
	if expected > from && expected < marker {
		end, err := rd.framesAt(expected)
		if err != nil {
			return Skip{}, err
		}
		if end == marker {
			rd.r.seek(expected)
			return Skip{From: from, To: expected, Resume: ResumeExpected, Records: records}, nil
		}
	}
	rd.r.seek(marker)
	return Skip{From: from, To: marker, Resume: ResumeMarker, Records: -1}, nil
}

// nextMarker returns the offset just after the first sync marker that starts at
// or after off, or -1 if there is none.
func (rd *Reader) nextMarker(off int64) (int64, error) {
	rd.r.seek(off)
	for {
		if err := rd.r.fill(SyncSize); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return -1, nil
			}
			return 0, rd.ioErr(err, "data while resynchronising")
		}
		window := rd.r.buf[rd.r.pos:]
		if i := bytes.Index(window, rd.Header.Sync[:]); i >= 0 {
			return rd.r.offset() + int64(i+SyncSize), nil
		}
		// Keep the last SyncSize-1 bytes: a marker may straddle two chunks.
		rd.r.pos += len(window) - (SyncSize - 1)
		if err := rd.r.fill(len(rd.r.buf) - rd.r.pos + 1); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return -1, nil
			}
			return 0, rd.ioErr(err, "data while resynchronising")
		}
	}
}

// framesAt returns the offset just after the block at off, if one frames there:
// a sane header and the sync marker where its size says. It returns -1 if not.
// It reads no block data. A failed read is an error; bytes that do not frame
// are not.
func (rd *Reader) framesAt(off int64) (int64, error) {
	fail := func(err error) (int64, error) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errVarintOverflow) {
			return -1, nil
		}
		return 0, rd.ioErr(err, "data while resynchronising")
	}
	rd.r.seek(off)
	count, err := rd.r.varint()
	if err != nil {
		return fail(err)
	}
	size, err := rd.r.varint()
	if err != nil {
		return fail(err)
	}
	if count < 0 || size < 0 || size > rd.r.remaining()-SyncSize {
		return -1, nil
	}
	rd.r.seek(rd.r.offset() + size)
	sync, err := rd.r.next(SyncSize)
	if err != nil {
		return fail(err)
	}
	if !bytes.Equal(sync, rd.Header.Sync[:]) {
		return -1, nil
	}
	return rd.r.offset(), nil
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
