package avrotest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/jetliner/jetliner/core/codec"
)

// Block is one block before compression: its record count and encoded records.
type Block struct {
	Count int64
	Data  []byte
}

// DefaultSync is the sync marker used when File.Sync is left zero.
var DefaultSync = [16]byte{0xde, 0xad, 0xbe, 0xef, 'j', 'e', 't', 'l', 'i', 'n', 'e', 'r', 0x5a, 0xa5, 0x0f, 0xf0}

// File describes an object container file to build.
type File struct {
	Schema string
	Codec  string // written as avro.codec unless empty ("" means null to readers)
	Sync   [16]byte
	Meta   map[string]string // extra metadata entries
	// MetaNegativeCount writes the metadata map as one block with a negative count
	// and a byte size, which readers must accept.
	MetaNegativeCount bool
	Blocks            []Block
}

// BlockPos locates one block in a built file.
type BlockPos struct {
	Offset     int // first byte: the count varint
	DataOffset int // first byte of the (compressed) data
	DataLen    int
	SyncOffset int // first byte of the trailing sync marker
	End        int // one past the sync marker: the next block's Offset
}

// Built is a file's bytes and where its parts are.
type Built struct {
	Bytes      []byte
	HeaderSize int
	Sync       [16]byte
	Blocks     []BlockPos
}

// Build encodes f. Blocks are compressed with codec.Compress.
func Build(f File) (*Built, error) {
	sync := f.Sync
	if sync == ([16]byte{}) {
		sync = DefaultSync
	}
	meta := map[string]string{"avro.schema": f.Schema}
	if f.Codec != "" {
		meta["avro.codec"] = f.Codec
	}
	for k, v := range f.Meta {
		meta[k] = v
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var entries []byte
	for _, k := range keys {
		entries = Encode(entries, k, []byte(meta[k]))
	}

	out := append([]byte(nil), 'O', 'b', 'j', 1)
	if f.MetaNegativeCount {
		out = AppendLong(out, -int64(len(keys)))
		out = AppendLong(out, int64(len(entries)))
	} else {
		out = AppendLong(out, int64(len(keys)))
	}
	out = append(out, entries...)
	out = AppendLong(out, 0)
	out = append(out, sync[:]...)

	b := &Built{HeaderSize: len(out), Sync: sync}
	for _, blk := range f.Blocks {
		data, err := codec.Compress(f.Codec, blk.Data)
		if err != nil {
			return nil, err
		}
		pos := BlockPos{Offset: len(out)}
		out = AppendLong(out, blk.Count)
		out = AppendLong(out, int64(len(data)))
		pos.DataOffset, pos.DataLen = len(out), len(data)
		out = append(out, data...)
		pos.SyncOffset = len(out)
		out = append(out, sync[:]...)
		pos.End = len(out)
		b.Blocks = append(b.Blocks, pos)
	}
	b.Bytes = out
	return b, nil
}

// MustBuild is Build for tests: it fails tb on error.
func MustBuild(tb testing.TB, f File) *Built {
	tb.Helper()
	b, err := Build(f)
	if err != nil {
		tb.Fatalf("avrotest.Build: %v", err)
	}
	return b
}

// WriteFile writes data to dir/name, creating directories, and returns the path.
func WriteFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// ---- corruption ---------------------------------------------------------------------

// FlipByte returns a copy of b with the byte at off inverted.
func FlipByte(b []byte, off int) []byte {
	c := bytes.Clone(b)
	c[off] ^= 0xff
	return c
}

// Truncate returns a copy of the first n bytes of b.
func Truncate(b []byte, n int) []byte { return bytes.Clone(b[:n]) }

// BreakSync returns a copy of the built file with the sync marker after block i
// damaged, so that block fails its sync check.
func (b *Built) BreakSync(i int) []byte {
	return FlipByte(b.Bytes, b.Blocks[i].SyncOffset)
}

// CorruptData returns a copy of the built file with every data byte of block i
// replaced by fill. The framing stays intact; decompression or decoding fails.
func (b *Built) CorruptData(i int, fill byte) []byte {
	c := bytes.Clone(b.Bytes)
	p := b.Blocks[i]
	for j := p.DataOffset; j < p.DataOffset+p.DataLen; j++ {
		c[j] = fill
	}
	return c
}

// ---- an in-memory source ---------------------------------------------------------------

// Source is a source.Source over a byte slice.
type Source struct {
	Data  []byte
	Name  string
	Reads int // ReadAt calls
}

// NewSource returns a Source named "mem.avro" over data.
func NewSource(data []byte) *Source { return &Source{Data: data, Name: "mem.avro"} }

// ReadAt follows io.ReaderAt: a short read comes with io.EOF.
func (s *Source) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	s.Reads++
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= int64(len(s.Data)) {
		return 0, io.EOF
	}
	n := copy(p, s.Data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (s *Source) Size() int64  { return int64(len(s.Data)) }
func (s *Source) Path() string { return s.Name }
func (s *Source) Close() error { return nil }
