package decode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/schema"
)

const zeroSize = `{"type":"record","name":"Z","fields":[{"name":"n","type":"null"}]}`

// fuzzSchemas are the schemas FuzzDecode picks from: every type, nesting, unions,
// recursion, and items that take no bytes on the wire.
var fuzzSchemas = []string{
	0: record(`"null"`, `"boolean"`, `"int"`, `"long"`, `"float"`, `"double"`, `"bytes"`, `"string"`),
	1: record(`{"type":"int","logicalType":"date"}`, `{"type":"int","logicalType":"time-millis"}`,
		`{"type":"long","logicalType":"time-micros"}`, `{"type":"long","logicalType":"timestamp-nanos"}`,
		`{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`,
		`{"type":"fixed","name":"d16","size":16,"logicalType":"decimal","precision":38,"scale":4}`,
		`{"type":"string","logicalType":"uuid"}`, `{"type":"fixed","name":"u","size":16,"logicalType":"uuid"}`,
		`{"type":"fixed","name":"dur","size":12,"logicalType":"duration"}`, `{"type":"enum","name":"E","symbols":["A","B","C"]}`),
	2: record(`{"type":"array","items":"int"}`, `{"type":"map","values":"string"}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":{"type":"record","name":"S","fields":[{"name":"b","type":["null","string"]}]}}}]}`,
		`{"type":"array","items":{"type":"array","items":"long"}}`,
		`{"type":"map","values":{"type":"array","items":{"type":"enum","name":"E","symbols":["X","Y"]}}}`),
	3: record(`["null","long"]`, `["string","null"]`, `["int"]`, `["null","int","string","bytes"]`,
		`[{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"b","type":"boolean"}]}]`,
		`["null",{"type":"array","items":["null","double"]}]`),
	4: linkedList,
	5: `{"type":"record","name":"T","fields":[{"name":"label","type":"string"},{"name":"kids","type":{"type":"array","items":"T"}},
		{"name":"attrs","type":{"type":"map","values":["null","T","float"]}}]}`,
	6:  record(`{"type":"array","items":"null"}`, zeroSize, `{"type":"array","items":"Z"}`, `{"type":"map","values":"null"}`),
	7:  `"string"`,
	8:  `{"type":"record","name":"N","fields":[{"name":"a","type":{"type":"array","items":"null"}},{"name":"next","type":["null","N"]}]}`,
	9:  `{"type":"array","items":["null","int","string"]}`,
	10: record(`{"type":"fixed","name":"F1","size":1}`, `"float"`, `"boolean"`),
}

// fuzzSeed is one FuzzDecode input.
type fuzzSeed struct {
	which, mask uint8
	data        []byte
	count, n    uint16
}

