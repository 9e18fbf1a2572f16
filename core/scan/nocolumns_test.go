package scan

import (
	"strings"
	"testing"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/jerr"
)

func noColumns(sources ...string) Options {
	o := opts(sources...)
	o.Columns = []string{}
	return o
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// A read of no columns delivers batches of the right heights, counted from the
// block headers: no block is decoded.
func TestNoColumns(t *testing.T) {
	dir := t.TempDir()
	p, _ := writeFile(t, dir, "a.avro", "null", blocks(0, 20, 10))
	p2, _ := writeFile(t, dir, "b.avro", "deflate", blocks(200, 3, 10))

	o := noColumns(p, p2)
	o.BatchSize = 35
	r := run(t, o)
	if r.err != nil || sum(r.batches) != 230 {
		t.Fatalf("batches %v, err %v", r.batches, r.err)
	}
	for _, n := range r.batches {
		if n > 35 {
			t.Errorf("batch of %d rows, more than batch_size", n)
		}
	}
	if st := r.stats; st.BlocksDecoded != 0 || st.BlocksRead != 23 || st.RowsRead != 230 || len(st.Columns) != 0 {
		t.Errorf("stats %+v", st)
	}

	// The row index and the file paths still come, with every row.
	o.RowIndexName, o.IncludeFilePaths = "i", "path"
	r = run(t, o)
	if r.err != nil || len(r.index) != 230 || r.index[229] != 229 || len(r.paths) != 230 ||
		r.paths[199] != p || r.paths[200] != p2 || r.stats.BlocksDecoded != 0 {
		t.Errorf("index %d rows, paths %d rows, stats %+v, err %v", len(r.index), len(r.paths), r.stats, r.err)
	}

	// n_rows stops reading at the block that completes it.
	o = noColumns(p, p2)
	o.NRows = 47
	r = run(t, o)
	if r.err != nil || sum(r.batches) != 47 || r.stats.BlocksRead != 5 || r.stats.FilesOpened != 1 {
		t.Errorf("n_rows: batches %v, stats %+v, err %v", r.batches, r.stats, r.err)
	}
}

// ignore_errors skips the blocks a read of every column skips for their
// framing; a block whose framing is intact is counted without being decoded.
func TestNoColumnsIgnoreErrors(t *testing.T) {
	dir := t.TempDir()
	b := at.MustBuild(t, at.File{Schema: testSchema, Codec: "deflate", Blocks: blocks(0, 10, 10)})
	data := b.BreakSync(6)
	p := at.WriteFile(t, dir, "badsync.avro", data)

	full := opts(p)
	full.IgnoreErrors = true
	want := run(t, full)
	o := noColumns(p)
	o.IgnoreErrors = true
	r := run(t, o)
	if r.err != nil || sum(r.batches) != len(want.x) || len(r.errs) != 1 || r.errs[0].Block != 6 || r.stats.BlocksDecoded != 0 {
		t.Errorf("got %d rows, errors %+v, stats %+v; a full read gives %d rows", sum(r.batches), r.errs, r.stats, len(want.x))
	}
	o.IgnoreErrors = false
	r = run(t, o)
	if e := wantKind(t, r.err, jerr.Parse); e.Block != 6 || sum(r.batches) != 60 {
		t.Errorf("error %+v after %d rows", e, sum(r.batches))
	}
}

// A block claiming more records than its bytes can hold is a DecodeError, as
// when decoding, although nothing is decoded.
func TestNoColumnsCountChecked(t *testing.T) {
	dir := t.TempDir()
	// Records of testSchema take at least 2 bytes (a long and a branch index).
	bad := block(10, 10)
	bad.Count = 100
	blks := []at.Block{block(0, 10), bad, block(20, 10)}
	for _, c := range []struct {
		codec    string
		maxBlock int64
		message  string
	}{
		{"null", 512 << 20, "block claims 100 records but holds only"},
		{"deflate", 150, "block claims 100 records but may decompress to at most 150 bytes (max_block_size)"},
		{"deflate", -1, "block claims 100 records but holds only"}, // decompressed to find out
	} {
		b := at.MustBuild(t, at.File{Schema: testSchema, Codec: c.codec, Blocks: blks})
		p := at.WriteFile(t, dir, c.codec+".avro", b.Bytes)
		o := noColumns(p)
		o.MaxBlockSize = c.maxBlock
		r := run(t, o)
		e := wantKind(t, r.err, jerr.Decode)
		if e.Block != 1 || e.Offset != int64(b.Blocks[1].Offset) || !strings.Contains(e.Message, c.message) || sum(r.batches) != 10 {
			t.Errorf("%s, max_block_size %d: error %+v after %v", c.codec, c.maxBlock, e, r.batches)
		}
		o.IgnoreErrors = true
		r = run(t, o)
		if r.err != nil || sum(r.batches) != 20 || len(r.errs) != 1 || r.errs[0].Kind != string(jerr.Decode) {
			t.Errorf("%s, ignore_errors: %v rows, errors %+v, err %v", c.codec, r.batches, r.errs, r.err)
		}
	}
}

// n_rows with ignore_errors: rows of a skipped block are made up from later
// blocks, as in a read of columns.
func TestNoColumnsNRowsIgnoreErrors(t *testing.T) {
	dir := t.TempDir()
	bad := block(10, 10)
	bad.Count = 100
	blks := []at.Block{block(0, 10), bad, block(20, 10), block(30, 10), block(40, 10)}
	p := at.WriteFile(t, dir, "a.avro", at.MustBuild(t, at.File{Schema: testSchema, Blocks: blks}).Bytes)
	for _, workers := range []int{1, 4} {
		o := noColumns(p)
		o.IgnoreErrors, o.NRows, o.BatchSize, o.Workers = true, 25, 10, workers
		r := run(t, o)
		if r.err != nil || sum(r.batches) != 25 || len(r.errs) != 1 || r.errs[0].Block != 1 {
			t.Errorf("workers=%d: batches %v, errors %+v, err %v", workers, r.batches, r.errs, r.err)
		}
	}
}

// A record with no fields is valid Avro: the file reads as its height and no
// columns, in a read of every column as in one of none.
func TestRecordWithoutFields(t *testing.T) {
	dir := t.TempDir()
	const empty = `{"type":"record","name":"e","fields":[]}`
	blks := []at.Block{{Count: 5}, {Count: 0}, {Count: 7}}
	p := at.WriteFile(t, dir, "empty.avro", at.MustBuild(t, at.File{Schema: empty, Codec: "snappy", Blocks: blks}).Bytes)
	for _, cols := range [][]string{nil, {}} {
		o := opts(p)
		o.Columns = cols
		o.RowIndexName = "i"
		r := run(t, o)
		if r.err != nil || sum(r.batches) != 12 || len(r.index) != 12 || r.stats.BlocksDecoded != 0 {
			t.Errorf("columns %v: batches %v, index %v, stats %+v, err %v", cols, r.batches, r.index, r.stats, r.err)
		}
	}
	// Records that take no bytes are bounded as when decoding: no block holds
	// more than 2^24 of them.
	blks = []at.Block{{Count: 3}, {Count: 1<<24 + 1}}
	p = at.WriteFile(t, dir, "huge.avro", at.MustBuild(t, at.File{Schema: empty, Blocks: blks}).Bytes)
	r := run(t, opts(p))
	if e := wantKind(t, r.err, jerr.Decode); e.Block != 1 || sum(r.batches) != 3 {
		t.Errorf("error %+v after %v", e, r.batches)
	}
}
