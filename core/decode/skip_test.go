package decode

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
)

// flatSchema has a field of every kind a skip program handles inline, nullable
// ones with null first and last, runs of fixed-size fields that merge into one
// jump, and nested records that are flattened into the program.
var flatSchema = record(`"boolean"`, `"float"`, `"double"`, `{"type":"fixed","name":"F4","size":4}`,
	`"int"`, `"long"`, `"string"`, `"bytes"`, `{"type":"enum","name":"E","symbols":["a","b","c"]}`,
	`["null","double"]`, `["long","null"]`, `["null","string"]`, `"null"`,
	`{"type":"record","name":"In","fields":[{"name":"a","type":"double"},{"name":"b","type":{"type":"record","name":"Deep","fields":[{"name":"c","type":"boolean"},{"name":"d","type":"string"}]}}]}`,
	`["null",{"type":"record","name":"Opt","fields":[{"name":"x","type":"long"}]}]`,
	`{"type":"array","items":"long"}`, `["int"]`, `"long"`)

func flatRow(i int) []any {
	nullable := func(v any) at.Union {
		if i%3 == 0 {
			return at.U(0, nil)
		}
		return at.U(1, v)
	}
	last := at.U(0, int64(i)*-987654321)
	if i%4 == 1 {
		last = at.U(1, nil)
	}
	return []any{
		i%2 == 0, float32(i) / 4, math.Ldexp(float64(i), 40), at.Fixed("wxyz"),
		int32(i * 1000003), int64(i) << uint(i%60), fmt.Sprintf("ünï%d", i), []byte{byte(i), 0xff},
		at.Enum(i % 3),
		nullable(float64(i)), last, nullable("maybe"), nil,
		at.Raw(at.Encode(nil, float64(i), i%2 == 1, "deep")),
		nullable(at.Raw(at.Encode(nil, int64(i)))),
		[]any{int64(i), int64(-i)}, at.U(0, int32(i)), int64(math.MaxInt64 - i),
	}
}

// Skipping all but one column must leave that column exactly as a full decode
// gives it, for every column: the program consumed each field's bytes exactly.
func TestSkipProgramMatchesFullDecode(t *testing.T) {
	var rows [][]any
	for i := 0; i < 40; i++ {
		rows = append(rows, flatRow(i))
	}
	blk := at.Rows(rows...)
	all := decodeBlocks(t, flatSchema, nil, blk)
	n := len(flatRow(0))
	for keep := 0; keep < n; keep++ {
		sels := [][]string{{fmt.Sprintf("f%d", keep)}}
		if keep != n-1 {
			sels = append(sels, []string{fmt.Sprintf("f%d", keep), fmt.Sprintf("f%d", n-1)})
		}
		for _, sel := range sels {
			r := decodeBlocks(t, flatSchema, sel, blk)
			if r.cols[0] != all.cols[keep] {
				t.Errorf("select %v: f%d = %s, want %s", sel, keep, r.cols[0], all.cols[keep])
			}
		}
	}
}

func TestSkipProgramMergesFixedRuns(t *testing.T) {
	s := mustParse(t, flatSchema)
	p := compileSkips(s.Columns[:4]).ops
	if len(p) != 1 || p[0].kind != skipFixed || p[0].n != 1+4+8+4 {
		t.Errorf("boolean, float, double, fixed[4] compiled to %+v, want one 17-byte jump", p)
	}
	// A non-nullable record is inlined: double, boolean, string -> a 9-byte jump and a string.
	p = compileSkips(s.Columns[13:14]).ops
	if len(p) != 2 || p[0].kind != skipFixed || p[0].n != 9 || p[1].kind != skipBytes {
		t.Errorf("record In compiled to %+v", p)
	}
	// [null, double], [long, null], [null, string] keep their branch bytes.
	p = compileSkips(s.Columns[9:12]).ops
	want := []skipOp{{kind: skipNullFixed, nullByte: 0, valByte: 2, n: 8}, {kind: skipNullVarint, nullByte: 2, valByte: 0}, {kind: skipNullBytes, nullByte: 0, valByte: 2}}
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Errorf("nullable fields compiled to %+v, want %+v", p, want)
	}
}

// Every truncation of a block fails when skipping, as in a full decode, at the
// same record: skipping is no laxer about bad data. (The messages may differ:
// a decoder checks an array's item count against the bytes left, a skipper
// runs into the end.)
func TestSkipProgramTruncated(t *testing.T) {
	blk := at.Rows(flatRow(1), flatRow(2))
	s := mustParse(t, flatSchema)
	for cut := 0; cut < len(blk.Data); cut++ {
		full := New(s, resolve(t, s, nil), memory.NewGoAllocator())
		skip := New(s, resolve(t, s, []string{}), memory.NewGoAllocator())
		errFull := full.Decode(blk.Data[:cut], 2, 2)
		errSkip := skip.Decode(blk.Data[:cut], 2, 2)
		if errSkip == nil {
			t.Fatalf("cut at %d: skipping decoded a truncated block", cut)
		}
		var reFull, reSkip *RecordError
		if !errors.As(errFull, &reFull) || !errors.As(errSkip, &reSkip) || reFull.Record != reSkip.Record {
			t.Errorf("cut at %d: full decode says %v, skipping says %v", cut, errFull, errSkip)
		}
		full.Release()
		skip.Release()
	}
}

func TestSkipVarintAt(t *testing.T) {
	for _, v := range []int64{0, -1, 63, -64, 64, 1 << 20, -(1 << 40), math.MaxInt64, math.MinInt64} {
		enc := at.AppendLong(nil, v)
		for _, pad := range []int{0, 1, 12} {
			buf := append(append([]byte{}, enc...), make([]byte, pad)...)
			if got := skipVarintAt(buf, 0); got != len(enc) {
				t.Errorf("%d with %d bytes after: skipped to %d, want %d", v, pad, got, len(enc))
			}
		}
		if got := skipVarintAt(enc[:len(enc)-1], 0); got != varintShort {
			t.Errorf("%d cut short: %d, want varintShort", v, got)
		}
	}
	over := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0}
	if got := skipVarintAt(over, 0); got != varintBad {
		t.Errorf("65-bit varint: %d, want varintBad", got)
	}
	long := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}
	if got := skipVarintAt(long, 0); got != varintBad {
		t.Errorf("11-byte varint: %d, want varintBad", got)
	}
}
