package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// compressed lists the codecs that actually compress.
var compressed = []string{"deflate", "bzip2", "snappy", "xz", "zstandard"}

// mixedData returns n bytes that look like a block of Avro records: varints,
// strings from a small vocabulary, runs and incompressible bytes.
func mixedData(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := []string{"station", "011990-99999", "temperature", "pressure", "north", "south", "", "jetliner", "avro"}
	b := make([]byte, 0, n+64)
	for len(b) < n {
		switch rng.IntN(6) {
		case 0, 1:
			b = binary.AppendVarint(b, rng.Int64N(1<<40))
		case 2, 3:
			w := words[rng.IntN(len(words))]
			b = binary.AppendVarint(b, int64(len(w)))
			b = append(b, w...)
		case 4:
			b = append(b, bytes.Repeat([]byte{byte(rng.IntN(256))}, rng.IntN(40))...)
		case 5:
			for range rng.IntN(24) {
				b = append(b, byte(rng.Uint32()))
			}
		}
	}
	return b[:n]
}

func testInputs() map[string][]byte {
	return map[string][]byte{
		"empty":  {},
		"byte":   {'x'},
		"small":  []byte("hello, avro block"),
		"mixed":  mixedData(1<<20, 1),
		"zeros":  make([]byte, 1<<20),
		"repeat": bytes.Repeat([]byte("0123456789abcdef"), 40000),
		"random": randomBytes(100_000, 7),
	}
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func mustNew(t testing.TB, name string) Decompressor {
	t.Helper()
	d, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustCompress(t testing.TB, name string, src []byte) []byte {
	t.Helper()
	c, err := Compress(name, src)
	if err != nil {
		t.Fatalf("Compress(%q): %v", name, err)
	}
	return c
}

func TestNames(t *testing.T) {
	want := []string{"null", "deflate", "bzip2", "snappy", "xz", "zstandard"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	Names()[0] = "changed"
	if Names()[0] != "null" {
		t.Fatal("Names returned shared state")
	}
	for _, name := range want {
		if got := mustNew(t, name).Name(); got != name {
			t.Errorf("New(%q).Name() = %q", name, got)
		}
	}
}

func TestAliases(t *testing.T) {
	for alias, name := range map[string]string{"": "null", "zstd": "zstandard"} {
		d := mustNew(t, alias)
		if d.Name() != name {
			t.Errorf("New(%q).Name() = %q, want %q", alias, d.Name(), name)
		}
		src := mixedData(10_000, 3)
		c := mustCompress(t, alias, src)
		out, err := d.Decompress(nil, c, -1)
		if err != nil || !bytes.Equal(out, src) {
			t.Errorf("%q round trip failed: %v", alias, err)
		}
	}
}

func TestUnknown(t *testing.T) {
	for _, name := range []string{"lz4", "Deflate", "gzip", " null"} {
		d, err := New(name)
		if !errors.Is(err, ErrUnknown) || d != nil {
			t.Errorf("New(%q) = %v, %v; want ErrUnknown", name, d, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", name)) || !strings.Contains(msg, "zstandard") {
			t.Errorf("New(%q) error %q should name the codec and list the supported ones", name, msg)
		}
		if _, err := Compress(name, []byte("x")); !errors.Is(err, ErrUnknown) {
			t.Errorf("Compress(%q) error = %v, want ErrUnknown", name, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	inputs := testInputs()
	for _, name := range Names() {
		for in, src := range inputs {
			t.Run(name+"/"+in, func(t *testing.T) {
				c := mustCompress(t, name, src)
				out, err := mustNew(t, name).Decompress(nil, c, -1)
				if err != nil {
					t.Fatalf("Decompress: %v", err)
				}
				if !bytes.Equal(out, src) {
					t.Fatalf("round trip gave %d bytes, want %d", len(out), len(src))
				}
				// Exactly the decompressed size is allowed.
				out, err = mustNew(t, name).Decompress(make([]byte, 3), c, int64(len(src)))
				if err != nil || !bytes.Equal(out, src) {
					t.Fatalf("Decompress with limit = size: %v", err)
				}
			})
		}
	}
}

func TestNullAliasesSrc(t *testing.T) {
	src := []byte("uncompressed")
	out, err := mustNew(t, "null").Decompress(make([]byte, 0, 100), src, -1)
	if err != nil || &out[0] != &src[0] || len(out) != len(src) {
		t.Fatalf("null codec should return src itself: %v", err)
	}
}

// TestReuse decompresses many blocks of varying size with one Decompressor and
// one buffer, with failures in between, as the container reader does.
func TestReuse(t *testing.T) {
	var blocks [][]byte
	for i := range 24 {
		n := []int{0, 1, 100, 5000, 70_000, 300_000}[i%6]
		blocks = append(blocks, mixedData(n, uint64(i)))
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			var enc [][]byte
			for _, b := range blocks {
				enc = append(enc, mustCompress(t, name, b))
			}
			d := mustNew(t, name)
			var buf []byte
			for round := range 3 {
				for i, c := range enc {
					if name != "null" && i%5 == 4 {
						// A failed block must not disturb the next one.
						_, err := d.Decompress(buf, c[:len(c)/2], -1)
						if !errors.Is(err, ErrCorrupt) {
							t.Fatalf("round %d block %d: truncated block gave %v", round, i, err)
						}
						if _, err := d.Decompress(buf, c, 10); len(blocks[i]) > 10 && !errors.Is(err, ErrTooLarge) {
							t.Fatalf("round %d block %d: limited block gave %v", round, i, err)
						}
					}
					out, err := d.Decompress(buf, c, 1<<30)
					if err != nil {
						t.Fatalf("round %d block %d: %v", round, i, err)
					}
					if !bytes.Equal(out, blocks[i]) {
						t.Fatalf("round %d block %d: wrong output", round, i)
					}
					if name != "null" {
						buf = out
					}
				}
			}
		})
	}
}

// TestAllocs guards the hot path: with a buffer passed back in, the codecs whose
// decoders can be reset allocate nothing per block.
func TestAllocs(t *testing.T) {
	src := mixedData(256<<10, 5)
	for _, name := range []string{"null", "deflate", "snappy", "zstandard"} {
		c := mustCompress(t, name, src)
		d := mustNew(t, name)
		buf, err := d.Decompress(nil, c, -1)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			buf, err = d.Decompress(buf, c, 1<<30)
		})
		if err != nil {
			t.Fatal(err)
		}
		if allocs > 0 {
			t.Errorf("%s: %v allocations per block, want 0", name, allocs)
		}
	}
}

func TestTruncated(t *testing.T) {
	src := mixedData(200_000, 11)
	for _, name := range compressed {
		c := mustCompress(t, name, src)
		d := mustNew(t, name)
		for _, n := range []int{0, 1, 2, 3, 4, 10, len(c) / 3, len(c) / 2, len(c) - 5, len(c) - 4, len(c) - 1} {
			out, err := d.Decompress(nil, c[:n], -1)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: truncated to %d of %d bytes: got %d bytes, err %v; want ErrCorrupt", name, n, len(c), len(out), err)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s: error %v wraps io.ErrUnexpectedEOF, which callers read as a short file", name, err)
			}
		}
	}
}

func TestTrailingGarbage(t *testing.T) {
	src := mixedData(5000, 12)
	// Deflate ignores bytes after its final block, as inflaters do.
	for _, name := range []string{"bzip2", "xz", "zstandard"} {
		c := append(mustCompress(t, name, src), "garbage!"...)
		if _, err := mustNew(t, name).Decompress(nil, c, -1); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: trailing garbage gave %v, want ErrCorrupt", name, err)
		}
	}
}

