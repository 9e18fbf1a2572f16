package codec

import (
	"bytes"
	"encoding/binary"
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
//
// DecodeAll, the fast path, decodes straight into dst but checks its size limit
// only frame by frame, and so may run far past it (and reallocate dst) on a
// block of many frames, or of one frame that states no size. The frames' headers
// bound what they can yield, so DecodeAll gets only blocks that cannot pass the
// limit; the rest, which in practice are bombs, are streamed through readAppend,
// which stops at the limit exactly. A streaming decoder keeps a window of
// history besides the output, so its window is capped at zstdStreamWindow: a
// bomb's header may ask for 512 MiB of it. (DecodeAll keeps its history in dst.)
type zstdDecompressor struct {
	drain
	dec    *zstd.Decoder // for DecodeAll
	stream *zstd.Decoder // for streaming, made when first needed
	mem    uint64        // dec's maximum decoded size
	src    bytes.Reader
}

// zstdStreamWindow is the largest window the streaming path allows. Frames with
// larger windows (zstd --ultra -22 uses 128 MiB) still decode through DecodeAll
// whenever their blocks cannot pass the limit, which is all but bombs.
const zstdStreamWindow = 128 << 20

func (*zstdDecompressor) Name() string { return "zstandard" }

func (z *zstdDecompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	if len(src) == 0 {
		// DecodeAll accepts no frames at all as empty output; a block always has one.
		return dst[:0], corrupt("zstandard", "empty block")
	}
	if err := z.setup(limit); err != nil {
		return dst[:0], err
	}
	var out []byte
	var err error
	exact, most := zstdBounds(src)
	switch {
	case limit >= 0 && exact > limit:
		// Most writers state the content size: refuse it before decoding.
		return dst[:0], tooLarge("zstandard", limit)
	case limit < 0 || most <= limit:
		out, err = z.dec.DecodeAll(src, dst[:0])
	default:
		out, err = z.decodeStream(dst[:0], src, limit)
	}
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		return dst[:0], fmt.Errorf("zstandard: %w: frame window larger than the decoder allows", ErrTooLarge)
	case errors.Is(err, zstd.ErrDecoderSizeExceeded) || err == errLimit:
		return dst[:0], tooLarge("zstandard", limit)
	case err != nil:
		return dst[:0], corruptErr("zstandard", err)
	case limit >= 0 && int64(len(out)) > limit:
		return dst[:0], tooLarge("zstandard", limit)
	}
	return out, nil
}

// setup makes the decoder, or changes its memory limit to suit limit.
func (z *zstdDecompressor) setup(limit int64) error {
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
			return fmt.Errorf("zstandard: decoder setup: %w", err)
		}
		z.dec, z.mem = dec, mem
	} else if mem != z.mem {
		if err := z.dec.ResetWithOptions(nil, zstd.WithDecoderMaxMemory(mem)); err != nil {
			return fmt.Errorf("zstandard: decoder setup: %w", err)
		}
		z.mem = mem
	}
	return nil
}

// decodeStream decodes src as a stream, appending to dst no more than limit
// bytes.
func (z *zstdDecompressor) decodeStream(dst, src []byte, limit int64) ([]byte, error) {
	if z.stream == nil {
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdStreamWindow))
		if err != nil {
			return dst, fmt.Errorf("zstandard: decoder setup: %w", err)
		}
		z.stream = dec
	}
	z.src.Reset(src)
	defer z.src.Reset(nil)
	if err := z.stream.Reset(&z.src); err != nil {
		return dst, err
	}
	defer z.stream.Reset(nil) // drops the reader; it cannot fail
	return z.readAppend(dst, z.stream, limit, len(src))
}

// zstdBlockMax is the most a compressed zstandard block can decode to.
const zstdBlockMax = 128 << 10

// zstdBounds reads the frame and block headers of src, decoding nothing, and
// returns the total content size the frames state (those that state one) and an
// upper bound on what all of src can decode to: stated sizes, raw and RLE blocks
// exactly, 128 KiB for every compressed block of a frame that states no size. A
// header that does not parse ends the walk with the bound at its maximum, so
// that the decoder, streaming, reports the problem.
func zstdBounds(src []byte) (exact, most int64) {
	const unbounded = 1<<63 - 1
	for len(src) > 0 {
		if len(src) < 8 {
			return exact, unbounded
		}
		magic := binary.LittleEndian.Uint32(src)
		if magic&0xfffffff0 == 0x184d2a50 { // a skippable frame
			n := int64(binary.LittleEndian.Uint32(src[4:]))
			if n > int64(len(src)-8) {
				return exact, unbounded
			}
			src = src[8+n:]
			continue
		}
		if magic != 0xfd2fb528 {
			return exact, unbounded
		}
		fhd := src[4]
		single := fhd&0x20 != 0
		pos := 5
		if !single {
			pos++ // the window descriptor
		}
		pos += []int{0, 1, 2, 4}[fhd&3] // the dictionary id
		fcsLen := []int{0, 2, 4, 8}[fhd>>6]
		if fcsLen == 0 && single {
			fcsLen = 1
		}
		if pos+fcsLen > len(src) {
			return exact, unbounded
		}
		size := int64(-1)
		switch fcsLen {
		case 1:
			size = int64(src[pos])
		case 2:
			size = int64(binary.LittleEndian.Uint16(src[pos:])) + 256
		case 4:
			size = int64(binary.LittleEndian.Uint32(src[pos:]))
		case 8:
			if v := binary.LittleEndian.Uint64(src[pos:]); v < unbounded {
				size = int64(v)
			} else {
				size = unbounded
			}
		}
		pos += fcsLen
		var blocks int64 // the frame's bound from its blocks
		for last := false; !last; {
			if pos+3 > len(src) {
				return exact, unbounded
			}
			h := uint32(src[pos]) | uint32(src[pos+1])<<8 | uint32(src[pos+2])<<16
			pos += 3
			last = h&1 != 0
			n := int(h >> 3)
			switch (h >> 1) & 3 {
			case 0: // raw
				blocks += int64(n)
				pos += n
			case 1: // RLE: one byte, repeated n times
				blocks += int64(n)
				pos++
			case 2:
				blocks += zstdBlockMax
				pos += n
			default:
				return exact, unbounded
			}
		}
		if fhd&0x04 != 0 {
			pos += 4 // the content checksum
		}
		if pos > len(src) {
			return exact, unbounded
		}
		src = src[pos:]
		if size >= 0 {
			exact = satAdd(exact, size)
			// A frame that decodes past its stated size fails within a block.
			most = satAdd(most, min(size+zstdBlockMax, blocks))
		} else {
			most = satAdd(most, blocks)
		}
	}
	return exact, most
}

func satAdd(a, b int64) int64 {
	if a > 1<<63-1-b {
		return 1<<63 - 1
	}
	return a + b
}
