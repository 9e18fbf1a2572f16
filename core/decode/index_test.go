package decode

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/schema"
)

// outcome is what decoding one block gave: its columns as JSON, or its error.
type outcome struct {
	cols []string
	err  string
}

// blockOutcomes decodes each block on its own with Decode when indexed is false,
// and otherwise through Index and DecodeIndexed, in groups of d.Lanes() blocks.
// It also returns how many blocks were decoded from an index.
func blockOutcomes(t *testing.T, s *schema.Schema, sel []int, blocks []Block, indexed bool) ([]outcome, int) {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	d := New(s, sel, alloc)
	defer d.Release()
	out := make([]outcome, len(blocks))
	used := 0
	lanes := 1
	if indexed {
		lanes = d.Lanes()
	}
	for g := 0; g < len(blocks); g += lanes {
		group := blocks[g:min(g+lanes, len(blocks))]
		ixs := make([]*Index, len(group))
		if indexed {
			ixs = d.Index(group)
		}
		for j, b := range group {
			var err error
			if ixs[j] != nil {
				used++
				err = d.DecodeIndexed(b.Data, b.Count, ixs[j])
			} else {
				err = d.Decode(b.Data, b.Count, b.Count)
			}
			o := &out[g+j]
			if err != nil {
				o.err = err.Error()
			}
			o.cols = finish(t, d).cols
		}
	}
	return out, used
}

// indexRows are rows of flatSchema with strings too long for the one-byte
// length of the fast paths now and then, nullable ones too.
func indexRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = flatRow(i)
		if i%7 == 3 {
			rows[i][6] = strings.Repeat("long ", 13+i%5)
		}
		if i%11 == 5 {
			rows[i][11] = at.U(1, strings.Repeat("x", 64+i%40))
		}
	}
	return rows
}

// Decoding blocks from an index gives what decoding them one at a time gives,
// for every selection of one or two columns and groups of one to four blocks of
// different sizes, some shorter than a lane needs to run unchecked.
func TestIndexMatchesDecode(t *testing.T) {
	s := mustParse(t, flatSchema)
	var blocks []Block
	for _, n := range []int{40, 1, 300, 7, 120, 0, 250, 33, 2} {
		b := at.Rows(indexRows(n)...)
		blocks = append(blocks, Block{Data: b.Data, Count: b.Count})
	}
	ncols := len(flatRow(0))
	var sels [][]string
	for k := 0; k < ncols; k++ {
		sels = append(sels, []string{fmt.Sprintf("f%d", k)}, []string{fmt.Sprintf("f%d", k), fmt.Sprintf("f%d", (k*5+3)%ncols)})
	}
	for _, names := range sels {
		sel := resolve(t, s, names)
		want, _ := blockOutcomes(t, s, sel, blocks, false)
		for start := 0; start < 4; start++ {
			got, used := blockOutcomes(t, s, sel, blocks[start:], true)
			for i := range got {
				if w := want[start+i]; got[i].err != w.err || fmt.Sprint(got[i].cols) != fmt.Sprint(w.cols) {
					t.Fatalf("select %v, block %d: indexed %v %q, plain %v %q", names, start+i, got[i].cols, got[i].err, w.cols, w.err)
				}
				if want[start+i].err != "" {
					t.Fatalf("select %v, block %d: %s", names, start+i, want[start+i].err)
				}
			}
			// Every block with records was decoded from an index.
			if wantUsed := len(blocks[start:]) - 1; used != wantUsed {
				t.Errorf("select %v from block %d: %d blocks decoded from an index, want %d", names, start, used, wantUsed)
			}
		}
	}
}

// Records of a few bytes with many selected columns would need more memory for
// their marks than for their data: such blocks are decoded the plain way.
func TestIndexSkipsBlocksOfTinyRecords(t *testing.T) {
	s := mustParse(t, record(`"boolean"`, `"boolean"`, `"boolean"`, `"boolean"`, `"int"`))
	rows := make([][]any, 5000)
	for i := range rows {
		rows[i] = []any{i%2 == 0, i%3 == 0, true, false, int32(i)}
	}
	b := at.Rows(rows...)
	blocks := []Block{{b.Data, b.Count}, {b.Data, b.Count}}
	for _, c := range []struct {
		cols    []string
		indexed int
	}{{[]string{"f0", "f1", "f2", "f3"}, 0}, {[]string{"f1"}, 2}} {
		sel := resolve(t, s, c.cols)
		want, _ := blockOutcomes(t, s, sel, blocks, false)
		got, used := blockOutcomes(t, s, sel, blocks, true)
		if used != c.indexed || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("columns %v: %d blocks indexed (want %d), %v; plain %v", c.cols, used, c.indexed, got, want)
		}
	}
}

