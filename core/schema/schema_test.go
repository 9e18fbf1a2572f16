package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/jetliner/jetliner/core/jerr"
)

// record wraps field types (JSON) as the fields f0, f1, ... of a record.
func record(types ...string) string {
	fields := make([]string, len(types))
	for i, t := range types {
		fields[i] = fmt.Sprintf(`{"name":"f%d","type":%s}`, i, t)
	}
	return `{"type":"record","name":"top","fields":[` + strings.Join(fields, ",") + `]}`
}

func mustParse(t testing.TB, text string) *Schema {
	t.Helper()
	s, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return s
}

func wantKind(t testing.TB, err error, k jerr.Kind) *jerr.Error {
	t.Helper()
	var e *jerr.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("got error %v, want kind %s", err, k)
	}
	return e
}

var (
	utf8Str = arrow.BinaryTypes.StringView
	dictStr = arrow.BinaryTypes.String // enum symbols
	i32     = arrow.PrimitiveTypes.Int32
	i64     = arrow.PrimitiveTypes.Int64
	u32     = arrow.PrimitiveTypes.Uint32
)

func structOf(fields ...arrow.Field) arrow.DataType { return arrow.StructOf(fields...) }

func field(name string, dt arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: dt, Nullable: true}
}

func TestTypeMapping(t *testing.T) {
	cases := []struct {
		name    string
		avro    string
		want    arrow.DataType
		kind    Kind
		logical Logical
	}{
		{"null", `"null"`, arrow.Null, Null, LogicalNone},
		{"boolean", `"boolean"`, arrow.FixedWidthTypes.Boolean, Boolean, LogicalNone},
		{"int", `"int"`, i32, Int, LogicalNone},
		{"long", `"long"`, i64, Long, LogicalNone},
		{"float", `"float"`, arrow.PrimitiveTypes.Float32, Float, LogicalNone},
		{"double", `"double"`, arrow.PrimitiveTypes.Float64, Double, LogicalNone},
		{"bytes", `"bytes"`, arrow.BinaryTypes.BinaryView, Bytes, LogicalNone},
		{"string", `"string"`, utf8Str, String, LogicalNone},
		{"fixed", `{"type":"fixed","name":"f","size":4}`, arrow.BinaryTypes.BinaryView, Fixed, LogicalNone},
		{"date", `{"type":"int","logicalType":"date"}`, arrow.FixedWidthTypes.Date32, Int, Date},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, arrow.FixedWidthTypes.Time64ns, Int, TimeMillis},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, arrow.FixedWidthTypes.Time64ns, Long, TimeMicros},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Long, TimestampMillis},
		{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Long, TimestampMicros},
		{"timestamp-nanos", `{"type":"long","logicalType":"timestamp-nanos"}`, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Long, TimestampNanos},
		{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`, &arrow.TimestampType{Unit: arrow.Millisecond}, Long, LocalTimestampMillis},
		{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`, &arrow.TimestampType{Unit: arrow.Microsecond}, Long, LocalTimestampMicros},
		{"local-timestamp-nanos", `{"type":"long","logicalType":"local-timestamp-nanos"}`, &arrow.TimestampType{Unit: arrow.Nanosecond}, Long, LocalTimestampNanos},
		{"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`, &arrow.Decimal128Type{Precision: 10, Scale: 2}, Bytes, Decimal},
		{"decimal fixed", `{"type":"fixed","name":"d","size":8,"logicalType":"decimal","precision":18,"scale":0}`, &arrow.Decimal128Type{Precision: 18, Scale: 0}, Fixed, Decimal},
		{"decimal 38", `{"type":"bytes","logicalType":"decimal","precision":38,"scale":38}`, &arrow.Decimal128Type{Precision: 38, Scale: 38}, Bytes, Decimal},
		{"decimal too precise", `{"type":"bytes","logicalType":"decimal","precision":39,"scale":2}`, arrow.BinaryTypes.BinaryView, Bytes, LogicalNone},
		{"decimal scale > precision", `{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}`, arrow.BinaryTypes.BinaryView, Bytes, LogicalNone},
		{"uuid string", `{"type":"string","logicalType":"uuid"}`, utf8Str, String, UUID},
		{"uuid fixed", `{"type":"fixed","name":"u","size":16,"logicalType":"uuid"}`, utf8Str, Fixed, UUID},
		{"uuid fixed wrong size", `{"type":"fixed","name":"u","size":15,"logicalType":"uuid"}`, arrow.BinaryTypes.BinaryView, Fixed, LogicalNone},
		{"duration", `{"type":"fixed","name":"dur","size":12,"logicalType":"duration"}`,
			structOf(arrow.Field{Name: "months", Type: u32}, arrow.Field{Name: "days", Type: u32}, arrow.Field{Name: "millis", Type: u32}), Fixed, Duration},
		{"duration wrong size", `{"type":"fixed","name":"dur","size":8,"logicalType":"duration"}`, arrow.BinaryTypes.BinaryView, Fixed, LogicalNone},
		{"unknown logical", `{"type":"long","logicalType":"made-up"}`, i64, Long, LogicalNone},
		{"date on a long", `{"type":"long","logicalType":"date"}`, i64, Long, LogicalNone},
		{"timestamp on an int", `{"type":"int","logicalType":"timestamp-millis"}`, i32, Int, LogicalNone},
		{"array", `{"type":"array","items":"int"}`, arrow.ListOfField(field("item", i32)), Array, LogicalNone},
		{"map", `{"type":"map","values":"long"}`,
			arrow.ListOfField(field("item", structOf(arrow.Field{Name: "key", Type: utf8Str}, field("value", i64)))), Map, LogicalNone},
		{"record", `{"type":"record","name":"inner","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}`,
			structOf(field("a", i32), field("b", utf8Str)), Record, LogicalNone},
		{"nullable", `["null","long"]`, i64, Long, LogicalNone},
		{"nullable, null second", `["string","null"]`, utf8Str, String, LogicalNone},
		{"nullable logical", `["null",{"type":"int","logicalType":"date"}]`, arrow.FixedWidthTypes.Date32, Int, Date},
		{"single-branch union", `["double"]`, arrow.PrimitiveTypes.Float64, Double, LogicalNone},
		{"general union", `["int","string"]`, structOf(field("int", i32), field("string", utf8Str)), Union, LogicalNone},
		{"general union with null", `["null","int","string"]`, structOf(field("int", i32), field("string", utf8Str)), Union, LogicalNone},
		{"union of records", `[{"type":"record","name":"a.X","fields":[{"name":"v","type":"int"}]},{"type":"record","name":"b.Y","fields":[{"name":"v","type":"int"}]}]`,
			structOf(field("X", structOf(field("v", i32))), field("Y", structOf(field("v", i32)))), Union, LogicalNone},
		{"union of same-named records", `[{"type":"record","name":"a.X","fields":[{"name":"v","type":"int"}]},{"type":"record","name":"b.X","fields":[{"name":"v","type":"long"}]}]`,
			structOf(field("a.X", structOf(field("v", i32))), field("b.X", structOf(field("v", i64)))), Union, LogicalNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, record(c.avro))
			if !s.TopLevelRecord || len(s.Columns) != 1 || s.Names[0] != "f0" {
				t.Fatalf("columns %v, top-level record %v", s.Names, s.TopLevelRecord)
			}
			n := s.Columns[0]
			if !arrow.TypeEqual(n.Type, c.want) {
				t.Errorf("type %s, want %s", n.Type, c.want)
			}
			if n.Kind != c.kind || n.Logical != c.logical {
				t.Errorf("kind %d logical %d, want %d %d", n.Kind, n.Logical, c.kind, c.logical)
			}
			f := s.Field(0)
			if f.Name != "f0" || !f.Nullable || !arrow.TypeEqual(f.Type, c.want) {
				t.Errorf("Field(0) = %v", f)
			}
		})
	}
}