// TestBitFlips flips single bits. Every codec but deflate checks its output, so
// a flip is either caught or harmless; deflate must at least fail cleanly.
func TestBitFlips(t *testing.T) {
	src := mixedData(20_000, 13)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range compressed {
		c := mustCompress(t, name, src)
		d := mustNew(t, name)
		caught := 0
		const flips = 300
		for range flips {
			bad := bytes.Clone(c)
			i := rng.IntN(len(bad))
			bad[i] ^= 1 << rng.IntN(8)
			out, err := d.Decompress(nil, bad, 1<<20)
			switch {
			case err == nil:
				if name != "deflate" && !bytes.Equal(out, src) {
					t.Errorf("%s: flip in byte %d went undetected", name, i)
				}
			case errors.Is(err, ErrCorrupt):
				caught++
			case errors.Is(err, ErrTooLarge):
				// A flipped length can claim more than the limit.
			default:
				t.Errorf("%s: flip gave error %v that is neither ErrCorrupt nor ErrTooLarge", name, err)
			}
		}
		if name != "deflate" && caught < flips/2 {
			t.Errorf("%s: only %d of %d flips reported corrupt", name, caught, flips)
		}
	}
}

func TestSnappyCRC(t *testing.T) {
	src := []byte("some data for snappy")
	c := mustCompress(t, "snappy", src)
	c[len(c)-1] ^= 0xff
	_, err := mustNew(t, "snappy").Decompress(nil, c, -1)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "CRC mismatch") {
		t.Fatalf("bad CRC gave %v", err)
	}
	// The CRC covers the uncompressed data, not the compressed bytes.
	want := crc32.ChecksumIEEE(src)
	if got := binary.BigEndian.Uint32(mustCompress(t, "snappy", src)[len(c)-4:]); got != want {
		t.Fatalf("snappy trailer = %#x, want CRC of the uncompressed data %#x", got, want)
	}
}

