package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/codec"
	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/schema"
	"github.com/jetliner/jetliner/core/source"
)

// The test files hold records {x: long, s: [null, string]}: x counts up across the
// blocks of a file, s is "s<x>" or null when x is a multiple of 5.
const testSchema = `{"type":"record","name":"r","fields":[{"name":"x","type":"long"},{"name":"s","type":["null","string"]}]}`

// block encodes records x = from .. from+n-1.
func block(from, n int64) at.Block {
	rows := make([][]any, n)
	for i := range rows {
		x := from + int64(i)
		var s any = at.U(1, fmt.Sprint("s", x))
		if x%5 == 0 {
			s = at.U(0, nil)
		}
		rows[i] = []any{x, s}
	}
	return at.Rows(rows...)
}

// blocks is nBlocks blocks of per records each, x starting at from.
func blocks(from int64, nBlocks, per int) []at.Block {
	out := make([]at.Block, nBlocks)
	for i := range out {
		out[i] = block(from+int64(i*per), int64(per))
	}
	return out
}

// writeFile writes an Avro file of the test schema and returns its path and layout.
func writeFile(t testing.TB, dir, name, codec string, blks []at.Block) (string, *at.Built) {
	t.Helper()
	b := at.MustBuild(t, at.File{Schema: testSchema, Codec: codec, Blocks: blks})
	return at.WriteFile(t, dir, name, b.Bytes), b
}

func wantKind(t testing.TB, err error, k jerr.Kind) *jerr.Error {
	t.Helper()
	var e *jerr.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("got error %v, want kind %s", err, k)
	}
	return e
}

func opts(sources ...string) Options {
	o := DefaultOptions()
	o.Sources = sources
	return o
}

// result is everything a scan delivered.
type result struct {
	batches []int    // rows per batch
	x       []int64  // column x
	index   []uint64 // the row index column, if any
	paths   []string // the file path column, if any
	rows    []string // every row as JSON, for comparing whole scans
	err     error    // the error that ended the scan, if not io.EOF
	errs    []BadBlock
	stats   Stats
}

// run scans with o to the end (or the first error), releases everything and checks
// that no Arrow memory is left behind.
func run(t testing.TB, o Options) result {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s, err := Open(context.Background(), o, alloc)
	if err != nil {
		return result{err: err}
	}
	defer s.Close()
	var r result
	for {
		rec, err := s.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			break
		}
		if !rec.Schema().Equal(s.Schema()) {
			t.Errorf("batch schema %s differs from Schema() %s", rec.Schema(), s.Schema())
		}
		r.add(t, rec)
		rec.Release()
	}
	r.errs, r.stats = s.Errors(), s.Stats()
	return r
}

func (r *result) add(t testing.TB, rec arrow.Record) {
	r.batches = append(r.batches, int(rec.NumRows()))
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		switch {
		case f.Name == "x":
			r.x = append(r.x, col.(*array.Int64).Int64Values()...)
		case f.Type.ID() == arrow.UINT32:
			for _, v := range col.(*array.Uint32).Uint32Values() {
				r.index = append(r.index, uint64(v))
			}
		case f.Type.ID() == arrow.UINT64:
			r.index = append(r.index, col.(*array.Uint64).Uint64Values()...)
		case f.Name == "path":
			a := col.(*array.StringView)
			for j := 0; j < a.Len(); j++ {
				r.paths = append(r.paths, a.Value(j))
			}
		}
	}
	var buf bytes.Buffer
	if err := array.RecordToJSON(rec, &buf); err != nil {
		t.Fatal(err)
	}
	r.rows = append(r.rows, strings.Split(strings.TrimSpace(buf.String()), "\n")...)
}

func seq(from, to int64) []int64 {
	var out []int64
	for x := from; x < to; x++ {
		out = append(out, x)
	}
	return out
}

