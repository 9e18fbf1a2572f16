package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/source"
)

const longSchema = `{"type":"record","name":"r","fields":[{"name":"x","type":"long"}]}`

// mapped makes open read from a local file, mapped into memory (a
// source.Viewer), instead of from memory through ReadAt: see TestMappedFiles.
var mapped bool

// open reads data's header. MaxBlockSize 0 would refuse every block, so tests that
// leave it unset get no cap.
func open(t testing.TB, data []byte, opts Options) (*Reader, error) {
	t.Helper()
	if opts.MaxBlockSize == 0 {
		opts.MaxBlockSize = -1
	}
	if !mapped {
		return NewReader(context.Background(), avrotest.NewSource(data), opts)
	}
	p := filepath.Join(t.TempDir(), "f.avro")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := source.OpenLocal(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if _, ok := src.(source.Viewer); !ok && len(data) > 0 {
		t.Fatalf("%T: the file is not mapped", src)
	}
	return NewReader(context.Background(), src, opts)
}

// From a mapped file the reader frames the same blocks and fails the same way,
// handing out views of the file rather than copies.
func TestMappedFiles(t *testing.T) {
	mapped = true
	defer func() { mapped = false }()
	for name, test := range map[string]func(*testing.T){
		"Header": TestHeader, "HeaderErrors": TestHeaderErrors, "Blocks": TestBlocks, "EmptyFile": TestEmptyFile,
		"TruncatedEverywhere": TestTruncatedEverywhere, "SyncMismatchAndResync": TestSyncMismatchAndResync,
		"ResyncDamagedMarkers": TestResyncDamagedMarkers,
		"ResyncAfterBadHeader": TestResyncAfterBadHeader, "CorruptBlockHeader": TestCorruptBlockHeader,
		"MaxBlockSizeBoundary": TestMaxBlockSizeBoundary, "ResyncMarkerStraddlesChunks": TestResyncMarkerStraddlesChunks,
	} {
		t.Run(name, test)
	}
	t.Run("Views", func(t *testing.T) {
		f, _ := manyBlocks(t, "null")
		rd := mustOpen(t, f.Bytes, Options{ChunkSize: 64})
		buf := make([]byte, 0, 8)
		for i := 0; i < 5; i++ {
			b, nb, err := rd.Next(buf)
			if err != nil {
				t.Fatal(err)
			}
			if len(nb) != 0 || cap(nb) != 8 {
				t.Fatalf("block %d was copied into the buffer (len %d)", i, len(nb))
			}
			p := f.Blocks[i]
			if !bytes.Equal(b.Data, f.Bytes[p.DataOffset:p.DataOffset+p.DataLen]) {
				t.Fatalf("block %d data differs", i)
			}
		}
	})
}

func mustOpen(t testing.TB, data []byte, opts Options) *Reader {
	t.Helper()
	rd, err := open(t, data, opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return rd
}

// wantKind fails unless err is a *jerr.Error of kind k.
func wantKind(t testing.TB, err error, k jerr.Kind) *jerr.Error {
	t.Helper()
	var e *jerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want a *jerr.Error of kind %s", err, err, k)
	}
	if e.Kind != k {
		t.Fatalf("got kind %s (%v), want %s", e.Kind, err, k)
	}
	return e
}

// readAll frames every block, failing on any error.
func readAll(t testing.TB, rd *Reader) []Block {
	t.Helper()
	var out []Block
	var buf []byte
	for {
		b, nb, err := rd.Next(buf[:0])
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d blocks: %v", len(out), err)
		}
		b.Data = bytes.Clone(b.Data)
		out = append(out, b)
		buf = nb
	}
}

// manyBlocks is a file with small blocks around one large one, so that small chunk
// sizes cross boundaries everywhere and large blocks take the direct-read path.
func manyBlocks(t testing.TB, codec string) (*avrotest.Built, []avrotest.Block) {
	var blocks []avrotest.Block
	for i := int64(0); i < 40; i++ {
		n := i%7 + 1
		if i == 17 {
			n = 30_000 // ~90 KB: bigger than most chunk sizes
		}
		blocks = append(blocks, avrotest.Longs(i*1000, n))
	}
	return avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Codec: codec, Blocks: blocks}), blocks
}