func TestLimit(t *testing.T) {
	src := mixedData(300_000, 21)
	n := int64(len(src))
	for _, name := range Names() {
		c := mustCompress(t, name, src)
		d := mustNew(t, name)
		for _, limit := range []int64{0, 1, 1000, n - 1} {
			out, err := d.Decompress(nil, c, limit)
			if !errors.Is(err, ErrTooLarge) || len(out) != 0 {
				t.Errorf("%s: limit %d: got %d bytes, err %v; want ErrTooLarge", name, limit, len(out), err)
			}
		}
		for _, limit := range []int64{n, n + 1, -1} {
			out, err := d.Decompress(nil, c, limit)
			if err != nil || !bytes.Equal(out, src) {
				t.Errorf("%s: limit %d: %v", name, limit, err)
			}
		}
	}
}

// TestBombs checks that a small block that expands enormously is refused without
// allocating much more than the limit.
func TestBombs(t *testing.T) {
	const size = 64 << 20
	const limit = 1 << 20
	zeros := make([]byte, size)
	bombs := map[string][]byte{
		"zstandard/streamed": zstdStreamed(t, zeros), // no content size in the frame
		"zstandard/huge-fcs": zstdHugeFCS(t),
		// Many frames, each within the limit: DecodeAll checks its limit frame
		// by frame, so these must be streamed or refused from their headers.
		"zstandard/frames":       bytes.Repeat(zstdStreamed(t, zeros[:1<<20]), 64),
		"zstandard/sized-frames": bytes.Repeat(mustCompress(t, "zstandard", zeros[:1<<20]), 64),
		"snappy/huge-length":     {0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0},
	}
	for _, name := range compressed {
		if name == "xz" {
			// The pure-Go xz encoder is slow; a smaller bomb makes the same point.
			bombs[name] = mustCompress(t, name, zeros[:16<<20])
			continue
		}
		bombs[name] = mustCompress(t, name, zeros)
	}
	for name, bomb := range bombs {
		codec, _, _ := strings.Cut(name, "/")
		d := mustNew(t, codec)
		var err error
		alloc := measureAlloc(func() { _, err = d.Decompress(nil, bomb, limit) })
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %d-byte bomb gave %v, want ErrTooLarge", name, len(bomb), err)
		}
		max := uint64(4*limit + 1<<20)
		switch name {
		case "zstandard/streamed", "zstandard/frames":
			// With no content size to refuse up front, zstandard decodes up to
			// its 8 MiB floor, growing the buffer as it goes, before it stops.
			max = 6 * zstdMinMemory
		}
		if alloc > max {
			t.Errorf("%s: allocated %d bytes for a %d-byte limit", name, alloc, limit)
		}
	}
}

func measureAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// zstdStreamed compresses with the streaming encoder, which does not know the
// content size and so leaves it out of the frame header.
func zstdStreamed(t testing.TB, src []byte) []byte {
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	// Flushing before the last write makes the encoder write the frame header
	// before it knows the size.
	half := len(src) / 2
	if _, err := w.Write(src[:half]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(src[half:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if h := zstdHeader(t, b.Bytes()); h.HasFCS {
		t.Fatal("streamed zstd frame has a content size")
	}
	return b.Bytes()
}

func zstdHeader(t testing.TB, frame []byte) zstd.Header {
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		t.Fatal(err)
	}
	return h
}

// zstdHugeFCS is a frame that declares 1 TiB of content but holds 4 bytes.
func zstdHugeFCS(t testing.TB) []byte { return zstdFrameFCS(t, 1<<40) }

// zstdFrameFCS is a frame that declares fcs bytes of content and holds one raw
// block of 4 bytes.
func zstdFrameFCS(t testing.TB, fcs uint64) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0} // magic; descriptor: 8-byte FCS, single segment
	b = binary.LittleEndian.AppendUint64(b, fcs)
	b = append(b, 0x21, 0, 0, 'a', 'b', 'c', 'd') // last raw block of 4 bytes
	if h := zstdHeader(t, b); !h.HasFCS || h.FrameContentSize != fcs {
		t.Fatalf("crafted header decodes as %+v", h)
	}
	return b
}

func TestZstdMultiFrame(t *testing.T) {
	a, b := mixedData(70_000, 31), mixedData(90_000, 32)
	c := append(mustCompress(t, "zstandard", a), zstdStreamed(t, b)...)
	d := mustNew(t, "zstandard")
	out, err := d.Decompress(nil, c, -1)
	if err != nil || !bytes.Equal(out, append(bytes.Clone(a), b...)) {
		t.Fatalf("two frames: %v", err)
	}
	if _, err := d.Decompress(nil, c, int64(len(a)+len(b)-1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("two frames over the limit: %v", err)
	}
	// Even with no limit the decoder refuses to set up a 1 TiB window.
	if _, err := d.Decompress(nil, zstdHugeFCS(t), -1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("frame declaring 1 TiB, no limit: %v", err)
	}
	for _, fcs := range []uint64{3, 5, 100} {
		if _, err := d.Decompress(nil, zstdFrameFCS(t, fcs), -1); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("frame of 4 bytes declaring %d: %v", fcs, err)
		}
	}
	if out, err := d.Decompress(nil, zstdFrameFCS(t, 4), -1); err != nil || string(out) != "abcd" {
		t.Fatalf("crafted frame: %q, %v", out, err)
	}
}

// xzHugeDictionary compresses src with xz and patches the block header to ask
// for a 4 GiB dictionary.
func xzHugeDictionary(t testing.TB, src []byte) []byte {
	c := mustCompress(t, "xz", src)
	h := c[xzHeaderLen:]
	headerLen := (int(h[0]) + 1) * 4
	// Without optional sizes the filter flags start at byte 2: id, size, dictionary.
	if h[1] != 0 || h[2] != xzFilterLZMA2 || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h[:headerLen])
	}
	h[4] = 40 // 4 GiB - 1
	binary.LittleEndian.PutUint32(h[headerLen-4:], crc32.ChecksumIEEE(h[:headerLen-4]))
	return c
}

// TestXZHugeDictionary: a block asking for a 4 GiB dictionary must still decode,
// with a dictionary no larger than its output.
func TestXZHugeDictionary(t *testing.T) {
	src := mixedData(100_000, 41)
	c := xzHugeDictionary(t, src)
	d := mustNew(t, "xz")
	var out []byte
	var err error
	alloc := measureAlloc(func() { out, err = d.Decompress(nil, c, 1<<20) })
	if err != nil || !bytes.Equal(out, src) {
		t.Fatalf("Decompress: %v", err)
	}
	if alloc > uint64(3*len(src)+1<<20) {
		t.Errorf("allocated %d bytes for %d bytes of output", alloc, len(src))
	}
}