func sameInts[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMultipleFiles(t *testing.T) {
	dir := t.TempDir()
	// Named so that sorted order differs from creation order.
	p2, _ := writeFile(t, dir, "b.avro", "deflate", blocks(100, 3, 7))
	p1, _ := writeFile(t, dir, "a.avro", "snappy", blocks(0, 4, 5))
	p3, _ := writeFile(t, dir, "c.avro", "null", blocks(200, 1, 3))
	o := opts(filepath.Join(dir, "*.avro"))
	o.RowIndexName, o.RowIndexOffset, o.IncludeFilePaths = "idx", 10, "path"
	o.BatchSize = 6

	alloc := memory.NewGoAllocator()
	s, err := Open(context.Background(), o, alloc)
	if err != nil {
		t.Fatal(err)
	}
	if files := s.Files(); !sameInts(files, []string{p1, p2, p3}) {
		t.Errorf("files %v", files)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "idx", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "path", Type: arrow.BinaryTypes.StringView},
	}, nil)
	if !s.Schema().Equal(want) {
		t.Errorf("schema %s, want %s", s.Schema(), want)
	}
	if s.AvroSchema() != testSchema {
		t.Errorf("AvroSchema %s", s.AvroSchema())
	}
	s.Close()

	r := run(t, o)
	if r.err != nil {
		t.Fatal(r.err)
	}
	wantX := append(append(seq(0, 20), seq(100, 121)...), seq(200, 203)...)
	if !sameInts(r.x, wantX) {
		t.Errorf("x = %v", r.x)
	}
	var wantIdx []uint64
	var wantPaths []string
	for i := range wantX {
		wantIdx = append(wantIdx, uint64(10+i))
		switch {
		case i < 20:
			wantPaths = append(wantPaths, p1)
		case i < 41:
			wantPaths = append(wantPaths, p2)
		default:
			wantPaths = append(wantPaths, p3)
		}
	}
	if !sameInts(r.index, wantIdx) {
		t.Errorf("row index %v", r.index)
	}
	if !sameInts(r.paths, wantPaths) {
		t.Errorf("paths %v", r.paths)
	}
	if r.rows[0] != fmt.Sprintf(`{"idx":10,"path":%q,"s":null,"x":0}`, p1) || r.rows[1] != fmt.Sprintf(`{"idx":11,"path":%q,"s":"s1","x":1}`, p1) {
		t.Errorf("first rows %s", r.rows[:2])
	}
	if r.stats.RowsRead != int64(len(wantX)) || r.stats.FilesOpened != 3 || r.stats.BlocksRead != 8 || r.stats.BlocksDecoded != 8 {
		t.Errorf("stats %+v", r.stats)
	}

	// 64-bit row index.
	o.RowIndexType = "uint64"
	if r := run(t, o); r.err != nil || !sameInts(r.index, wantIdx) {
		t.Errorf("uint64 index: %v, %v", r.index, r.err)
	}
}

func TestEmptyFile(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "empty.avro", "snappy", nil)
	r := run(t, opts(p))
	if r.err != nil || len(r.batches) != 0 {
		t.Errorf("batches %v, err %v", r.batches, r.err)
	}
	// An empty file between others changes nothing.
	p1, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 2, 3))
	p2, _ := writeFile(t, dir, "b.avro", "null", blocks(6, 1, 3))
	o := opts(p1, p, p2)
	o.RowIndexName = "i"
	r = run(t, o)
	if r.err != nil || !sameInts(r.x, seq(0, 9)) || !sameInts(r.index, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("x %v index %v err %v", r.x, r.index, r.err)
	}
}

func TestProjection(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 2, 5))
	o := opts(p)
	o.Columns = []string{"s", "x"}
	alloc := memory.NewGoAllocator()
	s, err := Open(context.Background(), o, alloc)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Schema().String(); !strings.Contains(got, "s: type=string_view") || strings.Index(got, "s:") > strings.Index(got, "x:") {
		t.Errorf("schema %s", got)
	}
	if st := s.Stats(); !sameInts(st.Columns, []string{"s", "x"}) {
		t.Errorf("stats columns %v", st.Columns)
	}
	s.Close()
	r := run(t, o)
	if r.err != nil || !sameInts(r.x, seq(0, 10)) || r.rows[1] != `{"s":"s1","x":1}` {
		t.Errorf("rows %v err %v", r.rows, r.err)
	}

	o.Columns = []string{"nope"}
	_, err = Open(context.Background(), o, alloc)
	e := wantKind(t, err, jerr.Schema)
	if e.Path != p {
		t.Errorf("path %q", e.Path)
	}
	o.Columns = []string{"x"}
	o.RowIndexName = "x"
	_, err = Open(context.Background(), o, alloc)
	wantKind(t, err, jerr.Config)
}

func TestNRows(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "many.avro", "deflate", blocks(0, 1000, 10))
	p2, _ := writeFile(t, dir, "second.avro", "deflate", blocks(10000, 5, 10))
	for _, n := range []int64{0, 1, 25, 30} {
		o := opts(p, p2)
		o.NRows = n
		o.BatchSize = 10
		o.RowIndexName = "i"
		r := run(t, o)
		if r.err != nil || !sameInts(r.x, seq(0, n)) || len(r.index) != int(n) {
			t.Errorf("n_rows=%d: x %v, err %v", n, r.x, r.err)
		}
		// Reading stops with the block that completes n_rows: the rest of the
		// file is never read, and neither is the second file.
		if want := (n + 9) / 10; r.stats.BlocksRead != want || r.stats.FilesOpened != 1 || r.stats.RowsRead != n {
			t.Errorf("n_rows=%d: stats %+v, want %d blocks read", n, r.stats, want)
		}
	}
	// More than there is: everything.
	o := opts(p, p2)
	o.NRows = 1_000_000
	if r := run(t, o); r.err != nil || len(r.x) != 10050 || r.stats.FilesOpened != 2 {
		t.Errorf("n_rows beyond the end: %d rows, %v", len(r.x), r.err)
	}
	// Across files.
	o.NRows = 10005
	if r := run(t, o); r.err != nil || len(r.x) != 10005 || r.x[10004] != 10004 {
		t.Errorf("n_rows across files: %d rows, %v", len(r.x), r.err)
	}
}

