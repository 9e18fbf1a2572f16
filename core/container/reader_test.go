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
	cases := map[string][]byte{
		"empty":          nil,
		"short magic":    []byte("Ob"),
		"bad magic":      append([]byte("Obj\x02"), good[4:]...),
		"json":           []byte(`{"type":"record"}`),
		"no schema":      noSchema,
		"huge entry":     hugeEntry,
		"negative entry": negEntry,
		"long varint":    longVarint,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := open(t, data, Options{})
			e := wantKind(t, err, jerr.Parse)
			if want := "mem.avro"; mapped && filepath.Base(e.Path) != "f.avro" || !mapped && e.Path != want {
				t.Errorf("Path = %q", e.Path)
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
				skipped, err := rd.Resync(b.Offset)
				if bad == len(blocks)-1 {
					// No marker after the last block's broken one.
					if !errors.Is(err, io.EOF) {
						t.Fatalf("Resync after the last block: %v", err)
					}
					if skipped != int64(len(f.Bytes)-f.Blocks[bad].Offset) {
						t.Errorf("skipped %d bytes, want %d", skipped, len(f.Bytes)-f.Blocks[bad].Offset)
					}
					if _, _, err := rd.Next(nil); !errors.Is(err, io.EOF) {
						t.Fatalf("Next after Resync hit EOF: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				// The damaged marker no longer matches, so the next one found is the
				// one after block bad+1: block bad+1 is lost with it.
				next := bad + 2
				if want := int64(f.Blocks[next-1].End - f.Blocks[bad].Offset); skipped != want {
					t.Errorf("skipped %d bytes, want %d", skipped, want)
				}
				rest := readAll(t, rd)
				if len(rest) != len(blocks)-next {
					t.Fatalf("after Resync: %d blocks, want %d", len(rest), len(blocks)-next)
				}
				if rest[0].Offset != int64(f.Blocks[next].Offset) || rest[0].Count != blocks[next].Count {
					t.Errorf("first block after Resync at %d count %d, want %d count %d",
						rest[0].Offset, rest[0].Count, f.Blocks[next].Offset, blocks[next].Count)
				}
			})
		}
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
		data []byte
		kind jerr.Kind
	}{
		"negative count":     {block(-1, 1, avrotest.Raw{0}), jerr.Parse},
		"negative size":      {block(1, -1, avrotest.Raw{0}), jerr.Parse},
		"size past the end":  {block(1, 100, avrotest.Raw{0}), jerr.Parse},
		"size near MaxInt64": {block(1, int64(math.MaxInt64-5), avrotest.Raw{0}), jerr.Parse}, // Codec when capped
		"varint too long":    {append(bytes.Clone(header), bytes.Repeat([]byte{0x80}, 12)...), jerr.Parse},
		"over MaxBlockSize":  {block(1, 1001, avrotest.Raw(make([]byte, 1001))), jerr.Codec},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, maxBlock := range []int64{-1, 1000} {
				rd := mustOpen(t, c.data, Options{ChunkSize: 8, MaxBlockSize: maxBlock})
				_, _, err := rd.Next(nil)
				kind := c.kind
				switch {
				case kind == jerr.Codec && maxBlock < 0:
					if err != nil {
						t.Fatalf("no cap: %v", err)
					}
					continue
				case name == "size near MaxInt64" && maxBlock >= 0:
					kind = jerr.Codec
				}
				e := wantKind(t, err, kind)
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
				if _, err := rd.Resync(b.Offset); err != nil {
					if errors.Is(err, io.EOF) {
						return
					}
					t.Fatalf("Resync: %v", err)
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