// TestXZManyStreams decodes a block of a thousand tiny xz streams, each asking
// for a 4 GiB dictionary: a few KiB of input once cost a dictionary allocation
// of megabytes per stream, and so seconds and gigabytes per block.
func TestXZManyStreams(t *testing.T) {
	one := xzHugeDictionary(t, []byte{0})
	c := bytes.Repeat(one, 1000)
	d := mustNew(t, "xz")
	var out []byte
	var err error
	start := time.Now()
	alloc := measureAlloc(func() { out, err = d.Decompress(nil, c, 512<<20) })
	elapsed := time.Since(start)
	if err != nil || !bytes.Equal(out, make([]byte, 1000)) {
		t.Fatalf("Decompress: %d bytes, %v", len(out), err)
	}
	if alloc > 64<<20 || elapsed > 2*time.Second {
		t.Errorf("%d streams of %d bytes: allocated %d bytes in %v", 1000, len(one), alloc, elapsed)
	}
}

// TestXZSizeBeforeDecoding: an xz bomb is refused from its chunk headers, before
// anything is decoded or allocated for its output.
func TestXZSizeBeforeDecoding(t *testing.T) {
	c := mustCompress(t, "xz", make([]byte, 16<<20))
	d := mustNew(t, "xz")
	var err error
	alloc := measureAlloc(func() { _, err = d.Decompress(nil, c, 1<<20) })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if alloc > 64<<10 {
		t.Errorf("allocated %d bytes to refuse a bomb", alloc)
	}
}

func TestZstdBounds(t *testing.T) {
	sized := mustCompress(t, "zstandard", mixedData(300_000, 7))
	streamed := zstdStreamed(t, mixedData(300_000, 7))
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	// A frame of one raw block of 5 bytes and one RLE block of 1000, no size.
	handmade := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58,
		5 << 3, 0, 0, 'h', 'e', 'l', 'l', 'o',
		1 | 1<<1 | (1000<<3)&0xff, (1000 << 3) >> 8, 0, 'x'}
	const unbounded = 1<<63 - 1
	// most must bound the output without being loose: within a block or two
	// of it for compressed frames.
	cases := []struct {
		name     string
		in       []byte
		exact    int64
		mostFrom int64
		mostUpTo int64
	}{
		{"sized", sized, 300_000, 300_000, 300_000 + zstdBlockMax},
		{"streamed", streamed, 0, 300_000, 300_000 + 2*zstdBlockMax},
		{"skippable then sized", append(bytes.Clone(skippable), sized...), 300_000, 300_000, 300_000 + zstdBlockMax},
		{"raw and RLE", handmade, 0, 1005, 1005},
		{"two frames", append(bytes.Clone(sized), handmade...), 300_000, 301_005, 301_005 + zstdBlockMax},
		{"truncated", sized[:len(sized)/2], 0, unbounded, unbounded},
		{"garbage", []byte("not a zstandard frame"), 0, unbounded, unbounded},
	}
	for _, c := range cases {
		exact, most := zstdBounds(c.in)
		if exact != c.exact || most < c.mostFrom || most > c.mostUpTo {
			t.Errorf("%s: bounds %d, %d; want %d, [%d, %d]", c.name, exact, most, c.exact, c.mostFrom, c.mostUpTo)
		}
	}
	if out, err := mustNew(t, "zstandard").Decompress(nil, handmade, -1); err != nil || string(out) != "hello"+strings.Repeat("x", 1000) {
		t.Errorf("handmade frame: %q, %v", out, err)
	}
}