func TestBatchSize(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 20, 10))
	p2, _ := writeFile(t, dir, "b.avro", "null", blocks(200, 3, 10))
	for _, size := range []int{1, 10, 35, 1_000_000} {
		o := opts(p, p2)
		o.BatchSize = size
		r := run(t, o)
		if r.err != nil || !sameInts(r.x, append(seq(0, 200), seq(200, 230)...)) {
			t.Fatalf("batch_size=%d: %d rows, %v", size, len(r.x), r.err)
		}
		// Batches hold whole blocks: at least batch_size rows (except at the end
		// of a file) and less than batch_size plus one block.
		for i, n := range r.batches {
			if n <= 0 || n >= size+10 {
				t.Errorf("batch_size=%d: batch %d has %d rows (%v)", size, i, n, r.batches)
			}
		}
		if size == 35 && !sameInts(r.batches, []int{40, 40, 40, 40, 40, 30}) {
			t.Errorf("batch_size=35: %v", r.batches)
		}
	}
}

// A batch holds at most buffer_bytes/(workers+2) compressed bytes, so that
// several are decoded at once, however large batch_size is. Here that cap is two
// of the smallest blocks, so no batch takes more than two blocks (the old cap,
// half the budget, let four in).
func TestBatchesCutByBufferBytes(t *testing.T) {
	dir := t.TempDir()
	p, built := writeFile(t, dir, "a.avro", "null", blocks(0, 40, 10))
	smallest := built.Blocks[0].DataLen
	for _, b := range built.Blocks {
		smallest = min(smallest, b.DataLen)
	}
	o := opts(p)
	o.BatchSize, o.Workers = 1_000_000, 2
	o.BufferBytes = int64((o.Workers + 2) * 2 * smallest)
	r := run(t, o)
	if r.err != nil || !sameInts(r.x, seq(0, 400)) {
		t.Fatalf("%d rows, %v", len(r.x), r.err)
	}
	for i, n := range r.batches {
		if n > 20 {
			t.Errorf("batch %d has %d rows, want at most two blocks of 10 (%v)", i, n, r.batches)
		}
	}
}

func TestIgnoreErrors(t *testing.T) {
	for _, codec := range []string{"null", "deflate"} {
		t.Run(codec, func(t *testing.T) {
			dir := t.TempDir()
			b := at.MustBuild(t, at.File{Schema: testSchema, Codec: codec, Blocks: blocks(0, 10, 10)})
			// Block 3's data is garbage (a codec or decode error); block 6's sync
			// marker is broken (a framing error: block 6 is dropped, block 7 read).
			data := b.CorruptData(3, 0xff)
			copy(data[b.Blocks[6].SyncOffset:], []byte{0, 0, 0})
			p := at.WriteFile(t, dir, "bad.avro", data)
			p2, _ := writeFile(t, dir, "good.avro", codec, blocks(100, 1, 10))

			o := opts(p, p2)
			o.IgnoreErrors = true
			o.BatchSize = 25
			o.RowIndexName = "i"
			r := run(t, o)
			if r.err != nil {
				t.Fatal(r.err)
			}
			want := append(append(append(seq(0, 30), seq(40, 60)...), seq(70, 100)...), seq(100, 110)...)
			if !sameInts(r.x, want) {
				t.Errorf("x = %v", r.x)
			}
			// The row index counts delivered rows: it has no gaps.
			if len(r.index) != len(want) || r.index[len(r.index)-1] != uint64(len(want)-1) {
				t.Errorf("row index %v", r.index)
			}
			if len(r.errs) != 2 {
				t.Fatalf("errors %+v", r.errs)
			}
			first, second := r.errs[0], r.errs[1]
			if first.Block != 3 || first.Offset != int64(b.Blocks[3].Offset) || first.Path != p ||
				(codec == "null" && first.Kind != string(jerr.Decode)) || (codec != "null" && first.Kind != string(jerr.Codec)) {
				t.Errorf("first error %+v", first)
			}
			if second.Block != 6 || second.Offset != int64(b.Blocks[6].Offset) || second.Kind != string(jerr.Parse) ||
				second.Path != p || second.Record != -1 ||
				!strings.Contains(second.Message, fmt.Sprintf("dropped the block and its 10 records (bytes %d to %d)", b.Blocks[6].Offset, b.Blocks[6].End)) {
				t.Errorf("second error %+v", second)
			}
		})
	}
}

