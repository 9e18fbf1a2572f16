package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	dsbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compressor compresses Avro blocks of one codec. Like a Decompressor it keeps its
// encoder state between calls and is not safe for concurrent use: make one per
// goroutine.
type Compressor interface {
	// Name is the canonical codec name to write in the file header.
	Name() string
	// Compress compresses src in the codec's block format (snappy with its CRC
	// trailer), appending to dst[:0], and returns the result. The null codec
	// returns src itself.
	Compress(dst, src []byte) ([]byte, error)
}

// Levels is the range of compression levels a codec accepts and the one it uses
// when none is given.
type Levels struct {
	Min, Max, Default int
}

// The codecs' levels, with the meaning their command-line tools give them.
var (
	// deflateLevels: 0 stores, 1 is fastest, 9 smallest; 6 is zlib's default.
	deflateLevels = Levels{Min: 0, Max: 9, Default: 6}
	// bzip2Levels: the block size in units of 100 kB, as bzip2 -1 ... -9. The
	// default is the library's (6), not the tool's (9): an Avro block is rarely
	// larger than 600 kB, and a smaller block needs less memory to read.
	bzip2Levels = Levels{Min: 1, Max: 9, Default: 6}
	// zstdLevels: zstd's own scale; klauspost/compress maps it onto its four
	// encoders (1 fastest, 3 default, up to 22 best).
	zstdLevels = Levels{Min: 1, Max: 22, Default: 3}
)

// NoLevel asks NewCompressor for the codec's default level.
const NoLevel = -1 << 31

// ErrLevel reports a compression level the codec does not have.
var ErrLevel = errors.New("invalid compression level")

// LevelsOf returns the levels of a codec, or nil if it has none (null, snappy,
// xz) or is unknown.
func LevelsOf(name string) *Levels {
	c := canonical(name)
	for _, e := range codecs {
		if e.name == c {
			return e.levels
		}
	}
	return nil
}

// NewCompressor returns a fresh Compressor for a codec name ("" means null, "zstd"
// means zstandard) at a level, or at the codec's default with NoLevel. An unknown
// name returns an error wrapping ErrUnknown; a level out of the codec's range, or
// any level for a codec without levels, one wrapping ErrLevel.
func NewCompressor(name string, level int) (Compressor, error) {
	c := canonical(name)
	for _, e := range codecs {
		if e.name != c {
			continue
		}
		switch {
		case level == NoLevel && e.levels != nil:
			level = e.levels.Default
		case level == NoLevel:
		case e.levels == nil:
			return nil, fmt.Errorf("%w: the %s codec has no compression levels", ErrLevel, c)
		case level < e.levels.Min || level > e.levels.Max:
			return nil, fmt.Errorf("%w %d for %s: it takes %d to %d (default %d)",
				ErrLevel, level, c, e.levels.Min, e.levels.Max, e.levels.Default)
		}
		return e.compress(level), nil
	}
	return nil, fmt.Errorf("%w %q (supported: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Compress compresses src with the named codec at its default level. It sets up a
// new encoder on every call: it is for tests and fuzz seeds; writers keep a
// Compressor per goroutine.
func Compress(name string, src []byte) ([]byte, error) {
	c, err := NewCompressor(name, NoLevel)
	if err != nil {
		return nil, err
	}
	out, err := c.Compress(nil, src)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(out), nil
}

type nullCompressor struct{}

func newNullCompressor(int) Compressor { return nullCompressor{} }

func (nullCompressor) Name() string { return "null" }

// Compress returns src itself, as the null decompressor does: a copy would cost a
// pass over every block for nothing.
func (nullCompressor) Compress(_, src []byte) ([]byte, error) { return src, nil }

type snappyCompressor struct{}

func newSnappyCompressor(int) Compressor { return snappyCompressor{} }

func (snappyCompressor) Name() string { return "snappy" }

// Compress writes a raw snappy block (not the framed stream format) and the
// big-endian CRC-32 (IEEE) of src, as Avro's snappy codec requires. s2's
// EncodeSnappy writes plain snappy at snappy's own speed; the snappy package's
// Encode is s2's "better" mode, about twice as slow for a few percent.
func (snappyCompressor) Compress(dst, src []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(src)) + 4
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	out := s2.EncodeSnappy(dst[:cap(dst)], src)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(src)), nil
}