func TestUnionDetails(t *testing.T) {
	s := mustParse(t, record(`["null","long"]`, `["long","null"]`, `["int","null","string"]`, `["boolean"]`))
	a, b, u, single := s.Columns[0], s.Columns[1], s.Columns[2], s.Columns[3]
	if !a.Nullable || a.NullIndex != 0 || !b.Nullable || b.NullIndex != 1 {
		t.Errorf("nullable: %v/%d, %v/%d", a.Nullable, a.NullIndex, b.Nullable, b.NullIndex)
	}
	if u.Kind != Union || u.NullIndex != 1 || fmt.Sprint(u.Branches) != "[0 2]" || fmt.Sprint(u.Names) != "[int string]" {
		t.Errorf("general union: null %d, branches %v, names %v", u.NullIndex, u.Branches, u.Names)
	}
	if !single.SingleUnion || single.Nullable || single.Kind != Boolean {
		t.Errorf("single union: %+v", single)
	}
	noNull := mustParse(t, record(`["int","string"]`)).Columns[0]
	if noNull.NullIndex != -1 {
		t.Errorf("union without null: NullIndex %d", noNull.NullIndex)
	}
}

func TestEnum(t *testing.T) {
	s := mustParse(t, record(`{"type":"enum","name":"color","symbols":["RED","GREEN","BLUE"]}`))
	n := s.Columns[0]
	dt, ok := n.Type.(*arrow.DictionaryType)
	if !ok {
		t.Fatalf("enum type %s, want a dictionary", n.Type)
	}
	if dt.IndexType.ID() != arrow.UINT8 || !arrow.TypeEqual(dt.ValueType, dictStr) {
		t.Errorf("dictionary %s", dt)
	}
	if n.Kind != Enum || fmt.Sprint(n.Symbols) != "[RED GREEN BLUE]" {
		t.Errorf("kind %d symbols %v", n.Kind, n.Symbols)
	}
	// Polars reads pl.Enum from this metadata: each symbol as <byte length>;<symbol>.
	f := s.Field(0)
	got, ok := f.Metadata.GetValue(EnumMetadataKey)
	if EnumMetadataKey != "_PL_ENUM_VALUES2" || !ok || got != "3;RED5;GREEN4;BLUE" {
		t.Errorf("metadata %v", f.Metadata)
	}

	// The index type grows with the number of symbols.
	for _, c := range []struct {
		n    int
		want arrow.Type
	}{{256, arrow.UINT8}, {257, arrow.UINT16}, {65536, arrow.UINT16}, {65537, arrow.UINT32}} {
		syms := make([]string, c.n)
		for i := range syms {
			syms[i] = fmt.Sprintf(`"s%d"`, i)
		}
		s := mustParse(t, record(`{"type":"enum","name":"e","symbols":[`+strings.Join(syms, ",")+`]}`))
		if got := s.Columns[0].Type.(*arrow.DictionaryType).IndexType.ID(); got != c.want {
			t.Errorf("%d symbols: index %s, want %s", c.n, got, c.want)
		}
	}

	// Nested enums carry the metadata on their own field.
	s = mustParse(t, record(`{"type":"array","items":{"type":"enum","name":"e","symbols":["a","bc"]}}`))
	item := s.Columns[0].Type.(*arrow.ListType).ElemField()
	if v, _ := item.Metadata.GetValue(EnumMetadataKey); v != "1;a2;bc" {
		t.Errorf("nested enum metadata %q", v)
	}
}