// Issue 12.8: 10 blocks of 10 rows with the marker after block 6 zeroed. Only
// block 6 is lost, and it is in Errors; where the block after it cannot be
// framed either, both are dropped up to the next marker, and the one error
// says which bytes.
func TestZeroedMarkerUnderIgnoreErrors(t *testing.T) {
	b := at.MustBuild(t, at.File{Schema: testSchema, Blocks: blocks(0, 10, 10)})
	zeroed := bytes.Clone(b.Bytes)
	clear(zeroed[b.Blocks[6].SyncOffset:b.Blocks[6].End])
	bothBad := bytes.Clone(zeroed)
	bothBad[b.Blocks[7].Offset] = 0x01 // block 7's count: -1
	for _, c := range []struct {
		name string
		data []byte
		want []int64
		msg  string
	}{
		{"zeroed", zeroed, append(seq(0, 60), seq(70, 100)...),
			fmt.Sprintf("dropped the block and its 10 records (bytes %d to %d); the next block starts where this one's size says and is intact",
				b.Blocks[6].Offset, b.Blocks[6].End)},
		{"next header bad too", bothBad, append(seq(0, 60), seq(80, 100)...),
			fmt.Sprintf("dropped bytes %d to %d, up to the next sync marker", b.Blocks[6].Offset, b.Blocks[7].End)},
	} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", c.name, workers), func(t *testing.T) {
				o := opts(at.WriteFile(t, t.TempDir(), "f.avro", c.data))
				o.IgnoreErrors, o.Workers, o.BatchSize = true, workers, 15
				r := run(t, o)
				if r.err != nil {
					t.Fatal(r.err)
				}
				if !sameInts(r.x, c.want) {
					t.Errorf("x = %v\nwant %v", r.x, c.want)
				}
				if len(r.errs) != 1 || r.errs[0].Block != 6 || r.errs[0].Offset != int64(b.Blocks[6].Offset) ||
					!strings.HasSuffix(r.errs[0].Message, c.msg) {
					t.Errorf("errors %+v\nwant one at block 6 ending %q", r.errs, c.msg)
				}
			})
		}
	}
}

// Without ignore_errors the rows before the bad block are delivered, then the error.
func TestErrorAfterGoodBatches(t *testing.T) {
	dir := t.TempDir()
	b := at.MustBuild(t, at.File{Schema: testSchema, Blocks: blocks(0, 10, 10)})
	p := at.WriteFile(t, dir, "bad.avro", b.CorruptData(4, 0xff))
	for _, batch := range []int{10, 20, 1000} {
		o := opts(p)
		o.BatchSize = batch
		r := run(t, o)
		e := wantKind(t, r.err, jerr.Decode)
		if e.Block != 4 || e.Path != p || e.Offset != int64(b.Blocks[4].Offset) || e.Record < 0 {
			t.Errorf("batch_size=%d: error %+v", batch, e)
		}
		if !sameInts(r.x, seq(0, 40)) {
			t.Errorf("batch_size=%d: rows before the error: %v", batch, r.x)
		}
	}

	// A framing error in the middle of the file.
	p = at.WriteFile(t, dir, "badsync.avro", b.BreakSync(5))
	o := opts(p)
	o.BatchSize = 10
	r := run(t, o)
	e := wantKind(t, r.err, jerr.Parse)
	if e.Block != 5 || !sameInts(r.x, seq(0, 50)) {
		t.Errorf("error %+v after %d rows", e, len(r.x))
	}
}

func TestNRowsWithIgnoreErrors(t *testing.T) {
	dir := t.TempDir()
	b := at.MustBuild(t, at.File{Schema: testSchema, Blocks: blocks(0, 10, 10)})
	p := at.WriteFile(t, dir, "bad.avro", b.CorruptData(1, 0xff))
	for _, workers := range []int{1, 4} {
		o := opts(p)
		o.IgnoreErrors, o.NRows, o.BatchSize, o.Workers = true, 25, 10, workers
		r := run(t, o)
		// Block 1 is bad, so the 25 rows come from blocks 0, 2 and 3.
		if r.err != nil || !sameInts(r.x, append(seq(0, 10), seq(20, 35)...)) || len(r.errs) != 1 {
			t.Errorf("workers=%d: x %v errs %v err %v", workers, r.x, r.errs, r.err)
		}
	}
}

