package container

import (
	"context"
	"errors"
	"io"

	"github.com/jetliner/jetliner/core/source"
)

// chunkReader reads a Source front to back in chunks of a fixed size, so that small
// reads (varints, sync markers) cost no I/O call each and large ones (block data) go
// straight into the caller's buffer. From a source that lends its bytes (a
// source.Viewer) it copies nothing: chunks and block data are views.
type chunkReader struct {
	ctx   context.Context
	src   source.Source
	view  source.Viewer // non-nil: src lends its bytes, and buf is a view of them
	chunk int

	buf []byte // buffered bytes, buf[pos:] not yet consumed
	pos int
	off int64 // file offset of buf[0]

	readAhead  bool  // ask a viewer to read ahead (not while reading the header)
	prefetched int64 // a viewer has been asked to read ahead up to here
}

// prefetchAhead is how far past the data in use a viewer is asked to read ahead,
// so that a file not yet in the file cache is read from disk while blocks before
// it are decoded, rather than page by page as the decoders touch it.
const prefetchAhead = 8 << 20

func newChunkReader(ctx context.Context, src source.Source, chunk int, at int64) *chunkReader {
	c := &chunkReader{ctx: ctx, src: src, chunk: chunk, off: at}
	c.view, _ = src.(source.Viewer)
	return c
}

// viewAt makes buf a view of at least n bytes at off (fewer at the end of the
// source), asking for read-ahead beyond it.
func (c *chunkReader) viewAt(off int64, n int) {
	c.buf, c.pos, c.off = c.view.View(off, n), 0, off
	if end := off + int64(len(c.buf)); c.readAhead && end > c.prefetched {
		from := max(off, c.prefetched)
		c.prefetched = min(end+prefetchAhead, c.src.Size())
		c.view.Prefetch(from, c.prefetched-from)
	}
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
	if c.view != nil {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		c.viewAt(c.offset(), max(n, c.chunk))
		switch {
		case len(c.buf) >= n:
			return nil
		case len(c.buf) == 0:
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	// Slide the unread tail to the front and read a whole chunk behind it.
	start := c.offset()
	unread := c.buf[c.pos:]
	// A whole chunk, but not more than the source has left: the buffer is
	// allocated whole, and read_chunk_size may be far larger than a small file.
	want := c.chunk
	if rest := c.src.Size() - start; int64(want) > rest {
		want = int(max(rest, 0))
	}
	if want = max(want, n); cap(c.buf) < want {
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

// take returns the next n bytes. From a viewer they are a view that stays valid
// as long as the source (see source.Viewer); otherwise a copy appended to buf.
// It returns the bytes and buf, grown.
func (c *chunkReader) take(n int, buf []byte) ([]byte, []byte, error) {
	if c.view == nil {
		start := len(buf)
		buf = grow(buf, n)
		if err := c.readFull(buf[start : start+n]); err != nil {
			return nil, buf[:start], err
		}
		return buf[start : start+n], buf, nil
	}
	if len(c.buf)-c.pos >= n {
		b := c.buf[c.pos : c.pos+n]
		c.pos += n
		return b, buf, nil
	}
	if err := c.ctx.Err(); err != nil {
		return nil, buf, err
	}
	// A block larger than what is buffered: one view of all of it.
	at := c.offset()
	c.viewAt(at, n)
	if len(c.buf) < n {
		c.pos = len(c.buf)
		return nil, buf, io.ErrUnexpectedEOF
	}
	c.pos = n
	return c.buf[:n], buf, nil
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
