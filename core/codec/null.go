package codec

// nullDecompressor implements the null codec: blocks are stored uncompressed.
type nullDecompressor struct{}

func (nullDecompressor) Name() string { return "null" }

// Decompress returns src itself: copying it would cost a pass over every block of
// an uncompressed file for nothing. The result therefore aliases src.
func (nullDecompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	if limit >= 0 && int64(len(src)) > limit {
		return dst[:0], tooLarge("null", limit)
	}
	return src, nil
}
