package scan

import (
	"context"
	"path/filepath"
	"testing"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/jerr"
)

func TestCountAddsDeclaredRecordCounts(t *testing.T) {
	dir := t.TempDir()
	a, built := writeFile(t, dir, "a.avro", "deflate", blocks(0, 3, 7))
	writeFile(t, dir, "b.avro", "null", []at.Block{block(0, 5)})
	writeFile(t, dir, "c.avro", "null", nil) // header only

	got, err := Count(context.Background(), opts(filepath.Join(dir, "*.avro")))
	if err != nil {
		t.Fatal(err)
	}
	want := []FileCount{
		{Path: a, Blocks: 3, Records: 21, Bytes: int64(len(built.Bytes))},
		{Path: filepath.Join(dir, "b.avro"), Blocks: 1, Records: 5},
		{Path: filepath.Join(dir, "c.avro"), Blocks: 0, Records: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d files, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Path != w.Path || g.Blocks != w.Blocks || g.Records != w.Records {
			t.Errorf("file %d: got %+v, want %+v", i, g, w)
		}
	}
	if got[0].Bytes != want[0].Bytes {
		t.Errorf("bytes: got %d, want %d", got[0].Bytes, want[0].Bytes)
	}
}

// Count trusts the declared counts: a block whose data is garbage but whose
// framing is intact is counted, which proves nothing was decoded.
func TestCountDoesNotDecode(t *testing.T) {
	dir := t.TempDir()
	built := at.MustBuild(t, at.File{Schema: testSchema, Codec: "null", Blocks: blocks(0, 2, 4)})
	p := at.WriteFile(t, dir, "x.avro", built.CorruptData(1, 0xff))
	got, err := Count(context.Background(), opts(p))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Blocks != 2 || got[0].Records != 8 {
		t.Fatalf("got %+v", got[0])
	}
}

func TestCountReportsBrokenFraming(t *testing.T) {
	dir := t.TempDir()
	built := at.MustBuild(t, at.File{Schema: testSchema, Codec: "null", Blocks: blocks(0, 2, 4)})
	p := at.WriteFile(t, dir, "x.avro", built.BreakSync(0))
	_, err := Count(context.Background(), opts(p))
	e := wantKind(t, err, jerr.Parse)
	if e.Block != 0 || e.Path != p {
		t.Fatalf("got %+v", e)
	}
	if _, err := Count(context.Background(), opts(filepath.Join(dir, "missing.avro"))); err == nil {
		t.Fatal("no error for a missing file")
	}
}
