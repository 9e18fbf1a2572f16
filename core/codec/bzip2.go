package codec

import (
	"bytes"
	"compress/bzip2"
)

// bzip2Decompressor implements the bzip2 codec.
type bzip2Decompressor struct {
	drain
	src bytes.Reader // an io.ByteReader, so bzip2 does not add a bufio.Reader
}

func (*bzip2Decompressor) Name() string { return "bzip2" }

// Decompress decodes one or more concatenated bzip2 streams. The standard
// library's reader cannot be reset, so each block gets a new one; bzip2 is slow
// enough that this hardly shows.
func (d *bzip2Decompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	if len(src) == 0 {
		return dst[:0], corrupt("bzip2", "empty block")
	}
	d.src.Reset(src)
	defer d.src.Reset(nil)
	out, err := d.readAppend(dst[:0], bzip2.NewReader(&d.src), limit, 4*len(src))
	switch {
	case err == errLimit:
		return dst[:0], tooLarge("bzip2", limit)
	case err != nil:
		return dst[:0], corruptErr("bzip2", err)
	}
	return out, nil
}
