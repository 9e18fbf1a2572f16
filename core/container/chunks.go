package container

import (
	"context"
	"errors"
	"io"

	"github.com/jetliner/jetliner/core/source"
)

// chunkReader reads a Source front to back in chunks of a fixed size, so that small
// reads (varints, sync markers) cost no I/O call each and large ones (block data) go
// straight into the caller's buffer.
type chunkReader struct {
	ctx   context.Context
	src   source.Source
	chunk int

	buf []byte // buffered bytes, buf[pos:] not yet consumed
	pos int
	off int64 // file offset of buf[0]
}

func newChunkReader(ctx context.Context, src source.Source, chunk int, at int64) *chunkReader {
	return &chunkReader{ctx: ctx, src: src, chunk: chunk, off: at}
}

// offset is the file offset of the next unread byte.
func (c *chunkReader) offset() int64 { return c.off + int64(c.pos) }

// remaining is the number of bytes left in the source after the read position.
func (c *chunkReader) remaining() int64 { return c.src.Size() - c.offset() }

// seek moves the read position, keeping buffered bytes when they still cover it.
func (c *chunkReader) seek(off int64) {
	if off >= c.off && off <= c.off+int64(len(c.buf)) {
		c.pos = int(off - c.off)
		return
	}
	c.buf, c.pos, c.off = c.buf[:0], 0, off
}

// fill makes at least n unread bytes available, unless the source ends first, in
// which case it returns io.ErrUnexpectedEOF (or io.EOF if nothing at all is left).
func (c *chunkReader) fill(n int) error {
	if len(c.buf)-c.pos >= n {
		return nil
	}
	// Slide the unread tail to the front and read a whole chunk behind it.
	start := c.offset()
	unread := c.buf[c.pos:]
	if want := max(n, c.chunk); cap(c.buf) < want {
		nb := make([]byte, len(unread), want)
		copy(nb, unread)
		c.buf = nb
	} else {
		c.buf = c.buf[:len(unread)]
		copy(c.buf, unread) // copy is a memmove, so the overlap is fine
	}
	tail := len(unread)
	c.pos, c.off = 0, start
	toRead := int64(cap(c.buf) - tail)
	if left := c.src.Size() - (start + int64(tail)); toRead > left {
		toRead = left
	}
	if toRead > 0 {
		got, err := c.src.ReadAt(c.ctx, c.buf[tail:tail+int(toRead)], start+int64(tail))
		c.buf = c.buf[:tail+got]
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	if len(c.buf) >= n {
		return nil
	}
	if len(c.buf) == 0 {
		return io.EOF
	}
	return io.ErrUnexpectedEOF
}

// next returns the next n bytes. The slice is only valid until the next call.
func (c *chunkReader) next(n int) ([]byte, error) {
	if err := c.fill(n); err != nil {
		return nil, err
	}
	b := c.buf[c.pos : c.pos+n]
	c.pos += n
	return b, nil
}

// readFull fills p, copying what is buffered and reading large remainders directly.
func (c *chunkReader) readFull(p []byte) error {
	n := copy(p, c.buf[c.pos:])
	c.pos += n
	p = p[n:]
	if len(p) == 0 {
		return nil
	}
	if len(p) < c.chunk {
		b, err := c.next(len(p))
		if err != nil {
			return noEOF(err)
		}
		copy(p, b)
		return nil
	}
	at := c.offset()
	got, err := c.src.ReadAt(c.ctx, p, at)
	c.buf, c.pos, c.off = c.buf[:0], 0, at+int64(got)
	if got < len(p) {
		if err == nil || errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// varint reads one zigzag-encoded Avro long.
func (c *chunkReader) varint() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if c.pos >= len(c.buf) {
			if err := c.fill(1); err != nil {
				if shift > 0 {
					return 0, noEOF(err)
				}
				return 0, err
			}
		}
		b := c.buf[c.pos]
		c.pos++
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errVarintOverflow
}

var errVarintOverflow = errors.New("varint is longer than 10 bytes")

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