func TestRecursion(t *testing.T) {
	linked := `{"type":"record","name":"Node","fields":[
		{"name":"value","type":"long"},
		{"name":"next","type":["null","Node"]}]}`
	s := mustParse(t, linked)
	if s.Names[1] != "next" {
		t.Fatalf("names %v", s.Names)
	}
	next := s.Columns[1]
	if next.Kind != JSON || !next.Nullable || !arrow.TypeEqual(next.Type, utf8Str) {
		t.Errorf("recursive field: kind %d nullable %v type %s", next.Kind, next.Nullable, next.Type)
	}

	// Recursion below the top level: only the back-reference becomes JSON.
	tree := record(`{"type":"record","name":"Tree","fields":[
		{"name":"label","type":"string"},
		{"name":"children","type":{"type":"array","items":"Tree"}}]}`)
	s = mustParse(t, tree)
	want := structOf(field("label", utf8Str), field("children", arrow.ListOfField(field("item", utf8Str))))
	if !arrow.TypeEqual(s.Columns[0].Type, want) {
		t.Errorf("tree type %s, want %s", s.Columns[0].Type, want)
	}
	if s.Columns[0].Children[1].Children[0].Kind != JSON {
		t.Error("the array items should be the JSON kind")
	}

	// A named type used twice side by side is not recursion.
	twice := record(`{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}`, `"P"`)
	s = mustParse(t, twice)
	for i, c := range s.Columns {
		if c.Kind != Record {
			t.Errorf("column %d kind %d, want Record", i, c.Kind)
		}
	}
}