// fuzzSeeds are valid blocks for each schema, decoded whole and in part.
func fuzzSeeds() []fuzzSeed {
	tree := func(label string, kids ...any) at.Raw {
		return at.Raw(at.Encode(nil, label, kids, map[string]any{}))
	}
	rows := map[uint8][][]any{
		0: {{nil, true, int32(-3), int64(1) << 40, float32(1.5), 2.5, []byte{0, 1}, "héllo"}, {nil, false, int32(0), int64(0), float32(0), 0.0, []byte{}, ""}},
		1: {{int32(19000), int32(1000), int64(5), int64(-1), []byte{0x04, 0xd2}, at.Fixed(make([]byte, 16)), "123e4567-e89b-12d3-a456-426614174000",
			at.Fixed(make([]byte, 16)), at.Fixed(make([]byte, 12)), at.Enum(2)}},
		2: {{[]any{int32(1), int32(2)}, map[string]any{"k": "v"}, at.Raw(at.Encode(nil, []any{at.U(1, "s"), at.U(0, nil)})),
			at.Array{Items: []any{[]any{int64(1)}, []any{}}, Sized: true}, map[string]any{"e": []any{at.Enum(1), at.Enum(0)}}}},
		3: {{at.U(1, int64(7)), at.U(1, nil), at.U(0, int32(1)), at.U(2, "x"), at.U(1, true), at.U(1, []any{at.U(1, 1.0), at.U(0, nil)})},
			{at.U(0, nil), at.U(0, "s"), at.U(0, int32(2)), at.U(0, nil), at.U(0, int32(5)), at.U(0, nil)}},
		4:  {{int64(1), at.U(1, node(2, 3, 4))}, {int64(5), at.U(0, nil)}},
		5:  {{"root", []any{tree("a"), tree("b", tree("c"))}, map[string]any{"x": at.U(1, tree("d")), "y": at.U(2, float32(1)), "z": at.U(0, nil)}}},
		6:  {{[]any{nil, nil}, nil, []any{nil}, map[string]any{"a": nil}}},
		7:  {{"one"}, {"two"}},
		8:  {{[]any{nil}, at.U(1, at.Raw(at.Encode(nil, []any{nil, nil}, at.U(0, nil))))}},
		9:  {{[]any{at.U(0, nil), at.U(1, int32(3)), at.U(2, "s")}}},
		10: {{at.Fixed{7}, float32(2), true}, {at.Fixed{8}, float32(3), false}},
	}
	var seeds []fuzzSeed
	for which := uint8(0); int(which) < len(fuzzSchemas); which++ {
		b := at.Rows(rows[which]...)
		c := uint16(b.Count)
		seeds = append(seeds,
			fuzzSeed{which, 0xff, b.Data, c, c},
			fuzzSeed{which, 0x05, b.Data, c, c},
			fuzzSeed{which, 0xff, b.Data, c + 1, 1})
	}
	return seeds
}

// TestWriteFuzzSeeds writes fuzzSeeds as the committed corpus of FuzzDecode when
// JETLINER_WRITE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("JETLINER_WRITE_SEEDS") == "" {
		t.Skip("set JETLINER_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds() {
		text := fmt.Sprintf("go test fuzz v1\nuint8(%d)\nuint8(%d)\n[]byte(%q)\nuint16(%d)\nuint16(%d)\n", s.which, s.mask, s.data, s.count, s.n)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d-schema%d", i, s.which)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// peakAllocator records the most memory held at once.
type peakAllocator struct {
	*memory.CheckedAllocator
	peak atomic.Int64
}

func (a *peakAllocator) note() {
	if cur := int64(a.CurrentAlloc()); cur > a.peak.Load() {
		a.peak.Store(cur)
	}
}

func (a *peakAllocator) Allocate(n int) []byte {
	b := a.CheckedAllocator.Allocate(n)
	a.note()
	return b
}

func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	b = a.CheckedAllocator.Reallocate(n, b)
	a.note()
	return b
}

// valueCount counts the values of an array and its children, nested ones included.
func valueCount(a arrow.ArrayData) int {
	n := a.Len()
	for _, c := range a.Children() {
		n += valueCount(c)
	}
	return n
}

