package codec

import (
	"bytes"
	"io"

	"github.com/klauspost/compress/flate"
)

// deflateDecompressor implements the deflate codec: raw DEFLATE (RFC 1951)
// without a zlib or gzip wrapper.
type deflateDecompressor struct {
	drain
	src bytes.Reader // a *bytes.Reader lets flate take its fast path with no bufio copy
	fr  io.ReadCloser
}

func (*deflateDecompressor) Name() string { return "deflate" }

// Decompress inflates src. Bytes after the final deflate block are ignored, as
// zlib's inflate does.
func (d *deflateDecompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	d.src.Reset(src)
	defer d.src.Reset(nil) // do not keep the caller's block alive
	if d.fr == nil {
		// The inflater holds a 32 KiB window and its Huffman tables; creating it
		// once per Decompressor rather than once per block is most of the win.
		d.fr = flate.NewReader(&d.src)
	} else if err := d.fr.(flate.Resetter).Reset(&d.src, nil); err != nil {
		return dst[:0], corruptErr("deflate", err)
	}
	out, err := d.readAppend(dst[:0], d.fr, limit, 4*len(src))
	switch {
	case err == errLimit:
		return dst[:0], tooLarge("deflate", limit)
	case err != nil:
		return dst[:0], corruptErr("deflate", err)
	}
	return out, nil
}
