package codec

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// zstdMinMemory is the least output a zstandard frame may be allowed, whatever the
// caller's limit. The decoder refuses frames whose window exceeds its memory
// limit, and the format recommends that decoders accept windows of up to 8 MiB;
// a tighter limit would refuse ordinary streamed frames (whose window is a few
// MiB however small the content), so below 8 MiB the caller's limit is checked on
// the result instead.
const zstdMinMemory = 8 << 20

// zstdDecompressor implements the zstandard codec: one or more zstd frames.
type zstdDecompressor struct {
	dec *zstd.Decoder
	mem uint64 // the decoder's current maximum decoded size
}

func (*zstdDecompressor) Name() string { return "zstandard" }

func (z *zstdDecompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	if len(src) == 0 {
		// DecodeAll accepts no frames at all as empty output; a block always has one.
		return dst[:0], corrupt("zstandard", "empty block")
	}
	mem := uint64(1 << 63) // the largest the decoder accepts
	if limit >= 0 {
		mem = max(uint64(limit), zstdMinMemory)
	}
	if z.dec == nil {
		// One synchronous decoder: Decompressors are per goroutine, so the
		// decoder's own concurrency would only add goroutines and memory.
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(mem))
		if err != nil {
			return dst[:0], fmt.Errorf("zstandard: decoder setup: %w", err)
		}
		z.dec, z.mem = dec, mem
	} else if mem != z.mem {
		if err := z.dec.ResetWithOptions(nil, zstd.WithDecoderMaxMemory(mem)); err != nil {
			return dst[:0], fmt.Errorf("zstandard: decoder setup: %w", err)
		}
		z.mem = mem
	}
	if limit >= 0 {
		// Most writers state the content size; refuse it before DecodeAll
		// allocates for it.
		var h zstd.Header
		if h.Decode(src) == nil && h.HasFCS && h.FrameContentSize > uint64(limit) {
			return dst[:0], tooLarge("zstandard", limit)
		}
	}
	out, err := z.dec.DecodeAll(src, dst[:0])
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		return dst[:0], fmt.Errorf("zstandard: %w: frame window larger than the decoder allows", ErrTooLarge)
	case errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return dst[:0], tooLarge("zstandard", limit)
	case err != nil:
		return dst[:0], corruptErr("zstandard", err)
	case limit >= 0 && int64(len(out)) > limit:
		return dst[:0], tooLarge("zstandard", limit)
	}
	return out, nil
}
