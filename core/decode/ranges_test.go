package decode

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
)

// twos is v as big-endian two's complement in size bytes.
func twos(v *big.Int, size int) []byte {
	m := new(big.Int).Set(v)
	if m.Sign() < 0 {
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
	}
	out := make([]byte, size)
	return m.FillBytes(out)
}

func tenTo(p int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil) }

func plus(a *big.Int, d int64) *big.Int { return new(big.Int).Add(a, big.NewInt(d)) }

// rangeCases are values at the edges of what Polars can hold for each logical
// type with a range: the good ones decode, each bad one fails its record.
var rangeCases = []struct {
	name string
	avro string
	good []any
	bad  []any
	msg  string // in the error of every bad value
}{
	{"time-millis", `{"type":"int","logicalType":"time-millis"}`,
		[]any{int32(0), int32(msPerDay - 1)},
		[]any{int32(-1), int32(msPerDay), int32(25 * 3_600_000), int32(math.MinInt32), int32(math.MaxInt32)},
		"outside a day [0, 86400000)"},
	{"time-micros", `{"type":"long","logicalType":"time-micros"}`,
		[]any{int64(0), int64(usPerDay - 1)},
		[]any{int64(-1), int64(usPerDay), int64(math.MaxInt64), int64(math.MinInt64)},
		"outside a day [0, 86400000000)"},
	{"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`,
		[]any{twos(big.NewInt(9999), 2), twos(big.NewInt(-9999), 2), []byte{}},
		[]any{twos(big.NewInt(123456), 3), twos(big.NewInt(10000), 2), twos(big.NewInt(-10000), 2)},
		"has more than 4 digits"},
	{"decimal fixed", `{"type":"fixed","name":"d","size":8,"logicalType":"decimal","precision":18,"scale":0}`,
		[]any{at.Fixed(twos(plus(tenTo(18), -1), 8)), at.Fixed(twos(plus(tenTo(18), -1).Neg(plus(tenTo(18), -1)), 8))},
		[]any{at.Fixed(twos(tenTo(18), 8)), at.Fixed(twos(big.NewInt(math.MaxInt64), 8)), at.Fixed(twos(big.NewInt(math.MinInt64), 8))},
		"decimal(18,0) value"},
	{"decimal 38", `{"type":"fixed","name":"d","size":16,"logicalType":"decimal","precision":38,"scale":10}`,
		[]any{at.Fixed(twos(plus(tenTo(38), -1), 16)), at.Fixed(twos(new(big.Int).Neg(plus(tenTo(38), -1)), 16))},
		[]any{at.Fixed(twos(tenTo(38), 16)), at.Fixed(twos(new(big.Int).Neg(tenTo(38)), 16)),
			at.Fixed(twos(new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127)), 16))},
		"has more than 38 digits"},
}

func TestValueRanges(t *testing.T) {
	for _, c := range rangeCases {
		for _, wrap := range []string{"%s", `["null",%s]`, `{"type":"array","items":%s}`} {
			typ := strings.Replace(wrap, "%s", c.avro, 1)
			value := func(v any) any {
				switch {
				case strings.HasPrefix(wrap, `["null"`):
					return at.U(1, v)
				case strings.HasPrefix(wrap, `{"type":"array"`):
					return []any{v}
				}
				return v
			}
			t.Run(c.name+" "+strings.Replace(wrap, "%s", "T", 1), func(t *testing.T) {
				text := record(`"long"`, typ, `"long"`)
				rows := make([][]any, len(c.good))
				for i, v := range c.good {
					rows[i] = []any{int64(i), value(v), int64(i)}
				}
				if r := decodeBlocks(t, text, nil, at.Rows(rows...)); r.rows != len(c.good) {
					t.Fatalf("good values: %d rows", r.rows)
				}
				for _, v := range c.bad {
					// The bad value in the second record: the error names it.
					blk := at.Rows([]any{int64(0), value(c.good[0]), int64(0)}, []any{int64(1), value(v), int64(1)})
					for _, sel := range [][]string{nil, {"f1"}, {"f1", "f2"}} {
						s := mustParse(t, text)
						alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
						d := New(s, resolve(t, s, sel), alloc)
						err := d.Decode(blk.Data, blk.Count, blk.Count)
						var re *RecordError
						if !errors.As(err, &re) || re.Record != 1 || re.Column != "f1" || !strings.Contains(err.Error(), c.msg) {
							t.Errorf("value %v, columns %v: got %v, want record 1, column f1, %q", v, sel, err, c.msg)
						}
						if d.Rows() != 0 {
							t.Errorf("%d rows after the error", d.Rows())
						}
						d.Release()
						alloc.AssertSize(t, 0)
					}
				}
			})
		}
	}
}

// The error shows a decimal with its scale.
func TestDecimalErrorValue(t *testing.T) {
	text := record(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`)
	s := mustParse(t, text)
	for v, want := range map[int64]string{123456: "1234.56", -123456: "-1234.56", 10000: "100.00"} {
		d := New(s, []int{0}, memory.NewGoAllocator())
		blk := at.Rows([]any{twos(big.NewInt(v), 3)})
		err := d.Decode(blk.Data, 1, 1)
		if err == nil || !strings.Contains(err.Error(), "value "+want+" has more than 4 digits") {
			t.Errorf("%d: %v", v, err)
		}
	}
	if got := formatDecimal(5, 0, 3); got != "0.005" {
		t.Errorf("formatDecimal(5, scale 3) = %s", got)
	}
}

// Blocks decoded from an index report a bad value like Decode does: with the
// column and the record.
func TestValueRangeIndexed(t *testing.T) {
	text := record(`"string"`, `{"type":"int","logicalType":"time-millis"}`, `"long"`)
	s := mustParse(t, text)
	var rows [][]any
	for i := 0; i < 50; i++ {
		ms := int32(i)
		if i == 37 {
			ms = -5
		}
		rows = append(rows, []any{"skipped", ms, int64(i)})
	}
	blk := at.Rows(rows...)
	d := New(s, resolve(t, s, []string{"f1"}), memory.NewGoAllocator())
	group := []Block{{Data: blk.Data, Count: blk.Count}, {Data: blk.Data, Count: blk.Count}}
	for _, ix := range d.Index(group) {
		if ix == nil {
			t.Fatal("the block was not indexed")
		}
		err := d.DecodeIndexed(blk.Data, blk.Count, ix)
		var re *RecordError
		if !errors.As(err, &re) || re.Record != 37 || re.Column != "f1" || !strings.Contains(err.Error(), "time-millis value -5") {
			t.Errorf("got %v", err)
		}
	}
	d.Release()
}