func TestSchemaMismatch(t *testing.T) {
	dir := t.TempDir()
	p1, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 1, 5))
	other := func(name, schema string, rows ...[]any) string {
		b := at.MustBuild(t, at.File{Schema: schema, Blocks: []at.Block{at.Rows(rows...)}})
		return at.WriteFile(t, dir, name, b.Bytes)
	}
	cases := []struct {
		path, mention string
		columns       []string
	}{
		{other("type.avro", `{"type":"record","name":"r","fields":[{"name":"x","type":"int"},{"name":"s","type":["null","string"]}]}`,
			[]any{int32(1), at.U(0, nil)}), `"x"`, nil},
		{other("missing.avro", `{"type":"record","name":"r","fields":[{"name":"x","type":"long"}]}`, []any{int64(1)}), `"s"`, nil},
		{other("extra.avro", `{"type":"record","name":"r","fields":[{"name":"x","type":"long"},{"name":"s","type":["null","string"]},{"name":"y","type":"long"}]}`,
			[]any{int64(1), at.U(0, nil), int64(2)}), "columns", nil},
		{other("nofields.avro", `{"type":"record","name":"r","fields":[]}`), `no column "x"`, nil},
		// A later file's schema is checked for depth like the first's.
		{other("deep.avro", `{"type":"record","name":"r","fields":[{"name":"x","type":`+
			strings.Repeat(`{"type":"array","items":`, 65)+`"long"`+strings.Repeat(`}`, 65)+`}]}`),
			"nests 65 levels deep, more than the limit of 32", []string{"x"}},
	}
	for _, c := range cases {
		o := opts(p1, c.path)
		o.Columns = c.columns
		r := run(t, o)
		e := wantKind(t, r.err, jerr.Schema)
		if e.Path != c.path || !strings.Contains(e.Error(), c.mention) {
			t.Errorf("%s: error %v", filepath.Base(c.path), e)
		}
		// The first file's rows come first.
		if !sameInts(r.x, seq(0, 5)) {
			t.Errorf("%s: rows before the error %v", filepath.Base(c.path), r.x)
		}
	}
	// A projection only needs the selected columns to agree.
	o := opts(p1, cases[2].path)
	o.Columns = []string{"x"}
	if r := run(t, o); r.err != nil || len(r.x) != 6 {
		t.Errorf("projected: %v, %v", r.x, r.err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 1, 1))
	notAvro := at.WriteFile(t, dir, "not.avro", []byte("hello world"))
	unknownCodec := at.WriteFile(t, dir, "codec.avro", at.MustBuild(t, at.File{Schema: testSchema, Meta: map[string]string{"avro.codec": "lz4"}}).Bytes)
	badSchema := at.WriteFile(t, dir, "schema.avro", at.MustBuild(t, at.File{Schema: `{"type":"nope"}`}).Bytes)
	cases := []struct {
		sources []string
		kind    jerr.Kind
	}{
		{[]string{filepath.Join(dir, "missing.avro")}, jerr.NotFound},
		{[]string{filepath.Join(dir, "*.parquet")}, jerr.NotFound},
		{[]string{notAvro}, jerr.Parse},
		{[]string{unknownCodec}, jerr.Codec},
		{[]string{badSchema}, jerr.Schema},
		{[]string{dir}, jerr.Source},
		{nil, jerr.Config},
	}
	for _, c := range cases {
		_, err := Open(context.Background(), opts(c.sources...), memory.NewGoAllocator())
		wantKind(t, err, c.kind)
	}
	// A later file that is missing fails when the scan gets there.
	r := run(t, opts(p, filepath.Join(dir, "missing.avro")))
	if wantKind(t, r.err, jerr.NotFound); len(r.x) != 1 {
		t.Errorf("rows before the error: %v", r.x)
	}
}

func TestOptionValidation(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", nil)
	bad := []func(*Options){
		func(o *Options) { o.BatchSize = 0 },
		func(o *Options) { o.BatchSize = -1 },
		func(o *Options) { o.BufferBlocks = 0 },
		func(o *Options) { o.BufferBytes = 0 },
		func(o *Options) { o.ReadChunkSize = -1 },
		func(o *Options) { o.MaxBlockSize = 0 },
		func(o *Options) { o.RowIndexType = "int64" },
		func(o *Options) { o.RowIndexOffset = -1 },
		func(o *Options) { o.RowIndexName, o.IncludeFilePaths = "a", "a" },
		// One past each upper bound, and the values that used to hang or abort.
		func(o *Options) { o.BatchSize = MaxBatchSize + 1 },
		func(o *Options) { o.BufferBlocks = MaxBufferBlocks + 1 },
		func(o *Options) { o.BufferBlocks = 1 << 32 },
		func(o *Options) { o.BufferBlocks = 1 << 62 },
		func(o *Options) { o.BufferBytes = MaxBufferBytes + 1 },
		func(o *Options) { o.ReadChunkSize = MaxReadChunkSize + 1 },
		func(o *Options) { o.MaxBlockSize = MaxBlockSizeCap + 1 },
		func(o *Options) { o.Workers = MaxWorkers + 1 },
		func(o *Options) { o.RowIndexName, o.RowIndexOffset = "i", math.MaxUint32+1 },
		func(o *Options) { o.RowIndexName, o.RowIndexOffset = "i", math.MaxInt64 },
		func(o *Options) { o.MaxSchemaDepth = 0 },
		func(o *Options) { o.MaxSchemaDepth = schema.MaxDepthLimit + 1 },
	}
	for i, f := range bad {
		o := opts(p)
		f(&o)
		_, err := Open(context.Background(), o, memory.NewGoAllocator())
		if jerr.KindOf(err) != jerr.Config {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

// Every numeric option at its upper bound reads normally.
func TestOptionBounds(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "deflate", blocks(0, 3, 100))
	for _, noMmap := range []string{"", "1"} {
		t.Setenv("JETLINER_NO_MMAP", noMmap) // pread allocates a read_chunk_size buffer
		o := opts(p)
		o.BatchSize, o.BufferBlocks, o.BufferBytes = MaxBatchSize, MaxBufferBlocks, MaxBufferBytes
		o.ReadChunkSize, o.MaxBlockSize, o.Workers = MaxReadChunkSize, MaxBlockSizeCap, MaxWorkers
		o.NRows = math.MaxInt64
		if r := run(t, o); r.err != nil || len(r.x) != 300 {
			t.Errorf("JETLINER_NO_MMAP=%q: %d rows, %v", noMmap, len(r.x), r.err)
		}
	}
	o := opts(p)
	o.RowIndexName, o.RowIndexOffset = "i", math.MaxUint32-299
	if r := run(t, o); r.err != nil || r.index[299] != math.MaxUint32 {
		t.Errorf("last UInt32 index: %v", r.err)
	}
}

// A scan whose pipeline fails to start (here a channel of impossible size, which
// validate refuses but a bug could still produce) closes at once: Close used to
// wait forever on the channel that was never made.
func TestCloseAfterFailedStart(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 2, 10))
	s, err := Open(context.Background(), opts(p), memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	s.opts.BufferBlocks = -1
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Error("a channel of size -1 was made")
			}
		}()
		s.Next()
	}()
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a scan that failed to start")
	}
}