// deflateCompressor writes raw DEFLATE (RFC 1951), without a zlib or gzip
// wrapper, reusing one flate.Writer (its window and tables) for every block.
type deflateCompressor struct {
	level int
	buf   bytes.Buffer
	w     *flate.Writer
}

func newDeflateCompressor(level int) Compressor { return &deflateCompressor{level: level} }

func (*deflateCompressor) Name() string { return "deflate" }

func (d *deflateCompressor) Compress(dst, src []byte) ([]byte, error) {
	d.buf = *bytes.NewBuffer(dst[:0])
	if d.w == nil {
		w, err := flate.NewWriter(&d.buf, d.level)
		if err != nil {
			return dst[:0], fmt.Errorf("deflate: compress: %w", err)
		}
		d.w = w
	} else {
		d.w.Reset(&d.buf)
	}
	if err := writeClose(d.w, src); err != nil {
		return dst[:0], fmt.Errorf("deflate: compress: %w", err)
	}
	out := d.buf.Bytes()
	d.buf = bytes.Buffer{} // do not keep the caller's buffer
	return out, nil
}

// zstdCompressor writes one zstandard frame per block with a synchronous encoder:
// blocks are compressed in parallel by the writer already.
type zstdCompressor struct {
	level int
	enc   *zstd.Encoder
}

func newZstdCompressor(level int) Compressor { return &zstdCompressor{level: level} }

func (*zstdCompressor) Name() string { return "zstandard" }

func (z *zstdCompressor) Compress(dst, src []byte) ([]byte, error) {
	if z.enc == nil {
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(z.level)),
			// A block is small: a window beyond it would only cost memory.
			zstd.WithWindowSize(1<<20))
		if err != nil {
			return dst[:0], fmt.Errorf("zstandard: compress: %w", err)
		}
		z.enc = enc
	}
	return z.enc.EncodeAll(src, dst[:0]), nil
}

// bzip2Compressor uses github.com/dsnet/compress, as the standard library only
// decompresses bzip2.
type bzip2Compressor struct {
	level int
	buf   bytes.Buffer
	w     *dsbzip2.Writer
}

func newBzip2Compressor(level int) Compressor { return &bzip2Compressor{level: level} }

func (*bzip2Compressor) Name() string { return "bzip2" }

func (b *bzip2Compressor) Compress(dst, src []byte) ([]byte, error) {
	b.buf = *bytes.NewBuffer(dst[:0])
	if b.w == nil {
		w, err := dsbzip2.NewWriter(&b.buf, &dsbzip2.WriterConfig{Level: b.level})
		if err != nil {
			return dst[:0], fmt.Errorf("bzip2: compress: %w", err)
		}
		b.w = w
	} else if err := b.w.Reset(&b.buf); err != nil {
		return dst[:0], fmt.Errorf("bzip2: compress: %w", err)
	}
	if err := writeClose(b.w, src); err != nil {
		return dst[:0], fmt.Errorf("bzip2: compress: %w", err)
	}
	out := b.buf.Bytes()
	b.buf = bytes.Buffer{}
	return out, nil
}

// xzCompressor writes one xz stream (CRC-64 check) per block. github.com/ulikunitz/xz
// has no presets, so xz takes no level; its dictionary is sized to the block,
// since a match cannot reach back past the block's start anyway.
type xzCompressor struct {
	buf bytes.Buffer
}

func newXZCompressor(int) Compressor { return new(xzCompressor) }

func (*xzCompressor) Name() string { return "xz" }

func (x *xzCompressor) Compress(dst, src []byte) ([]byte, error) {
	x.buf = *bytes.NewBuffer(dst[:0])
	defer func() { x.buf = bytes.Buffer{} }()
	cfg := xz.WriterConfig{DictCap: min(max(len(src), 4096), 8<<20)}
	w, err := cfg.NewWriter(&x.buf)
	if err != nil {
		return dst[:0], fmt.Errorf("xz: compress: %w", err)
	}
	if err := writeClose(w, src); err != nil {
		return dst[:0], fmt.Errorf("xz: compress: %w", err)
	}
	return x.buf.Bytes(), nil
}

type writeCloser interface {
	Write([]byte) (int, error)
	Close() error
}

func writeClose(w writeCloser, src []byte) error {
	if _, err := w.Write(src); err != nil {
		return err
	}
	return w.Close()
}