func TestTopLevelNonRecord(t *testing.T) {
	cases := map[string]arrow.DataType{
		`"long"`:                            i64,
		`"string"`:                          utf8Str,
		`["null","int"]`:                    i32,
		`{"type":"array","items":"string"}`: arrow.ListOfField(field("item", utf8Str)),
		`{"type":"map","values":"int"}`:     arrow.ListOfField(field("item", structOf(arrow.Field{Name: "key", Type: utf8Str}, field("value", i32)))),
		`{"type":"enum","name":"e","symbols":["A"]}`: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: dictStr, Ordered: true},
	}
	for text, want := range cases {
		s := mustParse(t, text)
		if s.TopLevelRecord || len(s.Names) != 1 || s.Names[0] != ValueColumn || ValueColumn != "value" {
			t.Errorf("%s: names %v, top-level record %v", text, s.Names, s.TopLevelRecord)
			continue
		}
		if !arrow.TypeEqual(s.Columns[0].Type, want) {
			t.Errorf("%s: type %s, want %s", text, s.Columns[0].Type, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"not json":           `{"type":`,
		"empty":              ``,
		"unknown type":       `"decimal128"`,
		"undefined name":     record(`"Missing"`),
		"nested no fields":   record(`{"type":"record","name":"empty","fields":[]}`),
		"fixed no size":      `{"type":"fixed","name":"f"}`,
		"enum dup symbols":   `{"type":"enum","name":"e","symbols":["A","A"]}`,
		"union in union":     record(`["null",["int","string"]]`),
		"duplicate in union": record(`["int","int"]`),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(text))
			wantKind(t, err, jerr.Schema)
		})
	}
}

// Two files may define different types under one name: parses must not share a
// name cache.
func TestParseCacheIsolation(t *testing.T) {
	a := mustParse(t, record(`{"type":"record","name":"Shared","fields":[{"name":"x","type":"int"}]}`))
	b := mustParse(t, record(`{"type":"record","name":"Shared","fields":[{"name":"x","type":"string"}]}`))
	if arrow.TypeEqual(a.Columns[0].Type, b.Columns[0].Type) {
		t.Errorf("both parses gave %s", a.Columns[0].Type)
	}
}

func TestResolve(t *testing.T) {
	s := mustParse(t, record(`"int"`, `"string"`, `"long"`))
	all, err := s.Resolve(nil)
	if err != nil || fmt.Sprint(all) != "[0 1 2]" {
		t.Errorf("Resolve(nil) = %v, %v", all, err)
	}
	some, err := s.Resolve([]string{"f2", "f0"})
	if err != nil || fmt.Sprint(some) != "[2 0]" {
		t.Errorf("Resolve(f2, f0) = %v, %v", some, err)
	}
	none, err := s.Resolve([]string{})
	if err != nil || len(none) != 0 {
		t.Errorf("Resolve([]) = %v, %v", none, err)
	}
	_, err = s.Resolve([]string{"f0", "nope"})
	e := wantKind(t, err, jerr.Schema)
	if !strings.Contains(e.Message, `"nope"`) || !strings.Contains(e.Message, `"f1"`) {
		t.Errorf("message %q should name the column and list the file's columns", e.Message)
	}
	_, err = s.Resolve([]string{"f1", "f1"})
	wantKind(t, err, jerr.Config)
	if s.Index("f1") != 1 || s.Index("zz") != -1 {
		t.Errorf("Index")
	}
}