func TestHeader(t *testing.T) {
	for _, negative := range []bool{false, true} {
		t.Run(fmt.Sprintf("negativeCount=%v", negative), func(t *testing.T) {
			sync := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
			f := avrotest.MustBuild(t, avrotest.File{
				Schema: longSchema, Codec: "deflate", Sync: sync,
				Meta:              map[string]string{"user.key": "value", "empty": ""},
				MetaNegativeCount: negative,
			})
			rd := mustOpen(t, f.Bytes, Options{})
			h := rd.Header
			if string(h.Schema) != longSchema {
				t.Errorf("Schema = %q", h.Schema)
			}
			if h.Codec != "deflate" {
				t.Errorf("Codec = %q", h.Codec)
			}
			if h.Sync != sync {
				t.Errorf("Sync = %x", h.Sync)
			}
			if h.Size != int64(f.HeaderSize) || rd.Offset() != int64(f.HeaderSize) {
				t.Errorf("Size = %d, Offset = %d, want %d", h.Size, rd.Offset(), f.HeaderSize)
			}
			if got := string(h.Meta["user.key"]); got != "value" {
				t.Errorf("Meta[user.key] = %q", got)
			}
			if v, ok := h.Meta["empty"]; !ok || len(v) != 0 {
				t.Errorf("Meta[empty] = %q, %v", v, ok)
			}
			if len(h.Meta) != 4 {
				t.Errorf("Meta has %d entries, want 4: %v", len(h.Meta), h.Meta)
			}
		})
	}
}

func TestHeaderNoCodec(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema})
	rd := mustOpen(t, f.Bytes, Options{})
	if rd.Header.Codec != "" {
		t.Errorf("Codec = %q, want \"\"", rd.Header.Codec)
	}
}