func TestMaxBlockSize(t *testing.T) {
	dir := t.TempDir()
	p, b := writeFile(t, dir, "a.avro", "deflate", blocks(0, 3, 100))
	o := opts(p)
	// Compressed blocks fit, decompressed ones do not.
	o.MaxBlockSize = int64(b.Blocks[0].DataLen + 10)
	r := run(t, o)
	e := wantKind(t, r.err, jerr.Codec)
	if e.Block != 0 || !strings.Contains(e.Error(), "max_block_size") {
		t.Errorf("error %v", e)
	}
	o.MaxBlockSize = -1
	if r := run(t, o); r.err != nil || len(r.x) != 300 {
		t.Errorf("no cap: %d rows, %v", len(r.x), r.err)
	}
}

func TestRowIndexOverflow(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 2, 10))
	o := opts(p)
	o.RowIndexName, o.RowIndexOffset, o.BatchSize = "i", math.MaxUint32-14, 10
	r := run(t, o)
	wantKind(t, r.err, jerr.Config)
	if len(r.x) != 10 || r.index[9] != math.MaxUint32-5 {
		t.Errorf("rows before the overflow: %v", r.index)
	}
	o.RowIndexType = "uint64"
	if r := run(t, o); r.err != nil || r.index[19] != math.MaxUint32+5 {
		t.Errorf("uint64: %v, %v", r.index, r.err)
	}
}

// The row index is right or an error over the whole range of offsets: near 2**63
// the sum offset+rows wrapped around in int64, and a UInt32 index silently
// counted 4294967295, 0, 1, ...
func TestRowIndexRange(t *testing.T) {
	dir := t.TempDir()
	const rows = 20
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 2, 10))
	for _, tc := range []struct {
		typ    string
		offset int64
		ok     bool
	}{
		{"uint32", math.MaxUint32 + 1 - rows, true}, // the last index is 2**32-1
		{"uint32", math.MaxUint32 + 2 - rows, false},
		{"uint32", math.MaxUint32, false},
		{"uint32", math.MaxInt64 - rows, false},
		{"uint32", math.MaxInt64 - 5, false},
		{"uint64", math.MaxUint32 + 1 - rows, true},
		{"uint64", math.MaxInt64 - rows, true},
		{"uint64", math.MaxInt64 - 5, true}, // passes MaxInt64, still within uint64
		{"uint64", math.MaxInt64, true},
	} {
		for _, batch := range []int{10, 100} {
			o := opts(p)
			o.RowIndexName, o.RowIndexType, o.RowIndexOffset, o.BatchSize = "i", tc.typ, tc.offset, batch
			r := run(t, o)
			if !tc.ok {
				if jerr.KindOf(r.err) != jerr.Config {
					t.Errorf("%s offset %d: want a Config error, got %v with index %v", tc.typ, tc.offset, r.err, r.index)
				}
				for i, v := range r.index {
					if v != uint64(tc.offset)+uint64(i) {
						t.Errorf("%s offset %d: index[%d] = %d before the error", tc.typ, tc.offset, i, v)
					}
				}
				continue
			}
			if r.err != nil || len(r.index) != rows {
				t.Errorf("%s offset %d: %d rows, %v", tc.typ, tc.offset, len(r.index), r.err)
				continue
			}
			for i, v := range r.index {
				if v != uint64(tc.offset)+uint64(i) {
					t.Errorf("%s offset %d: index[%d] = %d", tc.typ, tc.offset, i, v)
					break
				}
			}
		}
	}
}

// The result does not depend on the number of workers or on batch boundaries.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := 0; i < 3; i++ {
		b := at.MustBuild(t, at.File{Schema: testSchema, Codec: "snappy", Blocks: blocks(int64(i*1000), 40, 1+i*3)})
		data := b.Bytes
		if i == 1 {
			data = b.CorruptData(7, 0x00)
		}
		files = append(files, at.WriteFile(t, dir, fmt.Sprintf("f%d.avro", i), data))
	}
	for _, ignore := range []bool{true, false} {
		for _, nRows := range []int64{-1, 100} {
			var ref *result
			// Mapped files (views) and pread (copies) must not differ either.
			for _, noMmap := range []string{"", "1"} {
				t.Setenv(source.NoMmapEnv, noMmap)
				for _, workers := range []int{1, 2, 8} {
					for _, batch := range []int{1, 17} {
						o := opts(files...)
						o.Workers, o.BatchSize, o.IgnoreErrors, o.NRows = workers, batch, ignore, nRows
						o.RowIndexName, o.IncludeFilePaths, o.BufferBlocks = "i", "p", 2
						r := run(t, o)
						if ref == nil {
							ref = &r
							continue
						}
						if strings.Join(r.rows, "\n") != strings.Join(ref.rows, "\n") || fmt.Sprint(r.err) != fmt.Sprint(ref.err) ||
							fmt.Sprint(r.errs) != fmt.Sprint(ref.errs) {
							t.Errorf("ignore=%v n_rows=%d workers=%d batch=%d no_mmap=%q: %d rows, err %v; reference %d rows, err %v",
								ignore, nRows, workers, batch, noMmap, len(r.rows), r.err, len(ref.rows), ref.err)
						}
					}
				}
			}
		}
	}
}