func TestLZMA2Size(t *testing.T) {
	stored := []byte{0x01, 0x00, 0x02, 'a', 'b', 'c'} // 3 bytes, dictionary reset
	lzmaHead := []byte{0xe1, 0x23, 0x44, 0x00, 0x01, 0x5d, 0xaa, 0xbb}
	cases := []struct {
		name     string
		in       []byte
		packed   int
		unpacked int64
		bad      bool
	}{
		{"end only", []byte{0x00}, 1, 0, false},
		{"stored", append(bytes.Clone(stored), 0x00, 0xff), 7, 3, false},
		// 0xe1: LZMA chunk with new properties, unpacked 0x12344+1, packed 2.
		{"lzma", append(bytes.Clone(lzmaHead), 0x00), 9, 0x12345, false},
		{"no end marker", stored, 0, 0, true},
		{"empty", nil, 0, 0, true},
		{"bad control", []byte{0x03, 0x00}, 0, 0, true},
		{"truncated stored header", []byte{0x01, 0x00}, 0, 0, true},
		{"truncated lzma header", lzmaHead[:5], 0, 0, true},
		{"body past the end", []byte{0x02, 0xff, 0xff, 0x00}, 0, 0, true},
	}
	for _, c := range cases {
		packed, unpacked, err := lzma2Size(c.in)
		switch {
		case c.bad && !errors.Is(err, ErrCorrupt):
			t.Errorf("%s: got %d, %d, %v; want ErrCorrupt", c.name, packed, unpacked, err)
		case !c.bad && (err != nil || packed != c.packed || unpacked != c.unpacked):
			t.Errorf("%s: got %d, %d, %v; want %d, %d", c.name, packed, unpacked, err, c.packed, c.unpacked)
		}
	}
}

// TestInterop decodes files written by the reference command-line tools (see
// testdata/interop/gen.sh), covering what Compress never produces: xz check types,
// multiple blocks and streams, zstd frames without a content size, bzip2 streams
// written by bzip2 itself.
func TestInterop(t *testing.T) {
	dir := filepath.Join("testdata", "interop")
	want, err := os.ReadFile(filepath.Join(dir, "plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "plain.txt.*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	codecFor := map[string]string{".deflate": "deflate", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstandard"}
	for _, f := range files {
		codec := codecFor[filepath.Ext(f)]
		if codec == "" {
			t.Fatalf("%s: unknown extension", f)
		}
		c, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wantOut := want
		if strings.Contains(f, ".twice.") {
			wantOut = append(bytes.Clone(want), want...)
		}
		out, err := mustNew(t, codec).Decompress(nil, c, int64(len(wantOut)))
		if err != nil || !bytes.Equal(out, wantOut) {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		if _, err := mustNew(t, codec).Decompress(nil, c, int64(len(wantOut)-1)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: limit one short gave %v", filepath.Base(f), err)
		}
	}
}

// TestAvroFiles decodes the first block of the Apache Avro interop files and
// compares it with the same block of the uncompressed file.
func TestAvroFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "apache-avro")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("Avro test files not available: %v", err)
	}
	codec, want := firstAvroBlock(t, filepath.Join(dir, "weather.avro"))
	if codec != "null" {
		t.Fatalf("weather.avro has codec %q", codec)
	}
	for file, wantCodec := range map[string]string{
		"weather-deflate.avro": "deflate",
		"weather-snappy.avro":  "snappy",
		"weather-zstd.avro":    "zstandard",
	} {
		codec, block := firstAvroBlock(t, filepath.Join(dir, file))
		if canonical(codec) != wantCodec {
			t.Errorf("%s: codec %q, want %q", file, codec, wantCodec)
			continue
		}
		out, err := mustNew(t, codec).Decompress(nil, block, 1<<20)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s: first block decompressed to %d bytes that differ from weather.avro's %d", file, len(out), len(want))
		}
	}
}

// firstAvroBlock returns the codec and the raw data of the first block of an Avro
// object container file.
func firstAvroBlock(t *testing.T, path string) (codec string, block []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("Obj\x01")) {
		t.Fatalf("%s: not an Avro container file", path)
	}
	b = b[4:]
	long := func() int64 {
		v, n := binary.Varint(b) // Avro longs are zigzag varints, as Go's Varint
		if n <= 0 {
			t.Fatalf("%s: bad varint", path)
		}
		b = b[n:]
		return v
	}
	bytesField := func() []byte {
		n := long()
		if n < 0 || n > int64(len(b)) {
			t.Fatalf("%s: bad length %d", path, n)
		}
		v := b[:n]
		b = b[n:]
		return v
	}
	meta := map[string][]byte{}
	for {
		count := long()
		if count == 0 {
			break
		}
		if count < 0 {
			count = -count
			long() // the byte size of the entries that follow
		}
		for range count {
			k := bytesField()
			meta[string(k)] = bytesField()
		}
	}
	b = b[16:] // sync marker
	long()     // record count
	return string(meta["avro.codec"]), bytesField()
}