func TestHeaderErrors(t *testing.T) {
	good := avrotest.MustBuild(t, avrotest.File{Schema: longSchema}).Bytes
	noSchema := append([]byte("Obj\x01"), avrotest.Encode(nil, 1, "avro.codec", []byte("null"), 0)...)
	noSchema = append(noSchema, avrotest.DefaultSync[:]...)
	hugeEntry := append([]byte("Obj\x01"), avrotest.Encode(nil, 1, int64(1)<<40)...)
	negEntry := append([]byte("Obj\x01"), avrotest.Encode(nil, 1, -5)...)
	longVarint := append([]byte("Obj\x01"), bytes.Repeat([]byte{0xff}, 11)...)
	cases := map[string]struct {
		data    []byte
		variant string
	}{
		"empty":          {nil, jerr.InvalidMagic},
		"short magic":    {[]byte("Ob"), jerr.InvalidMagic},
		"bad magic":      {append([]byte("Obj\x02"), good[4:]...), jerr.InvalidMagic},
		"json":           {[]byte(`{"type":"record"}`), jerr.InvalidMagic},
		"no schema":      {noSchema, jerr.InvalidHeader},
		"huge entry":     {hugeEntry, jerr.InvalidHeader},
		"negative entry": {negEntry, jerr.InvalidHeader},
		"long varint":    {longVarint, jerr.InvalidHeader},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := open(t, c.data, Options{})
			e := wantKind(t, err, jerr.Parse)
			if want := "mem.avro"; mapped && filepath.Base(e.Path) != "f.avro" || !mapped && e.Path != want {
				t.Errorf("Path = %q", e.Path)
			}
			if e.VariantName() != c.variant {
				t.Errorf("variant %q, want %q", e.VariantName(), c.variant)
			}
			// The magic is at offset 0; the header's other faults have no one offset.
			if wantOffset := map[bool]int64{true: 0, false: -1}[c.variant == jerr.InvalidMagic]; e.Offset != wantOffset {
				t.Errorf("offset %d, want %d", e.Offset, wantOffset)
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	for _, codec := range []string{"null", "deflate", "snappy"} {
		f, blocks := manyBlocks(t, codec)
		for _, chunk := range []int{1, 3, 16, 17, 100, 4096, 1 << 20} {
			t.Run(fmt.Sprintf("%s/chunk=%d", codec, chunk), func(t *testing.T) {
				rd := mustOpen(t, f.Bytes, Options{ChunkSize: chunk, MaxBlockSize: -1})
				got := readAll(t, rd)
				if len(got) != len(blocks) {
					t.Fatalf("got %d blocks, want %d", len(got), len(blocks))
				}
				for i, b := range got {
					pos := f.Blocks[i]
					want := f.Bytes[pos.DataOffset : pos.DataOffset+pos.DataLen]
					if b.Index != int64(i) || b.Offset != int64(pos.Offset) || b.Count != blocks[i].Count || !bytes.Equal(b.Data, want) {
						t.Fatalf("block %d: index %d offset %d count %d len %d; want offset %d count %d len %d",
							i, b.Index, b.Offset, b.Count, len(b.Data), pos.Offset, blocks[i].Count, len(want))
					}
				}
				if rd.Offset() != int64(len(f.Bytes)) {
					t.Errorf("Offset at end = %d, want %d", rd.Offset(), len(f.Bytes))
				}
				// EOF is sticky.
				if _, _, err := rd.Next(nil); !errors.Is(err, io.EOF) {
					t.Errorf("second Next at end: %v", err)
				}
			})
		}
	}
}

// Next appends to the buffer it is given, so a caller can batch blocks back to back.
func TestNextAppends(t *testing.T) {
	f, _ := manyBlocks(t, "null")
	rd := mustOpen(t, f.Bytes, Options{ChunkSize: 64})
	var buf []byte
	var blocks []Block
	for i := 0; i < 5; i++ {
		b, nb, err := rd.Next(buf)
		if err != nil {
			t.Fatal(err)
		}
		buf = nb
		blocks = append(blocks, b)
	}
	var want []byte
	for i := 0; i < 5; i++ {
		p := f.Blocks[i]
		want = append(want, f.Bytes[p.DataOffset:p.DataOffset+p.DataLen]...)
	}
	if !bytes.Equal(buf, want) {
		t.Fatalf("buffer holds %d bytes, want the 5 blocks' %d bytes", len(buf), len(want))
	}
	last := blocks[4]
	if &last.Data[0] != &buf[len(buf)-len(last.Data)] {
		t.Error("the last block's Data does not alias the returned buffer")
	}
}

func TestEmptyFile(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Codec: "snappy"})
	rd := mustOpen(t, f.Bytes, Options{})
	b, _, err := rd.Next(nil)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next on a header-only file: %v", err)
	}
	if b.Index != 0 || b.Offset != int64(f.HeaderSize) {
		t.Errorf("EOF block = %+v", b)
	}
}

// Truncating a file anywhere gives a Parse error at the first incomplete part, after
// every complete block, and never a panic.
func TestTruncatedEverywhere(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Codec: "deflate", Blocks: []avrotest.Block{
		avrotest.Longs(0, 3), avrotest.Longs(100, 200), avrotest.Longs(-5, 1),
	}})
	for n := 0; n < len(f.Bytes); n++ {
		for _, chunk := range []int{5, 1 << 20} {
			data := avrotest.Truncate(f.Bytes, n)
			rd, err := open(t, data, Options{ChunkSize: chunk})
			if n < f.HeaderSize {
				if err == nil {
					t.Fatalf("n=%d: header truncated but NewReader succeeded", n)
				}
				wantKind(t, err, jerr.Parse)
				continue
			}
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			complete := 0
			for _, p := range f.Blocks {
				if p.End <= n {
					complete++
				}
			}
			for i := 0; i < complete; i++ {
				if _, _, err := rd.Next(nil); err != nil {
					t.Fatalf("n=%d chunk=%d: block %d: %v", n, chunk, i, err)
				}
			}
			_, _, err = rd.Next(nil)
			atBoundary := n == f.HeaderSize || (complete > 0 && f.Blocks[complete-1].End == n)
			if atBoundary {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("n=%d: at a block boundary, got %v, want io.EOF", n, err)
				}
				continue
			}
			e := wantKind(t, err, jerr.Parse)
			if e.Block != int64(complete) || e.Offset != int64(f.Blocks[complete].Offset) {
				t.Fatalf("n=%d: error at block %d offset %d, want block %d offset %d (%v)",
					n, e.Block, e.Offset, complete, f.Blocks[complete].Offset, err)
			}
		}
	}
}