func TestQuoteListTruncates(t *testing.T) {
	names := make([]string, 25)
	for i := range names {
		names[i] = fmt.Sprint("c", i)
	}
	got := quoteList(names)
	if !strings.Contains(got, `"c19"`) || strings.Contains(got, `"c20"`) || !strings.Contains(got, "(5 more)") {
		t.Errorf("quoteList = %s", got)
	}
}

func TestDescribe(t *testing.T) {
	s := mustParse(t, record(`{"type":"array","items":"int"}`))
	if got := Describe(s.Columns[0]); got != `{"type":"array","items":"int"}` {
		t.Errorf("Describe = %s", got)
	}
}

// A record with no fields is valid Avro: it has no columns.
func TestRecordWithoutFields(t *testing.T) {
	s := mustParse(t, `{"type":"record","name":"r","fields":[]}`)
	if !s.TopLevelRecord || len(s.Columns) != 0 || len(s.Names) != 0 {
		t.Errorf("got %d columns %v, top-level record %v", len(s.Columns), s.Names, s.TopLevelRecord)
	}
}

// nest wraps leaf in n steps of kind, as a field type; levels are the levels of
// Arrow nesting each step adds.
var levels = map[string]int{"array": 1, "map": 2, "record": 1, "nullable record": 1, "union": 2, "nullable": 1}

func nest(kind string, n int, leaf string) string {
	t := leaf
	for i := 0; i < n; i++ {
		switch kind {
		case "array":
			t = `{"type":"array","items":` + t + `}`
		case "map":
			t = `{"type":"map","values":` + t + `}`
		case "record":
			t = fmt.Sprintf(`{"type":"record","name":"r%d","fields":[{"name":"f","type":%s}]}`, i, t)
		case "nullable record":
			t = fmt.Sprintf(`["null",{"type":"record","name":"r%d","fields":[{"name":"f","type":%s}]}]`, i, t)
		case "union":
			// A union cannot hold a union: each step is a union and an array.
			t = `["int",{"type":"array","items":` + t + `}]`
		case "nullable":
			// [null, T] adds nothing, but it cannot nest in itself: alternate.
			t = `{"type":"array","items":["null",` + t + `]}`
		default:
			panic(kind)
		}
	}
	return t
}