// The same when the file shrinks after its blocks were framed, before a worker
// decodes them: the fault is then the worker's, also where it indexes the
// mapped bytes themselves for a projection (the null codec; on amd64 the index
// loop is assembly).
func TestFileShrinksBeforeDecode(t *testing.T) {
	for _, c := range []struct {
		codec   string
		columns []string
	}{{"null", nil}, {"snappy", nil}, {"null", []string{"s"}}} {
		t.Run(fmt.Sprint(c.codec, c.columns), func(t *testing.T) {
			p, b := writeFile(t, t.TempDir(), "shrinks.avro", c.codec, blocks(0, 40, 500))
			o := opts(p)
			o.Columns = c.columns
			s, err := Open(context.Background(), o, memory.NewGoAllocator())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			view := s.firstSrc.(source.Viewer)
			u := &unit{file: s.first, view: view, limit: math.MaxInt64, done: make(chan struct{})}
			for {
				blk, _, err := s.firstRd.Next(nil)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				u.blocks = append(u.blocks, blk)
			}
			// Page-aligned, so the pages past it are gone, not just zeroed.
			if err := os.Truncate(p, int64(b.Blocks[20].Offset)&^0xfff); err != nil {
				t.Fatal(err)
			}
			defer source.PanicOnFault()()
			s.process(u, &workerState{codecs: map[string]codec.Decompressor{}})
			e := wantKind(t, u.err, jerr.Source)
			if !strings.Contains(e.Message, "changed while it was being read") {
				t.Errorf("error %v", u.err)
			}
			releaseUnit(u, 0)
		})
	}
}

// A mapped file that shrinks while it is read faults on the pages past its new
// end. That must be an error, not the end of the process, wherever the fault
// happens: framing (a block header), or decoding (the null codec decodes the
// mapped bytes themselves, snappy decompresses them).
func TestFileShrinksWhileRead(t *testing.T) {
	for _, codec := range []string{"null", "snappy"} {
		t.Run(codec, func(t *testing.T) {
			p, b := writeFile(t, t.TempDir(), "shrinks.avro", codec, blocks(0, 400, 500))
			if len(b.Bytes) < 512<<10 {
				t.Fatalf("only %d bytes: too small to span many pages", len(b.Bytes))
			}
			o := opts(p)
			o.BatchSize = 500
			s, err := Open(context.Background(), o, memory.NewGoAllocator())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, ok := s.firstSrc.(source.Viewer); !ok {
				t.Fatalf("%T: local files are not mapped", s.firstSrc)
			}
			// Page-aligned, so the pages past it are gone, not just zeroed.
			if err := os.Truncate(p, int64(len(b.Bytes)/2)&^0xffff); err != nil {
				t.Fatal(err)
			}
			rows := 0
			for {
				rec, err := s.Next()
				if err != nil {
					e := wantKind(t, err, jerr.Source)
					if !strings.Contains(e.Message, "changed while it was being read") || e.Path != p {
						t.Errorf("error %v", err)
					}
					break
				}
				rows += int(rec.NumRows())
				rec.Release()
			}
			if rows == 0 || rows >= 400*500 {
				t.Errorf("%d rows before the error", rows)
			}
		})
	}
}

func TestCloseEarly(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "many.avro", "deflate", blocks(0, 200, 50))
	base := runtime.NumGoroutine()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	for _, read := range []int{0, 1, 3} {
		o := opts(p, p)
		o.BatchSize, o.Workers, o.BufferBlocks = 50, 4, 2
		s, err := Open(context.Background(), o, alloc)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < read; i++ {
			rec, err := s.Next()
			if err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
		s.Close()
		s.Close() // twice is fine
		if _, err := s.Next(); jerr.KindOf(err) != jerr.Config {
			t.Errorf("Next after Close: %v", err)
		}
		alloc.AssertSize(t, 0)
	}
	// The pipeline's goroutines are gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// Cancelling the caller's context stops a scan with a kinded error.
func TestContextCancel(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "many.avro", "null", blocks(0, 100, 10))
	ctx, cancel := context.WithCancel(context.Background())
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	o := opts(p)
	o.BatchSize = 10
	s, err := Open(ctx, o, alloc)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	cancel()
	for {
		rec, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				t.Error("a cancelled scan ended with io.EOF")
			} else if k := jerr.KindOf(err); k != jerr.Cancelled {
				t.Errorf("error %v of kind %q", err, k)
			}
			break
		}
		rec.Release()
	}
	s.Close()
	alloc.AssertSize(t, 0)
}

