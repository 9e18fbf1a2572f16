// Package codec compresses and decompresses the blocks of Avro object container
// files.
//
// A container file compresses each block on its own with the codec named by the
// avro.codec header entry. This package implements every codec of the Avro 1.12
// specification, both ways: null, deflate, snappy, zstandard, bzip2 and xz.
//
// A file has many blocks, and setting up a decoder can cost more than decoding a
// small block, so a Decompressor keeps its decoder state and scratch buffers from
// one call to the next. Each call takes a limit on the decompressed size that is
// enforced while decoding, so a hostile block cannot make the reader allocate much
// more than the caller allowed. A negative limit trusts the input.
package codec

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Decompressor decompresses Avro blocks of one codec. It keeps scratch state
// between calls, so it is not safe for concurrent use: make one per goroutine.
type Decompressor interface {
	// Name is the canonical codec name as written in the file header, e.g. "zstandard".
	Name() string
	// Decompress decompresses src, appending to dst[:0] (reusing its capacity), and
	// returns the result. Passing the previous result back as dst lets the buffer be
	// reused across blocks. The null codec returns src itself, so the result may
	// alias src.
	//
	// If the output would exceed limit bytes (limit < 0 means no limit) it stops and
	// returns an error wrapping ErrTooLarge. Corrupt or truncated input returns an
	// error wrapping ErrCorrupt that says what was wrong. On error the result is
	// dst[:0], so a caller that assigns it back keeps its buffer.
	Decompress(dst, src []byte, limit int64) ([]byte, error)
}

var (
	// ErrCorrupt reports a block that does not decompress: bad or truncated data,
	// a checksum mismatch, or a feature of the format that is not supported.
	ErrCorrupt = errors.New("corrupt compressed data")
	// ErrTooLarge reports a block whose decompressed size exceeds the limit.
	ErrTooLarge = errors.New("decompressed block exceeds the size limit")
	// ErrUnknown reports a codec name that this package does not implement.
	ErrUnknown = errors.New("unknown codec")
)

// codecs lists the supported codecs in the order of the Avro specification, each
// with its decompressor and its compressor (and the compressor's levels, if it
// has any), registered as a pair.
var codecs = []struct {
	name     string
	new      func() Decompressor
	compress func(level int) Compressor
	levels   *Levels // nil: the codec has no levels
}{
	{"null", func() Decompressor { return nullDecompressor{} }, newNullCompressor, nil},
	{"deflate", func() Decompressor { return new(deflateDecompressor) }, newDeflateCompressor, &deflateLevels},
	{"bzip2", func() Decompressor { return new(bzip2Decompressor) }, newBzip2Compressor, &bzip2Levels},
	{"snappy", func() Decompressor { return snappyDecompressor{} }, newSnappyCompressor, nil},
	{"xz", func() Decompressor { return new(xzDecompressor) }, newXZCompressor, nil},
	{"zstandard", func() Decompressor { return new(zstdDecompressor) }, newZstdCompressor, &zstdLevels},
}

// canonical maps a header value to the name it stands for. Writers that omit
// avro.codec mean null; "zstd" is accepted because some writers use it.
func canonical(name string) string {
	switch name {
	case "":
		return "null"
	case "zstd":
		return "zstandard"
	}
	return name
}

// New returns a fresh Decompressor for a codec name from the avro.codec header
// ("" means null, "zstd" means zstandard). An unknown name returns an error
// wrapping ErrUnknown.
func New(name string) (Decompressor, error) {
	c := canonical(name)
	for _, e := range codecs {
		if e.name == c {
			return e.new(), nil
		}
	}
	return nil, fmt.Errorf("%w %q (supported: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Names lists the canonical names of the supported codecs.
func Names() []string {
	names := make([]string, len(codecs))
	for i, e := range codecs {
		names[i] = e.name
	}
	return names
}

// corrupt returns an error wrapping ErrCorrupt. The detail is formatted rather
// than wrapped so that callers testing for io.ErrUnexpectedEOF, which usually
// means a truncated file, do not mistake a bad block for one.
func corrupt(codec, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", codec, ErrCorrupt, fmt.Sprintf(format, args...))
}

// corruptErr reports a decoder error as corrupt input. The input is a byte slice,
// so no decoder error can be an I/O failure.
func corruptErr(codec string, err error) error {
	return corrupt(codec, "%v", err)
}

// tooLarge returns an error wrapping ErrTooLarge.
func tooLarge(codec string, limit int64) error {
	return fmt.Errorf("%s: %w of %d bytes", codec, ErrTooLarge, limit)
}

// errLimit is returned by readAppend when the reader has more than limit bytes.
var errLimit = errors.New("output limit exceeded")

// drain holds the read loop of the streaming codecs (deflate, bzip2, xz).
type drain struct {
	probe [1]byte
}

// readAppend appends everything r produces to dst and returns it, failing with
// errLimit as soon as len(dst) would pass limit (limit < 0 means no limit), so a
// bomb never gets more than one byte past it. hint is the expected number of new
// bytes and only sizes the first allocation.
func (d *drain) readAppend(dst []byte, r io.Reader, limit int64, hint int) ([]byte, error) {
	maxLen := int64(math.MaxInt - 1)
	if limit >= 0 && limit < maxLen {
		maxLen = limit
	}
	for stalls := 0; ; {
		var n int
		var err error
		if len(dst) == cap(dst) {
			// The output may already be complete, as when dst came back from a
			// previous block of the same size: read into a probe byte rather than
			// double the buffer just to be told io.EOF.
			n, err = r.Read(d.probe[:])
			if n > 0 {
				if int64(len(dst)) >= maxLen {
					return dst, errLimit
				}
				dst = grow(dst, hint, maxLen)
				dst = append(dst, d.probe[0])
			}
		} else {
			buf := dst[len(dst):cap(dst)]
			if room := maxLen + 1 - int64(len(dst)); int64(len(buf)) > room {
				buf = buf[:room]
			}
			n, err = r.Read(buf)
			dst = dst[:len(dst)+n]
			if int64(len(dst)) > maxLen {
				return dst, errLimit
			}
		}
		switch {
		case err == io.EOF:
			return dst, nil
		case err != nil:
			return dst, err
		case n == 0:
			// A reader that keeps returning nothing must not hang the caller.
			if stalls++; stalls >= 100 {
				return dst, io.ErrNoProgress
			}
		default:
			stalls = 0
		}
	}
}

// grow returns dst with room for more bytes: hint more the first time, doubling
// after that, and never more than maxLen+1 in all since a byte past the limit is
// an error anyway.
func grow(dst []byte, hint int, maxLen int64) []byte {
	const minCap = 4096
	c := max(2*cap(dst), len(dst)+hint, minCap)
	if int64(c) > maxLen+1 {
		c = int(maxLen + 1)
	}
	if c <= len(dst) {
		c = len(dst) + 1
	}
	grown := make([]byte, len(dst), c)
	copy(grown, dst)
	return grown
}
