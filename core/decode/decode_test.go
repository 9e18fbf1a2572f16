package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/schema"
)

// record wraps field types (JSON) as the fields f0, f1, ... of a record.
func record(types ...string) string {
	fields := make([]string, len(types))
	for i, t := range types {
		fields[i] = fmt.Sprintf(`{"name":"f%d","type":%s}`, i, t)
	}
	return `{"type":"record","name":"top","fields":[` + strings.Join(fields, ",") + `]}`
}

func mustParse(t testing.TB, text string) *schema.Schema {
	t.Helper()
	s, err := schema.Parse([]byte(text))
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return s
}

func resolve(t testing.TB, s *schema.Schema, cols []string) []int {
	t.Helper()
	sel, err := s.Resolve(cols)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// result is what a decode produced: each selected column as JSON.
type result struct {
	rows int
	cols []string
}

// finish ends a batch: it validates the arrays, renders them as JSON and
// releases them.
func finish(t testing.TB, d *Decoder) result {
	t.Helper()
	data, n := d.Finish()
	res := result{rows: n}
	for i, c := range data {
		if err := at.Validate(c); err != nil {
			t.Errorf("column %d: invalid Arrow data: %v", i, err)
		}
		if c.Len() != n {
			t.Errorf("column %d has %d rows, decoder says %d", i, c.Len(), n)
		}
		if !arrow.TypeEqual(c.DataType(), d.Fields()[i].Type) {
			t.Errorf("column %d is %s, field says %s", i, c.DataType(), d.Fields()[i].Type)
		}
		res.cols = append(res.cols, at.DataJSON(c))
		c.Release()
	}
	return res
}

// decodeBlocks decodes whole blocks into the named columns (nil: all) and checks
// that nothing leaks once everything is released.
func decodeBlocks(t testing.TB, text string, cols []string, blocks ...at.Block) result {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s := mustParse(t, text)
	d := New(s, resolve(t, s, cols), alloc)
	defer d.Release()
	for i, b := range blocks {
		if err := d.Decode(b.Data, b.Count, b.Count); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
	}
	return finish(t, d)
}

// longsJSON is the JSON of the column 0, 1, ..., n-1.
func longsJSON(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

var (
	linkedList = `{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"]}]}`
	tree       = `{"type":"record","name":"Tree","fields":[{"name":"label","type":"string"},{"name":"kids","type":{"type":"array","items":"Tree"}}]}`
)

// node encodes a linked-list Node (see linkedList) holding vs.
func node(vs ...int64) at.Raw {
	var out []byte
	for i, v := range vs {
		out = at.Encode(out, v)
		if i == len(vs)-1 {
			out = at.Encode(out, at.U(0, nil))
		} else {
			out = at.AppendLong(out, 1)
		}
	}
	return out
}

// typeCases are values of every type and what they decode to, as Arrow's JSON:
// struct values render as objects with sorted keys (whatever the field order),
// timestamps always with a "Z", binary as base64. The Arrow types themselves are
// checked against the schema's fields by finish.
var typeCases = []struct {
	name string
	avro string
	vals []any
	want string
}{
	{"null", `"null"`, []any{nil, nil}, `[null,null]`},
	{"boolean", `"boolean"`, []any{true, false, true}, `[true,false,true]`},
	{"int", `"int"`, []any{int32(0), int32(-1), int32(math.MaxInt32), int32(math.MinInt32)}, `[0,-1,2147483647,-2147483648]`},
	{"long", `"long"`, []any{int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64)}, `[0,-1,9223372036854775807,-9223372036854775808]`},
	{"float", `"float"`, []any{float32(1.5), float32(-2), float32(math.MaxFloat32)}, `[1.5,-2,3.4028235e+38]`},
	{"double", `"double"`, []any{0.25, -1e300, math.SmallestNonzeroFloat64}, `[0.25,-1e+300,5e-324]`},
	{"bytes", `"bytes"`, []any{[]byte{}, []byte("hi\x00"), []byte{0xff}}, `["","aGkA","/w=="]`},
	{"string", `"string"`, []any{"", "héllo", "日本", strings.Repeat("x", 300)}, `["","héllo","日本","` + strings.Repeat("x", 300) + `"]`},
	{"fixed", `{"type":"fixed","name":"f3","size":3}`, []any{at.Fixed("abc"), at.Fixed{0, 0, 0}}, `["YWJj","AAAA"]`},
	{"enum", `{"type":"enum","name":"E","symbols":["A","B","C"]}`, []any{at.Enum(2), at.Enum(0), at.Enum(2)}, `["C","A","C"]`},
	{"date", `{"type":"int","logicalType":"date"}`, []any{int32(0), int32(19000), int32(-1)}, `["1970-01-01","2022-01-08","1969-12-31"]`},
	{"time-millis", `{"type":"int","logicalType":"time-millis"}`, []any{int32(0), int32(3723004)}, `["00:00:00","01:02:03.004"]`},
	{"time-micros", `{"type":"long","logicalType":"time-micros"}`, []any{int64(1), int64(86399999999)}, `["00:00:00.000001","23:59:59.999999"]`},
	{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, []any{int64(1000), int64(-1)}, `["1970-01-01 00:00:01Z","1969-12-31 23:59:59.999Z"]`},
	{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, []any{int64(1_600_000_000_000_001)}, `["2020-09-13 12:26:40.000001Z"]`},
	{"timestamp-nanos", `{"type":"long","logicalType":"timestamp-nanos"}`, []any{int64(1)}, `["1970-01-01 00:00:00.000000001Z"]`},
	{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`, []any{int64(1500)}, `["1970-01-01 00:00:01.5Z"]`},
	{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`, []any{int64(2)}, `["1970-01-01 00:00:00.000002Z"]`},
	{"local-timestamp-nanos", `{"type":"long","logicalType":"local-timestamp-nanos"}`, []any{int64(3)}, `["1970-01-01 00:00:00.000000003Z"]`},
	{"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`,
		[]any{[]byte{0x04, 0xd2}, []byte{0xfb, 0x2e}, []byte{}, []byte{0x00}, []byte{0x7f}, []byte{0x80},
			// 17 bytes: wider than 128 bits but only sign-extended, so it fits.
			append([]byte{0xff}, bytes.Repeat([]byte{0xff}, 16)...)},
		`["12.34","-12.34","0","0","1.27","-1.28","-0.01"]`},
	{"decimal fixed", `{"type":"fixed","name":"d8","size":8,"logicalType":"decimal","precision":18,"scale":3}`,
		[]any{at.Fixed{0, 0, 0, 0, 0, 0, 0x30, 0x39}, at.Fixed{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, `["12.345","-0.001"]`},
	{"decimal fixed 16", `{"type":"fixed","name":"d16","size":16,"logicalType":"decimal","precision":38,"scale":0}`,
		[]any{at.Fixed(append(bytes.Repeat([]byte{0}, 15), 7)),
			at.Fixed{0, 0, 0, 0, 0, 0, 0, 0, 171, 84, 169, 140, 235, 31, 10, 210},
			at.Fixed{255, 255, 255, 255, 255, 255, 253, 98, 189, 73, 177, 137, 142, 189, 187, 53}},
		`["7","12345678901234567890","-12345678901234567890123"]`},
	{"uuid string", `{"type":"string","logicalType":"uuid"}`, []any{"123e4567-e89b-12d3-a456-426614174000"}, `["123e4567-e89b-12d3-a456-426614174000"]`},
	{"uuid fixed", `{"type":"fixed","name":"u","size":16,"logicalType":"uuid"}`,
		[]any{at.Fixed{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}},
		`["00112233-4455-6677-8899-aabbccddeeff"]`},
	{"duration", `{"type":"fixed","name":"dur","size":12,"logicalType":"duration"}`,
		[]any{at.Fixed{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}, at.Fixed{0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 1}},
		`[{"days":2,"millis":3,"months":1},{"days":256,"millis":16777216,"months":4294967295}]`},
	{"unknown logical type", `{"type":"string","logicalType":"color"}`, []any{"red"}, `["red"]`},
	{"array", `{"type":"array","items":"int"}`,
		[]any{[]any{}, []any{int32(1), int32(2), int32(3)}, at.Array{Items: []any{int32(4), int32(5), int32(6)}, BlockLen: 2},
			at.Array{Items: []any{int32(7), int32(8), int32(9)}, BlockLen: 2, Sized: true}},
		`[[],[1,2,3],[4,5,6],[7,8,9]]`},
	{"array of arrays", `{"type":"array","items":{"type":"array","items":"string"}}`,
		[]any{[]any{[]any{"a"}, []any{}, []any{"b", "c"}}, []any{}}, `[[["a"],[],["b","c"]],[]]`},
	{"array of nullable", `{"type":"array","items":["null","long"]}`,
		[]any{[]any{at.U(1, int64(1)), at.U(0, nil), at.U(1, int64(3))}}, `[[1,null,3]]`},
	{"array of null", `{"type":"array","items":"null"}`, []any{[]any{nil, nil, nil}, []any{}}, `[[null,null,null],[]]`},
	{"map", `{"type":"map","values":"long"}`,
		[]any{map[string]any{}, map[string]any{"a": int64(1), "b": int64(2)},
			at.Map{Entries: []at.KV{{Key: "x", Value: int64(7)}, {Key: "y", Value: int64(8)}, {Key: "z", Value: int64(9)}}, BlockLen: 2, Sized: true}},
		`[[],[{"key":"a","value":1},{"key":"b","value":2}],[{"key":"x","value":7},{"key":"y","value":8},{"key":"z","value":9}]]`},
	{"map of records", `{"type":"map","values":{"type":"record","name":"P","fields":[{"name":"x","type":"int"},{"name":"s","type":["null","string"]}]}}`,
		[]any{map[string]any{"k": at.Raw(at.Encode(nil, int32(1), at.U(1, "v")))}, map[string]any{"n": at.Raw(at.Encode(nil, int32(2), at.U(0, nil)))}},
		`[[{"key":"k","value":{"s":"v","x":1}}],[{"key":"n","value":{"s":null,"x":2}}]]`},
	{"record", `{"type":"record","name":"In","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"},{"name":"c","type":{"type":"record","name":"Deep","fields":[{"name":"z","type":"boolean"}]}}]}`,
		[]any{at.Raw(at.Encode(nil, int32(1), "x", true)), at.Raw(at.Encode(nil, int32(-2), "", false))},
		`[{"a":1,"b":"x","c":{"z":true}},{"a":-2,"b":"","c":{"z":false}}]`},
	{"nullable long", `["null","long"]`, []any{at.U(1, int64(5)), at.U(0, nil), at.U(1, int64(-5))}, `[5,null,-5]`},
	{"nullable, null second", `["string","null"]`, []any{at.U(1, nil), at.U(0, "s"), at.U(1, nil)}, `[null,"s",null]`},
	{"nullable boolean", `["null","boolean"]`, []any{at.U(1, true), at.U(0, nil), at.U(1, false)}, `[true,null,false]`},
	{"nullable enum", `["null",{"type":"enum","name":"E2","symbols":["X","Y"]}]`, []any{at.U(0, nil), at.U(1, at.Enum(1))}, `[null,"Y"]`},
	{"nullable record", `["null",{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"l","type":{"type":"array","items":"int"}}]}]`,
		[]any{at.U(1, at.Raw(at.Encode(nil, int32(1), []any{int32(2)}))), at.U(0, nil)}, `[{"a":1,"l":[2]},null]`},
	{"nullable array", `["null",{"type":"array","items":"long"}]`, []any{at.U(0, nil), at.U(1, []any{int64(1)})}, `[null,[1]]`},
	{"nullable map", `["null",{"type":"map","values":"string"}]`, []any{at.U(1, map[string]any{"a": "b"}), at.U(0, nil)}, `[[{"key":"a","value":"b"}],null]`},
	{"nullable decimal", `["null",{"type":"bytes","logicalType":"decimal","precision":4,"scale":1}]`, []any{at.U(0, nil), at.U(1, []byte{0x0c})}, `[null,"1.2"]`},
	{"nullable duration", `["null",{"type":"fixed","name":"du","size":12,"logicalType":"duration"}]`,
		[]any{at.U(0, nil), at.U(1, at.Fixed{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})}, `[null,{"days":0,"millis":0,"months":1}]`},
	{"single-branch union", `["int"]`, []any{at.U(0, int32(4)), at.U(0, int32(5))}, `[4,5]`},
	{"general union", `["null","int","string"]`, []any{at.U(1, int32(3)), at.U(0, nil), at.U(2, "s")},
		`[{"int":3,"string":null},null,{"int":null,"string":"s"}]`},
	{"union without null", `["string","long","boolean"]`, []any{at.U(2, true), at.U(1, int64(9)), at.U(0, "a")},
		`[{"boolean":true,"long":null,"string":null},{"boolean":null,"long":9,"string":null},{"boolean":null,"long":null,"string":"a"}]`},
	{"union of records", `[{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"b","type":"string"}]}]`,
		[]any{at.U(1, "x"), at.U(0, int32(1))}, `[{"A":null,"B":{"b":"x"}},{"A":{"a":1},"B":null}]`},
	{"union with array", `["null",{"type":"array","items":"int"},"string"]`, []any{at.U(1, []any{int32(1), int32(2)}), at.U(2, "s"), at.U(0, nil)},
		`[{"array":[1,2],"string":null},{"array":null,"string":"s"},null]`},
	{"recursive in array", `{"type":"array","items":` + tree + `}`,
		[]any{[]any{at.Raw(at.Encode(nil, "root", []any{at.Raw(at.Encode(nil, "leaf", []any{}))}))}},
		`[[{"kids":["{\"label\":\"leaf\",\"kids\":[]}"],"label":"root"}]]`},
}

// TestTypes decodes each type as the first field of a record whose second field
// is a long counter: the counter proves that decoding and skipping the first
// field consume exactly its bytes.
func TestTypes(t *testing.T) {
	for _, c := range typeCases {
		t.Run(c.name, func(t *testing.T) {
			text := record(c.avro, `"long"`)
			rows := make([][]any, len(c.vals))
			for i, v := range c.vals {
				rows[i] = []any{v, int64(i)}
			}
			blk := at.Rows(rows...)
			counter := longsJSON(len(rows))

			all := decodeBlocks(t, text, nil, blk)
			if all.rows != len(rows) || all.cols[0] != c.want || all.cols[1] != counter {
				t.Errorf("decoded %d rows:\n got %s %s\nwant %s %s", all.rows, all.cols[0], all.cols[1], c.want, counter)
			}
			skipped := decodeBlocks(t, text, []string{"f1"}, blk)
			if skipped.cols[0] != counter {
				t.Errorf("with f0 skipped, f1 = %s", skipped.cols[0])
			}
			only := decodeBlocks(t, text, []string{"f0"}, blk)
			if only.cols[0] != c.want {
				t.Errorf("f0 alone = %s", only.cols[0])
			}
		})
	}
}

func TestNaNAndInfinity(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s := mustParse(t, record(`"float"`, `"double"`))
	d := New(s, resolve(t, s, nil), alloc)
	defer d.Release()
	b := at.Rows([]any{float32(math.NaN()), math.Inf(-1)}, []any{float32(math.Inf(1)), math.NaN()})
	if err := d.Decode(b.Data, 2, 2); err != nil {
		t.Fatal(err)
	}
	data, _ := d.Finish()
	f := array.NewFloat32Data(data[0])
	g := array.NewFloat64Data(data[1])
	defer f.Release()
	defer g.Release()
	for _, d := range data {
		d.Release()
	}
	if !math.IsNaN(float64(f.Value(0))) || !math.IsInf(float64(f.Value(1)), 1) || !math.IsInf(g.Value(0), -1) || !math.IsNaN(g.Value(1)) {
		t.Errorf("got %v %v", f, g)
	}
}

func TestTopLevelNonRecord(t *testing.T) {
	r := decodeBlocks(t, `"string"`, nil, at.Rows([]any{"a"}, []any{"b"}))
	if r.cols[0] != `["a","b"]` {
		t.Errorf("got %s", r.cols[0])
	}
	r = decodeBlocks(t, `{"type":"map","values":"int"}`, []string{"value"}, at.Rows([]any{map[string]any{"k": int32(1)}}))
	if r.cols[0] != `[[{"key":"k","value":1}]]` {
		t.Errorf("got %s", r.cols[0])
	}
}

func TestRecursiveJSON(t *testing.T) {
	// The top-level record's own back-references are JSON; its plain fields are not.
	blk := at.Rows(
		[]any{int64(1), at.U(1, node(2, 3))},
		[]any{int64(4), at.U(0, nil)},
	)
	r := decodeBlocks(t, linkedList, nil, blk)
	if r.cols[0] != `[1,4]` || r.cols[1] != `["{\"v\":2,\"next\":{\"v\":3,\"next\":null}}",null]` {
		t.Errorf("got %s %s", r.cols[0], r.cols[1])
	}
	r = decodeBlocks(t, linkedList, []string{"v"}, blk)
	if r.cols[0] != `[1,4]` {
		t.Errorf("with next skipped: %s", r.cols[0])
	}
}

// Every Avro type inside a recursive value is rendered as valid JSON.
func TestRecursiveJSONAllTypes(t *testing.T) {
	everything := `{"type":"record","name":"E","fields":[
		{"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"f","type":"float"},{"name":"d","type":"double"},
		{"name":"by","type":"bytes"},{"name":"s","type":"string"},{"name":"fx","type":{"type":"fixed","name":"F2","size":2}},
		{"name":"en","type":{"type":"enum","name":"En","symbols":["P","Q"]}},{"name":"n","type":"null"},
		{"name":"a","type":{"type":"array","items":"int"}},{"name":"m","type":{"type":"map","values":"E"}},
		{"name":"u","type":["null","string","E"]}]}`
	inner := at.Raw(at.Encode(nil, false, int32(0), float32(0), 0.0, []byte{}, "", at.Fixed{0, 0}, at.Enum(0), nil,
		[]any{}, map[string]any{}, at.U(0, nil)))
	outer := at.Raw(at.Encode(nil, true, int32(-7), float32(math.Inf(1)), math.NaN(), []byte("a\"\x01\xff"), "q\"é\n\x01\x7f\\",
		at.Fixed{'x', 0x7f}, at.Enum(1), nil, at.Array{Items: []any{int32(1), int32(2)}, BlockLen: 1, Sized: true},
		map[string]any{"k\x02": inner}, at.U(1, "str")))
	// Top-level E: column "u" is a union whose E branch is JSON; it holds outer.
	row := at.Encode(nil, false, int32(0), float32(0), 0.0, []byte{}, "", at.Fixed{0, 0}, at.Enum(0), nil,
		[]any{}, map[string]any{}, at.U(2, outer))

	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s := mustParse(t, everything)
	d := New(s, resolve(t, s, []string{"u"}), alloc)
	defer d.Release()
	if err := d.Decode(row, 1, 1); err != nil {
		t.Fatal(err)
	}
	data, _ := d.Finish()
	defer data[0].Release()
	ejson := array.NewStringViewData(data[0].Children()[1])
	defer ejson.Release()
	got := ejson.Value(0)

	want := `{"b":true,"i":-7,"f":"Infinity","d":"NaN","by":"a\"\u0001\u00ff","s":"q\"é\n\u0001\u007f\\","fx":"x\u007f","en":"Q","n":null,"a":[1,2],` +
		`"m":{"k\u0002":{"b":false,"i":0,"f":0,"d":0,"by":"","s":"","fx":"\u0000\u0000","en":"P","n":null,"a":[],"m":{},"u":null}},"u":"str"}`
	if !json.Valid([]byte(got)) {
		t.Errorf("not valid JSON: %s", got)
	}
	if got != want {
		t.Errorf("recursive JSON:\n got %s\nwant %s", got, want)
	}
}

func TestPartialBlock(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s := mustParse(t, record(`"long"`, `"string"`))
	d := New(s, resolve(t, s, nil), alloc)
	defer d.Release()
	blk := at.Rows([]any{int64(1), "a"}, []any{int64(2), "b"}, []any{int64(3), "c"})
	// Only the first two records: the bytes of the third are not checked.
	if err := d.Decode(append(bytes.Clone(blk.Data), 0xff, 0xff), 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(blk.Data, 3, 0); err != nil {
		t.Fatal(err)
	}
	r := finish(t, d)
	if r.rows != 2 || r.cols[0] != `[1,2]` || r.cols[1] != `["a","b"]` {
		t.Errorf("got %d rows %v", r.rows, r.cols)
	}
}

func TestTrailingBytes(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s := mustParse(t, record(`"long"`))
	d := New(s, resolve(t, s, nil), alloc)
	defer d.Release()
	blk := at.Longs(0, 3)
	err := d.Decode(append(blk.Data, 0), 3, 3)
	var re *RecordError
	if !errors.As(err, &re) || re.Record != 2 || !strings.Contains(err.Error(), "1 bytes left over") {
		t.Fatalf("got %v", err)
	}
	if d.Rows() != 0 {
		t.Errorf("rows after a failed block: %d", d.Rows())
	}
	// Too few bytes for the count is an error in the first record that runs short.
	err = d.Decode(blk.Data, 4, 4)
	if !errors.As(err, &re) || re.Record != 3 {
		t.Fatalf("got %v", err)
	}
	finish(t, d)
}

// A failing block leaves the rows of earlier blocks exactly as they were, for every
// kind of column, including ones that had appended part of the bad record.
func TestRollback(t *testing.T) {
	text := record(`"boolean"`, `["null","string"]`, `{"type":"array","items":["null","int"]}`,
		`{"type":"map","values":"long"}`, `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"bytes"}]}`,
		`["null","int","string"]`, `{"type":"enum","name":"E","symbols":["A","B"]}`, `"null"`,
		`{"type":"fixed","name":"dur","size":12,"logicalType":"duration"}`, `["null","boolean"]`, `"long"`)
	dur := at.Fixed{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}
	row := func(i int64, null bool) []any {
		if null {
			return []any{false, at.U(0, nil), []any{at.U(0, nil)}, map[string]any{}, at.Raw(at.Encode(nil, int32(i), []byte{})),
				at.U(0, nil), at.Enum(0), nil, dur, at.U(0, nil), i}
		}
		return []any{true, at.U(1, "s"), []any{at.U(1, int32(i))}, map[string]any{"k": i}, at.Raw(at.Encode(nil, int32(i), []byte("b"))),
			at.U(2, "u"), at.Enum(1), nil, dur, at.U(1, true), i}
	}
	good := at.Rows(row(0, false), row(1, false))
	// Two records with nulls (materialising validity bitmaps that did not exist
	// before), then a record cut off in its last field.
	badRows := at.Rows(row(2, true), row(3, true), row(4, false))
	bad := at.Block{Count: 3, Data: badRows.Data[:len(badRows.Data)-1]}
	after := at.Rows(row(5, false))

	want := decodeBlocks(t, text, nil, good, after)

	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	s := mustParse(t, text)
	d := New(s, resolve(t, s, nil), alloc)
	defer d.Release()
	if err := d.Decode(good.Data, 2, 2); err != nil {
		t.Fatal(err)
	}
	err := d.Decode(bad.Data, 3, 3)
	var re *RecordError
	if !errors.As(err, &re) || re.Record != 2 {
		t.Fatalf("bad block: %v", err)
	}
	if d.Rows() != 2 {
		t.Fatalf("rows after rollback: %d", d.Rows())
	}
	if err := d.Decode(after.Data, 1, 1); err != nil {
		t.Fatal(err)
	}
	got := finish(t, d)
	for i := range want.cols {
		if got.cols[i] != want.cols[i] {
			t.Errorf("column %d after rollback:\n got %s\nwant %s", i, got.cols[i], want.cols[i])
		}
	}

	// A failure in the very first block of a batch leaves an empty batch.
	if err := d.Decode(bad.Data, 3, 3); err == nil {
		t.Fatal("bad block decoded")
	}
	if r := finish(t, d); r.rows != 0 {
		t.Errorf("rows %d", r.rows)
	}
}

func TestProjection(t *testing.T) {
	text := record(`"long"`, `{"type":"array","items":{"type":"map","values":["null","string"]}}`, `"string"`,
		`["null","int","string"]`, linkedList, `{"type":"fixed","name":"F","size":5}`, `"double"`)
	var rows [][]any
	for i := 0; i < 5; i++ {
		rows = append(rows, []any{
			int64(i),
			at.Array{Items: []any{at.Map{Entries: []at.KV{{Key: "a", Value: at.U(1, "x")}, {Key: "b", Value: at.U(0, nil)}}, Sized: true}}, Sized: i%2 == 0},
			fmt.Sprint("s", i),
			at.U(i%3, []any{nil, int32(i), "t"}[i%3]),
			at.Raw(at.Encode(nil, int64(i), at.U(1, node(int64(i)+1)))),
			at.Fixed("abcde"),
			float64(i) / 2,
		})
	}
	blk := at.Rows(rows...)
	all := decodeBlocks(t, text, nil, blk)
	for _, sel := range [][]string{{"f6", "f0"}, {"f2"}, {"f4"}, {"f1", "f3", "f5"}, {"f6"}} {
		r := decodeBlocks(t, text, sel, blk)
		for k, name := range sel {
			var i int
			fmt.Sscanf(name, "f%d", &i)
			if r.cols[k] != all.cols[i] {
				t.Errorf("select %v: %s = %s, want %s", sel, name, r.cols[k], all.cols[i])
			}
		}
	}
	// No columns at all: records are still checked and counted.
	r := decodeBlocks(t, text, []string{}, blk)
	if r.rows != 5 || len(r.cols) != 0 {
		t.Errorf("no columns: %d rows, %d columns", r.rows, len(r.cols))
	}
	s := mustParse(t, text)
	d := New(s, []int{}, memory.NewGoAllocator())
	if err := d.Decode(blk.Data[:len(blk.Data)-3], 5, 5); err == nil {
		t.Error("no columns: truncated block decoded")
	}
}

func TestReuseAcrossBatches(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	text := record(`"boolean"`, `["null","string"]`, `{"type":"array","items":"long"}`, `{"type":"enum","name":"E","symbols":["A","B"]}`)
	s := mustParse(t, text)
	d := New(s, resolve(t, s, nil), alloc)
	defer d.Release()
	for batch := 0; batch < 3; batch++ {
		var rows [][]any
		for i := 0; i < 100; i++ {
			v := batch*1000 + i
			var str any = at.U(0, nil)
			if v%3 != 0 {
				str = at.U(1, fmt.Sprint(v))
			}
			rows = append(rows, []any{v%2 == 0, str, []any{int64(v)}, at.Enum(v % 2)})
		}
		blk := at.Rows(rows...)
		// Several blocks per batch.
		for k := 0; k < 2; k++ {
			if err := d.Decode(blk.Data, blk.Count, blk.Count); err != nil {
				t.Fatal(err)
			}
		}
		want := decodeBlocks(t, text, nil, blk, blk)
		got := finish(t, d)
		if got.rows != 200 || fmt.Sprint(got.cols) != fmt.Sprint(want.cols) {
			t.Fatalf("batch %d differs from a fresh decoder", batch)
		}
	}
	// An unused, never-finished decoder frees everything too.
	New(s, resolve(t, s, nil), alloc).Release()
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		avro string
		data []byte
		msg  string
	}{
		{"short long", `"long"`, []byte{0x80}, "unexpected end"},
		{"varint overflow", `"long"`, bytes.Repeat([]byte{0xff}, 11), "malformed varint"},
		{"int out of range", `"int"`, at.AppendLong(nil, math.MaxInt32+1), "out of 32-bit range"},
		{"bad boolean", `"boolean"`, []byte{2}, "invalid boolean"},
		{"short float", `"float"`, []byte{0, 0}, "unexpected end"},
		{"short double", `"double"`, []byte{0, 0, 0, 0}, "unexpected end"},
		{"negative length", `"bytes"`, at.AppendLong(nil, -1), "negative length"},
		{"length past end", `"string"`, at.AppendLong(nil, 5), "unexpected end"},
		{"bad utf-8", `"string"`, at.Encode(nil, "\xff\xfe"), "UTF-8"},
		{"bad utf-8 after ascii", `"string"`, at.Encode(nil, "abcdefgh\xc3"), "UTF-8"},
		{"short fixed", `{"type":"fixed","name":"F","size":4}`, []byte{1, 2}, "unexpected end"},
		{"enum out of range", `{"type":"enum","name":"E","symbols":["A"]}`, at.AppendLong(nil, 1), "enum index 1"},
		{"enum negative", `{"type":"enum","name":"E","symbols":["A"]}`, at.AppendLong(nil, -1), "enum index -1"},
		{"nullable branch", `["null","int"]`, at.AppendLong(nil, 2), "out of range"},
		{"single branch", `["int"]`, at.AppendLong(nil, 1), "out of range"},
		{"union branch", `["int","string","null"]`, at.AppendLong(nil, 3), "out of range"},
		{"union negative", `["int","string"]`, at.AppendLong(nil, -1), "out of range"},
		{"array count too big", `{"type":"array","items":"long"}`, at.Encode(nil, 1000, 1), "impossible"},
		{"array of null count too big", `{"type":"array","items":"null"}`, at.Encode(nil, int64(1)<<30), "impossible"},
		{"array count MinInt64", `{"type":"array","items":"long"}`, at.AppendLong(nil, math.MinInt64), "invalid item count"},
		{"map count too big", `{"type":"map","values":"null"}`, at.Encode(nil, 50, "a"), "impossible"},
		{"decimal too wide", `{"type":"bytes","logicalType":"decimal","precision":10,"scale":0}`, at.Encode(nil, append([]byte{1}, make([]byte, 16)...)), "128 bits"},
		{"uuid short", `{"type":"fixed","name":"u","size":16,"logicalType":"uuid"}`, make([]byte, 15), "unexpected end"},
		{"duration short", `{"type":"fixed","name":"d","size":12,"logicalType":"duration"}`, make([]byte, 11), "unexpected end"},
		{"recursive bad", linkedList, at.Encode(nil, int64(1), at.U(1, at.Raw(at.Encode(nil, int64(2), at.U(5, nil))))), "out of range"},
		{"recursive map key not UTF-8", `{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"M"}}]}`,
			at.Encode(nil, map[string]any{"a": at.Raw(at.Encode(nil, map[string]any{"\xff": at.Raw(at.Encode(nil, map[string]any{}))}))}), "UTF-8"},
		{"recursive truncated", linkedList, at.Encode(nil, int64(1), at.U(1, at.Raw(at.Encode(nil, int64(2), at.U(1, nil))))), "unexpected end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A good long, then the bad value, so the failure is mid-record.
			text := record(`"long"`, c.avro)
			data := append(at.Encode(nil, int64(0)), c.data...)
			// Decoding every column must find the error. Skipping the bad field checks
			// less (a skipped string is not UTF-8 validated, a skipped enum index is not
			// range checked) but must never panic or leave rows behind.
			for _, sel := range [][]string{nil, {"f0"}} {
				alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
				s := mustParse(t, text)
				d := New(s, resolve(t, s, sel), alloc)
				err := d.Decode(data, 1, 1)
				var re *RecordError
				if sel == nil || err != nil {
					if !errors.As(err, &re) || re.Record != 0 {
						t.Fatalf("select %v: got %v, want a RecordError at record 0", sel, err)
					}
				}
				if sel == nil && !strings.Contains(err.Error(), c.msg) {
					t.Errorf("error %q does not mention %q", err, c.msg)
				}
				if err != nil && d.Rows() != 0 {
					t.Errorf("rows %d after an error", d.Rows())
				}
				finish(t, d)
				d.Release()
				alloc.AssertSize(t, 0)
			}
		})
	}
}

func TestMinRecordSize(t *testing.T) {
	cases := map[string]int{
		record(`"null"`):                               0,
		record(`"boolean"`, `"int"`, `"string"`):       3,
		record(`"float"`, `"double"`):                  12,
		record(`{"type":"fixed","name":"F","size":7}`): 7,
		record(`["null","double"]`, `["double"]`):      2,
		record(`{"type":"array","items":"double"}`):    1,
		record(`{"type":"record","name":"R","fields":[{"name":"a","type":"double"},{"name":"b","type":"null"}]}`): 8,
		linkedList: 2, // a long and a union index; the JSON kind itself counts 0
	}
	for text, want := range cases {
		if got := MinRecordSize(mustParse(t, text)); got != want {
			t.Errorf("MinRecordSize(%s) = %d, want %d", text, got, want)
		}
	}
}

// Values that take no bytes cannot be bounded by the data, so a block has a budget
// of them: corrupt counts fail fast instead of spinning or rendering gigabytes.
func TestEmptyItemBudget(t *testing.T) {
	decode := func(text string, data []byte, count int64) error {
		s := mustParse(t, text)
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		d := New(s, resolve(t, s, nil), alloc)
		defer func() {
			finish(t, d)
			d.Release()
			alloc.AssertSize(t, 0)
		}()
		return d.Decode(data, count, count)
	}
	// Records of only nulls: the count alone says how many.
	if err := decode(record(`"null"`), nil, 1000); err != nil {
		t.Errorf("1000 null records: %v", err)
	}
	if err := decode(record(`"null"`), nil, 1<<40); err == nil || !strings.Contains(err.Error(), "take no bytes") {
		t.Errorf("2^40 null records: %v", err)
	}
	// Arrays of nulls: many blocks, each within the old per-block cap, add up.
	var data []byte
	for i := 0; i < 3; i++ {
		data = at.AppendLong(data, maxEmptyItems/2)
	}
	data = at.AppendLong(data, 0)
	if err := decode(record(`{"type":"array","items":"null"}`), data, 1); err == nil || !strings.Contains(err.Error(), "impossible") {
		t.Errorf("1.5 * 2^24 nulls in one array: %v", err)
	}
	// Rendered as JSON they are dearer, so far fewer are allowed.
	text := `{"type":"record","name":"N","fields":[{"name":"a","type":{"type":"array","items":"null"}},{"name":"next","type":["null","N"]}]}`
	nulls := func(n int64) []byte { // a record whose next node holds an array of n nulls
		return at.Encode(nil, []any{}, at.U(1, at.Raw(at.Encode(nil, n, 0, at.U(0, nil)))))
	}
	if err := decode(text, nulls(1000), 1); err != nil {
		t.Errorf("1000 nulls in JSON: %v", err)
	}
	if err := decode(text, nulls(maxEmptyItems/jsonEmptyCost+1), 1); err == nil || !strings.Contains(err.Error(), "take no bytes") {
		t.Errorf("too many nulls in JSON: %v", err)
	}
}