func TestSyncMismatchAndResync(t *testing.T) {
	f, blocks := manyBlocks(t, "null")
	for _, bad := range []int{0, 16, 17, 39} {
		for _, chunk := range []int{7, 1 << 20} {
			t.Run(fmt.Sprintf("block=%d/chunk=%d", bad, chunk), func(t *testing.T) {
				rd := mustOpen(t, f.BreakSync(bad), Options{ChunkSize: chunk})
				for i := 0; i < bad; i++ {
					if _, _, err := rd.Next(nil); err != nil {
						t.Fatal(err)
					}
				}
				b, _, err := rd.Next(nil)
				e := wantKind(t, err, jerr.Parse)
				if e.Block != int64(bad) || e.Offset != int64(f.Blocks[bad].Offset) {
					t.Fatalf("error at block %d offset %d, want %d, %d", e.Block, e.Offset, bad, f.Blocks[bad].Offset)
				}
				if e.Variant != jerr.InvalidSyncMarker {
					t.Errorf("variant %q", e.Variant)
				}
				skip, err := rd.Resync(b.Offset)
				// Exactly the block with the damaged marker is dropped.
				want := Skip{From: int64(f.Blocks[bad].Offset), To: int64(f.Blocks[bad].End), Resume: ResumeExpected, Records: blocks[bad].Count}
				if bad == len(blocks)-1 {
					want.Resume, want.Records = ResumeEnd, -1
					if !errors.Is(err, io.EOF) {
						t.Fatalf("Resync after the last block: %v", err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if skip != want {
					t.Errorf("skip %+v, want %+v", skip, want)
				}
				rest := readAll(t, rd)
				if len(rest) != len(blocks)-bad-1 {
					t.Fatalf("after Resync: %d blocks, want %d", len(rest), len(blocks)-bad-1)
				}
				for i, b := range rest {
					j := bad + 1 + i
					if b.Index != int64(j) || b.Offset != int64(f.Blocks[j].Offset) || b.Count != blocks[j].Count {
						t.Fatalf("block after Resync: %+v, want index %d at %d", b, j, f.Blocks[j].Offset)
					}
				}
			})
		}
	}
}

// Every way the marker after a block can be bad: Resync drops that block and
// only what cannot be framed after it, and the skip covers exactly the dropped
// bytes. (Block 5 of 10 is damaged; blocks hold 10 records each.)
func TestResyncDamagedMarkers(t *testing.T) {
	var blocks []avrotest.Block
	for i := int64(0); i < 10; i++ {
		blocks = append(blocks, avrotest.Longs(i*10, 10))
	}
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Blocks: blocks})
	const bad = 5
	pos := f.Blocks
	zero := func(data []byte, from, to int) []byte {
		data = bytes.Clone(data)
		clear(data[from:to])
		return data
	}
	type want struct {
		skips []Skip // one per failed block, in order
		read  []int  // the blocks framed
	}
	upTo := func(n int) []int {
		var out []int
		for i := 0; i < n; i++ {
			out = append(out, i)
		}
		return out
	}
	all := func(except ...int) []int {
		var out []int
		for i := range blocks {
			if !bytes.Contains([]byte(fmt.Sprint(except)), []byte(fmt.Sprint(i))) {
				out = append(out, i)
			}
		}
		return out
	}
	only := Skip{From: int64(pos[bad].Offset), To: int64(pos[bad].End), Resume: ResumeExpected, Records: 10}
	cases := map[string]struct {
		data []byte
		want want
	}{
		"zeroed":       {zero(f.Bytes, pos[bad].SyncOffset, pos[bad].End), want{[]Skip{only}, all(bad)}},
		"first byte":   {avrotest.FlipByte(f.Bytes, pos[bad].SyncOffset), want{[]Skip{only}, all(bad)}},
		"last byte":    {avrotest.FlipByte(f.Bytes, pos[bad].End-1), want{[]Skip{only}, all(bad)}},
		"shifted left": {append(bytes.Clone(f.Bytes[:pos[bad].SyncOffset]), f.Bytes[pos[bad].SyncOffset+1:]...), want{}},
		// The next block's header is damaged too: it cannot be framed, so the
		// skip runs to the next good marker, the one after it.
		"next header too": {
			negCount(zero(f.Bytes, pos[bad].SyncOffset, pos[bad].End), pos[bad+1].Offset),
			want{[]Skip{{From: int64(pos[bad].Offset), To: int64(pos[bad+1].End), Resume: ResumeMarker, Records: -1}}, all(bad, bad+1)},
		},
		// A zeroed page over the end of the data and the marker: still only the
		// block itself.
		"zeroed tail": {zero(f.Bytes, pos[bad].End-20, pos[bad].End), want{[]Skip{only}, all(bad)}},
		// Cut inside the marker, or right after it: the block cannot be checked.
		"cut in marker": {avrotest.Truncate(f.Bytes, pos[bad].SyncOffset+8),
			want{[]Skip{{From: int64(pos[bad].Offset), To: int64(pos[bad].SyncOffset + 8), Resume: ResumeEnd, Records: -1}}, upTo(bad)}},
		"cut after bad marker": {avrotest.Truncate(zero(f.Bytes, pos[bad].SyncOffset, pos[bad].End), pos[bad].End),
			want{[]Skip{{From: int64(pos[bad].Offset), To: int64(pos[bad].End), Resume: ResumeEnd, Records: -1}}, upTo(bad)}},
		"cut in next block": {avrotest.Truncate(zero(f.Bytes, pos[bad].SyncOffset, pos[bad].End), pos[bad+1].DataOffset+3),
			want{[]Skip{{From: int64(pos[bad].Offset), To: int64(pos[bad+1].DataOffset + 3), Resume: ResumeEnd, Records: -1}}, upTo(bad)}},
		// The block's size is one too small: what it takes for a marker is one
		// data byte and 15 marker bytes. The next block is not where that size
		// says, so Resync scans and finds the block's own marker.
		"size too small": {sizeMinusOne(t, f, bad),
			want{[]Skip{{From: int64(pos[bad].Offset), To: int64(pos[bad].End), Resume: ResumeMarker, Records: -1}}, all(bad)}},
	}
	// Shifted: the marker lost its first byte, so everything after it moved one
	// byte left. Nothing says where the next block starts now; it is dropped with
	// the bytes up to its marker, which the skip covers.
	shifted := cases["shifted left"]
	shifted.want = want{[]Skip{{From: int64(pos[bad].Offset), To: int64(pos[bad+1].End - 1), Resume: ResumeMarker, Records: -1}}, all(bad, bad+1)}
	cases["shifted left"] = shifted
	for name, c := range cases {
		for _, chunk := range []int{1, 16, 1 << 20} {
			t.Run(fmt.Sprintf("%s/chunk=%d", name, chunk), func(t *testing.T) {
				rd := mustOpen(t, c.data, Options{ChunkSize: chunk})
				var skips []Skip
				var read []int
				for n := 0; n < 100; n++ {
					b, _, err := rd.Next(nil)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						wantKind(t, err, jerr.Parse)
						skip, err := rd.Resync(b.Offset)
						skips = append(skips, skip)
						if errors.Is(err, io.EOF) {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						continue
					}
					// Blocks are identified by their first value (i*10).
					v, _ := binaryVarint(b.Data)
					read = append(read, int(v/10))
				}
				if fmt.Sprint(skips) != fmt.Sprint(c.want.skips) || fmt.Sprint(read) != fmt.Sprint(c.want.read) {
					t.Errorf("skips %+v, blocks %v\nwant skips %+v, blocks %v", skips, read, c.want.skips, c.want.read)
				}
			})
		}
	}
}

// negCount makes the count of the block at off -1 (a corrupt header).
func negCount(data []byte, off int) []byte {
	data = bytes.Clone(data)
	data[off] = 0x01
	return data
}

// sizeMinusOne rewrites block i's size varint one smaller (sizes here fit one byte).
func sizeMinusOne(t *testing.T, f *avrotest.Built, i int) []byte {
	p := f.Blocks[i]
	sizeAt := p.DataOffset - 1
	if f.Bytes[sizeAt]&0x80 != 0 || f.Bytes[sizeAt] < 2 {
		t.Fatalf("size varint of block %d is not one byte", i)
	}
	data := bytes.Clone(f.Bytes)
	data[sizeAt] -= 2 // zigzag: 2n -> 2(n-1)
	return data
}

// binaryVarint decodes one zigzag long.
func binaryVarint(b []byte) (int64, int) {
	var u uint64
	for i, c := range b {
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, 0
}

// A block over max_block_size is refused, and reading goes on with the next.
func TestResyncAfterMaxBlockSize(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Blocks: []avrotest.Block{
		avrotest.Longs(0, 3), {Count: 1, Data: make([]byte, 5000)}, avrotest.Longs(3, 3),
	}})
	src := avrotest.NewSource(f.Bytes)
	rd, err := NewReader(context.Background(), src, Options{ChunkSize: 64, MaxBlockSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rd.Next(nil); err != nil {
		t.Fatal(err)
	}
	b, _, err := rd.Next(nil)
	wantKind(t, err, jerr.Codec)
	skip, err := rd.Resync(b.Offset)
	if err != nil || skip.Resume != ResumeMarker || skip.To != int64(f.Blocks[2].Offset) {
		t.Fatalf("skip %+v, %v", skip, err)
	}
	if nb, _, err := rd.Next(nil); err != nil || nb.Count != 3 || nb.Index != 2 {
		t.Fatalf("block after Resync: %+v, %v", nb, err)
	}
}

// Resync after a corrupt block header finds the marker that ends that block.
func TestResyncAfterBadHeader(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Blocks: []avrotest.Block{
		avrotest.Longs(0, 5), avrotest.Longs(5, 5), avrotest.Longs(10, 5),
	}})
	data := bytes.Clone(f.Bytes)
	// Block 1's count becomes -1 (zigzag 0x01).
	data[f.Blocks[1].Offset] = 0x01
	for _, chunk := range []int{1, 5, 16, 1 << 20} {
		rd := mustOpen(t, data, Options{ChunkSize: chunk})
		if _, _, err := rd.Next(nil); err != nil {
			t.Fatal(err)
		}
		b, _, err := rd.Next(nil)
		e := wantKind(t, err, jerr.Parse)
		if e.Block != 1 {
			t.Errorf("error at block %d", e.Block)
		}
		if _, err := rd.Resync(b.Offset); err != nil {
			t.Fatal(err)
		}
		nb, _, err := rd.Next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if nb.Index != 2 || nb.Offset != int64(f.Blocks[2].Offset) || nb.Count != 5 {
			t.Errorf("chunk %d: block after Resync: %+v", chunk, nb)
		}
	}
}