// A decoder of no columns still counts records, from an index too.
func TestIndexNoColumns(t *testing.T) {
	s := mustParse(t, flatSchema)
	b := at.Rows(indexRows(100)...)
	d := New(s, []int{}, memory.NewGoAllocator())
	blocks := []Block{{b.Data, b.Count}, {b.Data, b.Count}, {b.Data[:len(b.Data)-1], b.Count}}
	ixs := d.Index(blocks)
	if ixs[0] == nil || ixs[1] == nil || ixs[2] != nil {
		t.Fatalf("indexes %v: want the first two", ixs)
	}
	for i, blk := range blocks[:2] {
		if err := d.DecodeIndexed(blk.Data, blk.Count, ixs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if cols, n := d.Finish(); len(cols) != 0 || n != 200 {
		t.Errorf("%d columns, %d rows; want none and 200", len(cols), n)
	}
}

// A bad block in a group is decoded the plain way, with its error; its
// neighbours decode as they would on their own. Bad data either stops indexing
// (a malformed varint, a short block, bytes left over) or only decoding (a
// string that is not UTF-8).
func TestIndexBadBlocks(t *testing.T) {
	s := mustParse(t, flatSchema)
	good := at.Rows(indexRows(60)...)
	short := good.Data[:len(good.Data)-3]
	garbage := append([]byte(nil), good.Data...)
	for i := len(garbage) / 2; i < len(garbage)/2+200; i++ {
		garbage[i] = 0xff // no varint is this long
	}
	leftover := append(append([]byte(nil), good.Data...), 0)
	rows := indexRows(60)
	rows[31][6] = "not \xff UTF-8"
	notUTF8 := at.Rows(rows...).Data
	for name, bad := range map[string][]byte{"short": short, "garbage": garbage, "leftover": leftover, "not UTF-8": notUTF8} {
		for size := 2; size <= MaxLanes; size++ {
			for pos := 0; pos < size; pos++ {
				blocks := make([]Block, size)
				for i := range blocks {
					blocks[i] = Block{good.Data, good.Count}
				}
				blocks[pos] = Block{bad, good.Count}
				for _, cols := range [][]string{{"f2", "f11"}, {"f6"}} {
					sel := resolve(t, s, cols)
					want, _ := blockOutcomes(t, s, sel, blocks, false)
					got, _ := blockOutcomes(t, s, sel, blocks, true)
					if name != "not UTF-8" || cols[0] == "f6" {
						if want[pos].err == "" {
							t.Fatalf("%s: the bad block decodes", name)
						}
					}
					for i := range got {
						if got[i].err != want[i].err || fmt.Sprint(got[i].cols) != fmt.Sprint(want[i].cols) {
							t.Errorf("%s at %d of %d, block %d: indexed %v %q, plain %v %q", name, pos, size, i, got[i].cols, got[i].err, want[i].cols, want[i].err)
						}
					}
				}
			}
		}
	}
}

func TestLanes(t *testing.T) {
	s := mustParse(t, flatSchema)
	for name, c := range map[string]struct {
		schema *schema.Schema
		cols   []string
		want   int
	}{
		"projection":      {s, []string{"f3"}, MaxLanes},
		"every column":    {s, nil, 1},
		"records of null": {mustParse(t, record(`"null"`, `"null"`)), []string{"f0"}, 1},
		"huge fixed":      {mustParse(t, record(`{"type":"fixed","name":"big","size":100000}`, `"int"`)), []string{"f1"}, 1},
	} {
		if got := New(c.schema, resolve(t, c.schema, c.cols), memory.NewGoAllocator()).Lanes(); got != c.want {
			t.Errorf("%s: Lanes() = %d, want %d", name, got, c.want)
		}
	}
}

// lanes.go is what lanes_gen.go writes.
func TestLanesGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lanes.go")
	if msg, err := exec.Command("go", "run", "lanes_gen.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run lanes_gen.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile("lanes.go"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("lanes.go is not what lanes_gen.go writes (%v): run go generate ./core/decode", err)
	}
}