// Depth counts the levels of the Arrow type: one per Struct and per List.
func TestDepth(t *testing.T) {
	cases := []struct {
		name  string
		avro  string
		depth int
	}{
		{"int", `"int"`, 0},
		{"nullable int", `["null","int"]`, 0},
		{"one-branch union", `["int"]`, 0},
		{"enum", `{"type":"enum","name":"e","symbols":["A"]}`, 0},
		{"decimal", `{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`, 0},
		{"duration", `{"type":"fixed","name":"d","size":12,"logicalType":"duration"}`, 1},
		{"array", nest("array", 3, `"int"`), 3},
		{"map", nest("map", 3, `"int"`), 6},
		{"record", nest("record", 3, `"int"`), 3},
		{"nullable record", nest("nullable record", 3, `"int"`), 3},
		{"union", `["int","string",` + nest("array", 2, `"int"`) + `]`, 3},
		{"unions", nest("union", 3, `"int"`), 6},
		{"nullable union", `["null","int","string"]`, 1},
		{"array of nullable", nest("nullable", 3, `"int"`), 3},
		{"widest branch counts", `{"type":"record","name":"w","fields":[{"name":"a","type":"int"},` +
			`{"name":"b","type":` + nest("array", 5, `"int"`) + `},{"name":"c","type":` + nest("map", 1, `"int"`) + `}]}`, 6},
		{"recursive is a string", `{"type":"record","name":"n","fields":[{"name":"next","type":["null","n"]}]}`, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, record(c.avro))
			if got := s.Columns[0].Depth; got != c.depth {
				t.Errorf("depth %d, want %d (type %s)", got, c.depth, s.Columns[0].Type)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	for kind, per := range levels {
		t.Run(kind, func(t *testing.T) {
			steps := DefaultMaxDepth / per
			mustParse(t, record(nest(kind, steps, `"int"`)))
			_, err := Parse([]byte(record(nest(kind, steps+1, `"int"`))))
			e := wantKind(t, err, jerr.Schema)
			want := fmt.Sprintf(`column "f0" nests %d levels deep`, (steps+1)*per)
			if !strings.Contains(e.Message, want) || !strings.Contains(e.Message, fmt.Sprintf("limit of %d", DefaultMaxDepth)) {
				t.Errorf("message %q does not name the depth and the limit", e.Message)
			}
			if e.Variant != jerr.SchemaTooDeep || e.Field != "f0" {
				t.Errorf("variant %q, field %q", e.Variant, e.Field)
			}
		})
	}
	// A top-level value is checked too.
	_, err := Parse([]byte(nest("array", DefaultMaxDepth+1, `"int"`)))
	if e := wantKind(t, err, jerr.Schema); !strings.Contains(e.Message, `column "value"`) {
		t.Errorf("message %q does not name the value column", e.Message)
	}
	// The limit can be raised up to MaxDepthLimit, and lowered.
	deep := record(nest("array", MaxDepthLimit, `"int"`))
	if _, err := ParseDepth([]byte(deep), MaxDepthLimit); err != nil {
		t.Errorf("at MaxDepthLimit: %v", err)
	}
	_, err = ParseDepth([]byte(record(nest("array", 3, `"int"`))), 2)
	wantKind(t, err, jerr.Schema)
	for _, bad := range []int{0, -1, MaxDepthLimit + 1} {
		_, err := ParseDepth([]byte(record(`"int"`)), bad)
		wantKind(t, err, jerr.Config)
	}
}

// The schema text is measured before the Avro parser sees it: a schema nested
// far deeper than any allowed one is refused at once, with a short message.
func TestJSONNesting(t *testing.T) {
	for _, n := range []int{MaxJSONNesting + 1, 20_000, 1_000_000} {
		text := strings.Repeat(`{"type":"array","items":`, n) + `"int"` + strings.Repeat(`}`, n)
		_, err := Parse([]byte(text))
		e := wantKind(t, err, jerr.Schema)
		want := fmt.Sprintf("nests %d levels deep, more than the limit of %d", n, MaxJSONNesting)
		if !strings.Contains(e.Error(), want) || len(e.Error()) > 300 || e.Variant != jerr.SchemaTooDeep {
			t.Errorf("depth %d: message %q, variant %q", n, e.Error(), e.Variant)
		}
	}
	// The deepest schema the limit allows, a record in a nullable union at
	// every level, fits in the JSON limit.
	worst := nest("nullable record", MaxDepthLimit, `"int"`)
	if n := jsonNesting([]byte(record(worst))); n > MaxJSONNesting {
		t.Errorf("the deepest allowed schema nests %d JSON levels, over MaxJSONNesting", n)
	}
	cases := map[string]int{
		``:                    0,
		`"int"`:               0,
		`{"a":[1,{"b":[]}]}`:  4,
		`{"a":"[[[{{{"}`:      1,
		`{"a":"\"[[[\\"}`:     1,
		`[[["\\"],"]]]]]]"]]`: 3,
		`{"doc":"\u005b[{"}`:  1,
	}
	for text, want := range cases {
		if got := jsonNesting([]byte(text)); got != want {
			t.Errorf("jsonNesting(%s) = %d, want %d", text, got, want)
		}
	}
}