func TestCorruptBlockHeader(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema})
	header := f.Bytes
	sync := f.Sync[:]
	block := func(parts ...any) []byte {
		out := avrotest.Encode(bytes.Clone(header), parts...)
		return append(out, sync...)
	}
	cases := map[string]struct {
		data    []byte
		kind    jerr.Kind
		variant string
	}{
		"negative count":     {block(-1, 1, avrotest.Raw{0}), jerr.Parse, jerr.InvalidBlock},
		"negative size":      {block(1, -1, avrotest.Raw{0}), jerr.Parse, jerr.InvalidBlock},
		"size past the end":  {block(1, 100, avrotest.Raw{0}), jerr.Parse, jerr.UnexpectedEOF},
		"size near MaxInt64": {block(1, int64(math.MaxInt64-5), avrotest.Raw{0}), jerr.Parse, jerr.UnexpectedEOF}, // Codec when capped
		"varint too long":    {append(bytes.Clone(header), bytes.Repeat([]byte{0x80}, 12)...), jerr.Parse, jerr.InvalidBlock},
		"over MaxBlockSize":  {block(1, 1001, avrotest.Raw(make([]byte, 1001))), jerr.Codec, jerr.OversizedOutput},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, maxBlock := range []int64{-1, 1000} {
				rd := mustOpen(t, c.data, Options{ChunkSize: 8, MaxBlockSize: maxBlock})
				_, _, err := rd.Next(nil)
				kind, variant := c.kind, c.variant
				switch {
				case kind == jerr.Codec && maxBlock < 0:
					if err != nil {
						t.Fatalf("no cap: %v", err)
					}
					continue
				case name == "size near MaxInt64" && maxBlock >= 0:
					kind, variant = jerr.Codec, jerr.OversizedOutput
				}
				e := wantKind(t, err, kind)
				if e.Variant != variant {
					t.Errorf("variant %q, want %q", e.Variant, variant)
				}
				if e.Block != 0 || e.Offset != int64(len(header)) {
					t.Errorf("error at block %d offset %d, want 0, %d", e.Block, e.Offset, len(header))
				}
			}
		})
	}
}