func FuzzDecode(f *testing.F) {
	parsed := make([]*schema.Schema, len(fuzzSchemas))
	for i, text := range fuzzSchemas {
		parsed[i] = mustParse(f, text)
	}
	for _, s := range fuzzSeeds() {
		f.Add(s.which, s.mask, s.data, s.count, s.n)
	}
	f.Fuzz(func(t *testing.T, which, mask uint8, data []byte, count, n uint16) {
		s := parsed[int(which)%len(parsed)]
		var sel []int
		for i := range s.Columns {
			if mask&(1<<(i%8)) != 0 {
				sel = append(sel, i)
			}
		}
		// The scan refuses blocks that claim more records than their bytes can hold.
		if m := MinRecordSize(s); m > 0 && int(count) > len(data)/m {
			return
		}
		take := min(n, count)
		alloc := &peakAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
		d := New(s, sel, alloc)

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := d.Decode(data, int64(count), int64(take))
		runtime.ReadMemStats(&after)

		// Decoding may expand the data (a one-byte union index fills every branch's
		// column), but only by a constant factor.
		limit := uint64(4<<20 + 1024*(len(data)+int(count)))
		if p := uint64(alloc.peak.Load()); p > limit {
			t.Errorf("Arrow memory peaked at %d bytes for %d bytes of data and %d records", p, len(data), count)
		}
		if heap := after.TotalAlloc - before.TotalAlloc; heap > limit {
			t.Errorf("Go heap allocations of %d bytes for %d bytes of data and %d records", heap, len(data), count)
		}

		if err != nil {
			var re *RecordError
			// Leftover bytes in a block of no records are reported at record -1.
			if !errors.As(err, &re) || re.Record < min(0, int64(count)-1) || re.Record >= max(int64(count), 1) {
				t.Fatalf("error %v is not a RecordError within the block", err)
			}
			if d.Rows() != 0 {
				t.Fatalf("%d rows left after a failed block", d.Rows())
			}
		} else if d.Rows() != int(take) {
			t.Fatalf("decoded %d rows, asked for %d", d.Rows(), take)
		}
		// Comparing values below renders them as JSON, which for the millions of
		// nulls a few bytes of counts can stand for takes the fuzzer's time
		// out; such inputs are checked for everything but values.
		cols, rows := d.Finish()
		render := true
		for _, c := range cols {
			render = render && valueCount(c) < 1<<16
		}
		got := make([]string, len(cols))
		for i, c := range cols {
			if c.Len() != rows {
				t.Errorf("column %d: %d rows, want %d", i, c.Len(), rows)
			}
			if err := at.Validate(c); err != nil {
				t.Errorf("column %d: %v", i, err)
			}
			if render {
				got[i] = at.DataJSON(c) // reads every value
			}
			c.Release()
		}
		// Blocks decoded from an index, here copies of this one indexed in lock
		// step, end as Decode ends them.
		if render && take == count && d.Lanes() > 1 {
			copies := 2 + int(mask)%3
			group := make([]Block, copies)
			for i := range group {
				group[i] = Block{Data: data, Count: int64(count)}
			}
			for i, ix := range d.Index(group) {
				ierr := d.DecodeIndexed(data, int64(count), ix)
				if (ierr == nil) != (err == nil) || ierr != nil && ierr.Error() != err.Error() {
					t.Fatalf("copy %d decoded from an index: error %v, Decode: %v", i, ierr, err)
				}
				icols, _ := d.Finish()
				for j, c := range icols {
					if v := at.DataJSON(c); v != got[j] {
						t.Fatalf("copy %d decoded from an index: column %d = %s, Decode: %s", i, j, v, got[j])
					}
					c.Release()
				}
			}
		}
		d.Release()

		// Where decoding every column succeeds, skipping the unselected ones must
		// too, with the same values: skip programs consume exactly a field's bytes.
		all, _ := s.Resolve(nil)
		full := New(s, all, alloc)
		if render && full.Decode(data, int64(count), int64(take)) == nil {
			if err != nil {
				t.Fatalf("columns %v fail (%v) where decoding every column succeeds", sel, err)
			}
			fullCols, _ := full.Finish()
			for i, j := range sel {
				if want := at.DataJSON(fullCols[j]); got[i] != want {
					t.Fatalf("column %d with columns %v selected: %s, decoding every column: %s", j, sel, got[i], want)
				}
			}
			for _, c := range fullCols {
				c.Release()
			}
		}
		full.Release()
		if alloc.CurrentAlloc() != 0 {
			t.Fatalf("%d bytes still allocated after release", alloc.CurrentAlloc())
		}
	})
}

func TestFuzzSeedsDecode(t *testing.T) {
	for i, s := range fuzzSeeds() {
		if s.mask != 0xff || s.n != s.count {
			continue
		}
		r := decodeBlocks(t, fuzzSchemas[s.which], nil, at.Block{Count: int64(s.count), Data: s.data})
		if r.rows != int(s.count) {
			t.Errorf("seed %d: %d rows", i, r.rows)
		}
	}
}