func TestCodecs(t *testing.T) {
	dir := t.TempDir()
	for _, codec := range []string{"", "null", "deflate", "snappy", "zstandard", "zstd", "bzip2", "xz"} {
		p, _ := writeFile(t, dir, "f-"+codec+".avro", codec, blocks(0, 3, 40))
		if r := run(t, opts(p)); r.err != nil || !sameInts(r.x, seq(0, 120)) {
			t.Errorf("codec %q: %d rows, %v", codec, len(r.x), r.err)
		}
	}
}

func TestTopLevelValue(t *testing.T) {
	dir := t.TempDir()
	b := at.MustBuild(t, at.File{Schema: `"long"`, Blocks: []at.Block{at.Longs(5, 3)}})
	p := at.WriteFile(t, dir, "v.avro", b.Bytes)
	r := run(t, opts(p))
	if r.err != nil || strings.Join(r.rows, " ") != `{"value":5} {"value":6} {"value":7}` {
		t.Errorf("rows %v, %v", r.rows, r.err)
	}
}

// A budget smaller than one block must not deadlock the pipeline.
func TestTinyBuffers(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 50, 20))
	o := opts(p)
	o.BufferBytes, o.BufferBlocks, o.Workers, o.ReadChunkSize = 1, 1, 4, 7
	if r := run(t, o); r.err != nil || !sameInts(r.x, seq(0, 1000)) {
		t.Errorf("%d rows, %v", len(r.x), r.err)
	}
}

// Garbage after the last block is one bad block under ignore_errors.
func TestTrailingGarbage(t *testing.T) {
	dir := t.TempDir()
	b := at.MustBuild(t, at.File{Schema: testSchema, Blocks: blocks(0, 3, 10)})
	p := at.WriteFile(t, dir, "tail.avro", append(bytes.Clone(b.Bytes), 0x02, 0x02, 0x02))
	o := opts(p)
	o.IgnoreErrors = true
	r := run(t, o)
	if r.err != nil || !sameInts(r.x, seq(0, 30)) || len(r.errs) != 1 || r.errs[0].Block != 3 {
		t.Errorf("x %v errs %+v err %v", r.x, r.errs, r.err)
	}
	o.IgnoreErrors = false
	r = run(t, o)
	if e := wantKind(t, r.err, jerr.Parse); e.Block != 3 || len(r.x) != 30 {
		t.Errorf("error %v after %d rows", e, len(r.x))
	}
}

// A projection decodes a unit's blocks in groups, from an index (see
// decode.Index): rows, errors and bad blocks are those of decoding one block at
// a time, whatever the batches, workers, row limit or bad blocks.
func TestGroupedBlocks(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, codec := range []string{"null", "snappy", "null"} {
		b := at.MustBuild(t, at.File{Schema: testSchema, Codec: codec, Blocks: blocks(int64(i*100000), 30, 25+i*10)})
		data := b.Bytes
		if i > 0 {
			data = b.CorruptData(5+i*7, 0xff) // fails decompression (snappy) or decoding (null)
		}
		files = append(files, at.WriteFile(t, dir, fmt.Sprintf("f%d.avro", i), data))
	}
	for _, cols := range [][]string{{"s"}, {"x"}} {
		for _, ignore := range []bool{true, false} {
			for _, nRows := range []int64{-1, 130, 777} {
				var ref *result
				// One row per batch makes units of one block: the reference,
				// decoded without an index.
				for _, c := range []struct{ workers, batch int }{{1, 1}, {1, 17}, {1, 500}, {2, 500}, {2, 100000}} {
					o := opts(files...)
					o.Columns, o.Workers, o.BatchSize, o.IgnoreErrors, o.NRows = cols, c.workers, c.batch, ignore, nRows
					r := run(t, o)
					if ref == nil {
						if r.stats.BlocksIndexed != 0 || len(r.rows) == 0 {
							t.Fatalf("reference: %d blocks indexed, %d rows", r.stats.BlocksIndexed, len(r.rows))
						}
						if nRows < 0 && (ignore && len(r.errs) != 2 || !ignore && r.err == nil) {
							t.Fatalf("reference: error %v, bad blocks %v; want both bad blocks found", r.err, r.errs)
						}
						ref = &r
						continue
					}
					if c.batch > 25 && r.stats.BlocksIndexed == 0 {
						t.Errorf("columns %v batch %d: no block decoded from an index", cols, c.batch)
					}
					if strings.Join(r.rows, "\n") != strings.Join(ref.rows, "\n") || fmt.Sprint(r.err) != fmt.Sprint(ref.err) ||
						fmt.Sprint(r.errs) != fmt.Sprint(ref.errs) {
						t.Errorf("columns %v ignore=%v n_rows=%d workers=%d batch=%d: %d rows, err %v, bad %v; reference %d rows, err %v, bad %v",
							cols, ignore, nRows, c.workers, c.batch, len(r.rows), r.err, r.errs, len(ref.rows), ref.err, ref.errs)
					}
				}
			}
		}
	}
}