// fuzzShared are long-lived Decompressors, so that fuzzing also finds state that
// leaks from one input to the next.
var fuzzShared struct {
	sync.Mutex
	decs map[string]Decompressor
	buf  []byte
}

func FuzzDecompress(f *testing.F) {
	names := Names()
	for i, name := range names {
		for _, src := range [][]byte{nil, []byte("a"), mixedData(3000, uint64(i))} {
			c := mustCompress(f, name, src)
			f.Add(uint8(i), c)
		}
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		name := names[int(codec)%len(names)]
		out, err := mustNew(t, name).Decompress(nil, data, limit)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: error %v is neither ErrCorrupt nor ErrTooLarge", name, err)
			}
			if len(out) != 0 {
				t.Fatalf("%s: %d bytes returned with error %v", name, len(out), err)
			}
		}
		if len(out) > limit {
			t.Fatalf("%s: %d bytes over a limit of %d", name, len(out), limit)
		}

		// A Decompressor that has seen other inputs, given a dirty buffer, must
		// agree with a fresh one.
		fuzzShared.Lock()
		defer fuzzShared.Unlock()
		if fuzzShared.decs == nil {
			fuzzShared.decs = map[string]Decompressor{}
		}
		d := fuzzShared.decs[name]
		if d == nil {
			d = mustNew(t, name)
			fuzzShared.decs[name] = d
		}
		buf := fuzzShared.buf[:cap(fuzzShared.buf)]
		for i := range buf {
			buf[i] = 0xa5
		}
		out2, err2 := d.Decompress(buf, data, limit)
		if (err == nil) != (err2 == nil) || !bytes.Equal(out, out2) {
			t.Fatalf("%s: reused Decompressor gave %d bytes, %v; fresh one %d bytes, %v", name, len(out2), err2, len(out), err)
		}
		if name != "null" && cap(out2) > cap(fuzzShared.buf) {
			fuzzShared.buf = out2[:0]
		}

		// Whatever decoded within the limit must be refused by a limit one
		// byte short of its size.
		if err == nil && len(out) > 0 {
			if _, err := d.Decompress(nil, data, int64(len(out)-1)); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: %d bytes with a limit of %d gave %v", name, len(out), len(out)-1, err)
			}
		}
	})
}

func BenchmarkDecompress(b *testing.B) {
	src := mixedData(1<<20, 99)
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			c := mustCompress(b, name, src)
			d := mustNew(b, name)
			buf, err := d.Decompress(nil, c, -1)
			if err != nil {
				b.Fatal(err)
			}
			if name == "null" {
				buf = nil
			}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := d.Decompress(buf, c, 1<<30)
				if err != nil {
					b.Fatal(err)
				}
				if name != "null" {
					buf = out
				}
			}
			b.ReportMetric(float64(len(c))/float64(len(src)), "ratio")
		})
	}
}

// TestXZLimitBelowDictionary decodes with a limit smaller than both the block and
// the distance of its matches, so that the dictionary, capped for the limit, is too
// short for them: the block is too large, not corrupt.
func TestXZLimitBelowDictionary(t *testing.T) {
	r := randomBytes(64<<10, 51)
	a := append(bytes.Clone(r), make([]byte, 9<<20)...)
	src := append(bytes.Clone(a), r...) // matches from 9 MiB back
	// A 64 MiB dictionary, as xz -9 uses, which the limits below cap.
	var b bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 64 << 20}.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c := b.Bytes()
	d := mustNew(t, "xz")
	n := int64(len(a))
	for _, limit := range []int64{5000, 8 << 20, n - 300_000, n - 70_000, n - 5000, n - 300, n - 2, n - 1, n, int64(len(src)) - 1} {
		if _, err := d.Decompress(nil, c, limit); !errors.Is(err, ErrTooLarge) {
			t.Errorf("limit %d: %v, want ErrTooLarge", limit, err)
		}
	}
	if out, err := d.Decompress(nil, c, int64(len(src))); err != nil || !bytes.Equal(out, src) {
		t.Errorf("limit %d: %v", len(src), err)
	}
}