func TestMaxBlockSizeBoundary(t *testing.T) {
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Blocks: []avrotest.Block{{Count: 1, Data: make([]byte, 100)}}})
	if _, _, err := mustOpen(t, f.Bytes, Options{MaxBlockSize: 100}).Next(nil); err != nil {
		t.Errorf("block of exactly MaxBlockSize: %v", err)
	}
	_, _, err := mustOpen(t, f.Bytes, Options{MaxBlockSize: 99}).Next(nil)
	wantKind(t, err, jerr.Codec)
}

// failingSource serves the first ok bytes and then fails.
type failingSource struct {
	*avrotest.Source
	ok  int64
	err error
}

func (s *failingSource) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off+int64(len(p)) > s.ok {
		return 0, s.err
	}
	return s.Source.ReadAt(ctx, p, off)
}

func TestSourceErrors(t *testing.T) {
	f, _ := manyBlocks(t, "null")
	kinded := jerr.New(jerr.Auth, "denied")
	cases := []struct {
		err  error
		kind jerr.Kind
	}{
		{errors.New("disk on fire"), jerr.Source},
		{kinded, jerr.Auth},
		{context.Canceled, jerr.Cancelled},
	}
	for _, c := range cases {
		// Chunk size 1 makes the failure hit the block header's varints; 64 makes
		// it hit a chunk read that spans block data.
		for _, chunk := range []int{1, 64} {
			src := &failingSource{Source: avrotest.NewSource(f.Bytes), ok: int64(f.Blocks[3].Offset), err: c.err}
			rd, err := NewReader(context.Background(), src, Options{ChunkSize: chunk, MaxBlockSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got error
			for i := 0; i < 10 && got == nil; i++ {
				_, _, got = rd.Next(nil)
			}
			wantKind(t, got, c.kind)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	f, _ := manyBlocks(t, "null")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewReader(ctx, avrotest.NewSource(f.Bytes), Options{})
	if err == nil {
		t.Fatal("NewReader with a cancelled context succeeded")
	}
	// A failed read is not a malformed file: it must not be reported as ParseError.
	wantKind(t, err, jerr.Cancelled)
}

func TestResyncMarkerStraddlesChunks(t *testing.T) {
	// Garbage of every length around a chunk boundary, then a valid block: Resync
	// must find the marker wherever it falls relative to the chunks.
	f := avrotest.MustBuild(t, avrotest.File{Schema: longSchema, Blocks: []avrotest.Block{avrotest.Longs(7, 3)}})
	header, block := f.Bytes[:f.HeaderSize], f.Bytes[f.HeaderSize:]
	for garbage := 1; garbage < 40; garbage++ {
		data := append(bytes.Clone(header), bytes.Repeat([]byte{0x01}, garbage)...) // count -1: a corrupt block header
		data = append(data, f.Sync[:]...)
		data = append(data, block...)
		for _, chunk := range []int{1, 8, 16, 17, 32} {
			rd := mustOpen(t, data, Options{ChunkSize: chunk})
			b, _, err := rd.Next(nil)
			if err == nil {
				t.Fatalf("garbage=%d: first block parsed: %+v", garbage, b)
			}
			if _, err := rd.Resync(b.Offset); err != nil {
				t.Fatalf("garbage=%d chunk=%d: Resync: %v", garbage, chunk, err)
			}
			nb, _, err := rd.Next(nil)
			if err != nil || nb.Count != 3 {
				t.Fatalf("garbage=%d chunk=%d: block after Resync: %+v, %v", garbage, chunk, nb, err)
			}
		}
	}
}

type readerSeed struct {
	data   []byte
	chunk  uint16
	capped bool
}

// readerSeeds are FuzzReader's starting points: good files, odd headers, broken
// sync markers, truncation.
func readerSeeds(tb testing.TB) []readerSeed {
	build := func(file avrotest.File) *avrotest.Built { return avrotest.MustBuild(tb, file) }
	good := build(avrotest.File{Schema: longSchema, Codec: "null", Blocks: []avrotest.Block{avrotest.Longs(0, 3), avrotest.Longs(3, 4)}})
	three := build(avrotest.File{Schema: longSchema, Blocks: []avrotest.Block{avrotest.Longs(0, 2), avrotest.Longs(2, 2), avrotest.Longs(4, 2)}})
	return []readerSeed{
		{good.Bytes, 0, false},
		{good.Bytes, 5, true},
		{build(avrotest.File{Schema: longSchema}).Bytes, 16, false},
		{build(avrotest.File{Schema: longSchema, MetaNegativeCount: true, Blocks: []avrotest.Block{avrotest.Longs(0, 1)}}).Bytes, 3, false},
		{build(avrotest.File{Schema: longSchema, Codec: "deflate", Blocks: []avrotest.Block{avrotest.Longs(0, 50)}}).Bytes, 64, true},
		{three.BreakSync(0), 7, false},
		{three.BreakSync(2), 1, false},
		{avrotest.Truncate(three.Bytes, len(three.Bytes)-3), 0, true},
		{[]byte("Obj\x01"), 1, false},
	}
}

// TestWriteFuzzSeeds writes readerSeeds as the committed corpus of FuzzReader when
// JETLINER_WRITE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("JETLINER_WRITE_SEEDS") == "" {
		t.Skip("set JETLINER_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzReader")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range readerSeeds(t) {
		text := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint16(%d)\nbool(%v)\n", s.data, s.chunk, s.capped)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds(f) {
		f.Add(s.data, s.chunk, s.capped)
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, capped bool) {
		opts := Options{ChunkSize: int(chunk), MaxBlockSize: -1}
		if capped {
			opts.MaxBlockSize = 1 << 16
		}
		rd, err := NewReader(context.Background(), avrotest.NewSource(data), opts)
		if err != nil {
			if jerr.KindOf(err) == "" {
				t.Fatalf("unkinded error: %v", err)
			}
			return
		}
		var buf []byte
		last := rd.Offset()
		// Every Next or Resync either ends the loop or moves forward, so the number
		// of iterations is bounded by the file length.
		for i := 0; i <= len(data)+1; i++ {
			b, nb, err := rd.Next(buf[:0])
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if jerr.KindOf(err) == "" {
					t.Fatalf("unkinded error: %v", err)
				}
				skip, err := rd.Resync(b.Offset)
				if err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("Resync: %v", err)
				}
				// The skip is exactly the bytes passed over.
				if skip.From != b.Offset || skip.To != rd.Offset() || skip.To <= skip.From {
					t.Fatalf("skip %+v from block at %d, reader at %d", skip, b.Offset, rd.Offset())
				}
				if err != nil {
					return
				}
			} else {
				buf = nb
				if b.Count < 0 || int64(len(b.Data)) > int64(len(data)) {
					t.Fatalf("impossible block %+v", b)
				}
			}
			if rd.Offset() <= last {
				t.Fatalf("no progress: offset %d after %d", rd.Offset(), last)
			}
			last = rd.Offset()
		}
		t.Fatalf("more iterations than bytes")
	})
}

// A chunk size far beyond the file (read_chunk_size allows up to 1 GiB) reads it
// with a buffer the size of the file: the buffer is allocated whole.
func TestHugeChunkSize(t *testing.T) {
	f, _ := manyBlocks(t, "null")
	rd := mustOpen(t, f.Bytes, Options{ChunkSize: 1 << 30})
	n := 0
	for {
		_, _, err := rd.Next(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(f.Blocks) {
		t.Errorf("%d blocks, want %d", n, len(f.Blocks))
	}
	if c := cap(rd.r.buf); c > len(f.Bytes) {
		t.Errorf("read buffer of %d bytes for a file of %d", c, len(f.Bytes))
	}
}
