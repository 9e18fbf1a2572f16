package encode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/hamba/avro/v2/ocf"

	"github.com/jetliner/jetliner/core/codec"
	"github.com/jetliner/jetliner/core/container"
	"github.com/jetliner/jetliner/core/decode"
	"github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/schema"
)

var ctx = context.Background()

// readBack reads a file with jetliner's own reader (container, codec, decode)
// and returns its schema and every column as the ValueStr of each row.
func readBack(t testing.TB, file []byte) (*schema.Schema, [][]string) {
	t.Helper()
	rd, err := container.NewReader(ctx, avrotest.NewSource(file), container.Options{MaxBlockSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Parse(rd.Header.Schema)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := codec.New(rd.Header.Codec)
	if err != nil {
		t.Fatal(err)
	}
	sel := make([]int, len(s.Columns))
	for i := range sel {
		sel[i] = i
	}
	dec := decode.New(s, sel, memory.DefaultAllocator)
	defer dec.Release()
	var out []byte
	for {
		b, _, err := rd.Next(nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if out, err = dc.Decompress(out, b.Data, -1); err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(out, b.Count, b.Count); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := dec.Finish()
	cols := make([][]string, len(data))
	for k, d := range data {
		a := array.MakeFromData(d)
		for i := 0; i < a.Len(); i++ {
			cols[k] = append(cols[k], a.ValueStr(i))
		}
		a.Release()
		d.Release()
	}
	return s, cols
}

func strs(a arrow.Array) []string {
	out := make([]string, a.Len())
	for i := range out {
		out[i] = a.ValueStr(i)
	}
	return out
}

func write(t testing.TB, opts Options, recs ...arrow.Record) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if err := w.Write(ctx, r); err != nil {
			w.Abort()
			return nil, err
		}
	}
	if len(recs) == 0 {
		return nil, errors.New("no records")
	}
	if err := w.Close(ctx); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sampleRecord builds a frame of the types Polars exports, with nulls.
func sampleRecord(n int) arrow.Record {
	mem := memory.DefaultAllocator
	st := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.StringView, Nullable: true})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.BinaryView, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "lts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		{Name: "t", Type: arrow.FixedWidthTypes.Time64ns, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "l", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "st", Type: st, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for i := range n {
		null := i%7 == 3
		app := func(k int, f func()) {
			if null {
				b.Field(k).AppendNull()
			} else {
				f()
			}
		}
		app(0, func() { b.Field(0).(*array.Int32Builder).Append(int32(i) - 5) })
		app(1, func() { b.Field(1).(*array.Int64Builder).Append(int64(i) * math.MaxInt32 * 3) })
		app(2, func() { b.Field(2).(*array.Float64Builder).Append(float64(i) / 3) })
		app(3, func() {
			b.Field(3).(*array.StringViewBuilder).Append(fmt.Sprintf("héllo %d %s", i, strings.Repeat("x", i%20)))
		})
		app(4, func() { b.Field(4).(*array.BinaryViewBuilder).Append([]byte{byte(i), 0, 255}) })
		app(5, func() { b.Field(5).(*array.BooleanBuilder).Append(i%2 == 0) })
		app(6, func() { b.Field(6).(*array.Date32Builder).Append(arrow.Date32(i - 100)) })
		app(7, func() { b.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1_000_001)) })
		app(8, func() { b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(-int64(i) * 999)) })
		app(9, func() { b.Field(9).(*array.Time64Builder).Append(arrow.Time64(int64(i) * 1000)) })
		app(10, func() { b.Field(10).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*12345 - 99999)) })
		app(11, func() {
			lb := b.Field(11).(*array.LargeListBuilder)
			lb.Append(true)
			for j := range i % 4 {
				if j == 2 {
					lb.ValueBuilder().AppendNull()
				} else {
					lb.ValueBuilder().(*array.Int64Builder).Append(int64(j))
				}
			}
		})
		app(12, func() {
			sb := b.Field(12).(*array.StructBuilder)
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
			sb.FieldBuilder(1).(*array.StringViewBuilder).Append("s")
		})
	}
	return b.NewRecord()
}

func TestRoundTripEveryCodec(t *testing.T) {
	rec := sampleRecord(3000)
	defer rec.Release()
	for _, c := range codec.Names() {
		t.Run(c, func(t *testing.T) {
			file, err := write(t, Options{Codec: c, Level: codec.NoLevel, SyncInterval: 4000}, rec)
			if err != nil {
				t.Fatal(err)
			}
			s, cols := readBack(t, file)
			if len(cols) != int(rec.NumCols()) {
				t.Fatalf("%d columns, want %d", len(cols), rec.NumCols())
			}
			for k := range cols {
				want := strs(rec.Column(k))
				if fmt.Sprint(cols[k]) != fmt.Sprint(want) {
					t.Fatalf("column %s (%s): read %v..., wrote %v...", s.Names[k], s.Field(k).Type, cols[k][:8], want[:8])
				}
			}
		})
	}
}

// TestHambaReads: hamba/avro's OCF decoder, an independent implementation, reads
// what we write, to the same values.
func TestHambaReads(t *testing.T) {
	rec := sampleRecord(500)
	defer rec.Release()
	file, err := write(t, Options{Codec: "deflate", Level: codec.NoLevel}, rec)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := ocf.NewDecoder(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for dec.HasNext() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("row %d: %v", n, err)
		}
		if n%7 == 3 {
			if m["i64"] != nil || m["s"] != nil {
				t.Fatalf("row %d: want nulls, got %v", n, m)
			}
		} else if m["i64"] != int64(n)*math.MaxInt32*3 || m["s"] != fmt.Sprintf("héllo %d %s", n, strings.Repeat("x", n%20)) {
			t.Fatalf("row %d: %v", n, m)
		}
		n++
	}
	if dec.Error() != nil || n != 500 {
		t.Fatalf("read %d rows: %v", n, dec.Error())
	}
}

func TestManyBatchesAndBlocks(t *testing.T) {
	var recs []arrow.Record
	for k := range 9 {
		r := sampleRecord(k * 137)
		defer r.Release()
		recs = append(recs, r)
	}
	file, err := write(t, Options{Codec: "snappy", Level: codec.NoLevel, SyncInterval: 1000, Workers: 3}, recs...)
	if err != nil {
		t.Fatal(err)
	}
	_, cols := readBack(t, file)
	var want []string
	for _, r := range recs {
		want = append(want, strs(r.Column(3))...)
	}
	if fmt.Sprint(cols[3]) != fmt.Sprint(want) {
		t.Fatalf("rows differ: %d read, %d written", len(cols[3]), len(want))
	}
	rd, _ := container.NewReader(ctx, avrotest.NewSource(file), container.Options{MaxBlockSize: -1})
	blocks := 0
	for {
		if _, _, err := rd.Next(nil); err != nil {
			break
		}
		blocks++
	}
	if blocks < 20 {
		t.Fatalf("%d blocks for %d rows at sync_interval 1000", blocks, len(want))
	}
}

func wantErr(t *testing.T, err error, kind jerr.Kind, parts ...string) *jerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind)
	}
	e := jerr.As(err)
	if e.Kind != kind {
		t.Fatalf("error %v is %s, want %s", err, e.Kind, kind)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
	return e
}

func int64Record(name string, vals []int64, nulls []bool) arrow.Record {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i, v := range vals {
		if nulls != nil && nulls[i] {
			b.AppendNull()
		} else {
			b.Append(v)
		}
	}
	a := b.NewArray()
	defer a.Release()
	sc := arrow.NewSchema([]arrow.Field{{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	return array.NewRecord(sc, []arrow.Array{a}, int64(len(vals)))
}

func TestValueErrorsNameColumnAndRow(t *testing.T) {
	rec := int64Record("x", []int64{1, 2, 3, 1 << 40, 5}, nil)
	defer rec.Release()
	_, err := write(t, Options{Schema: []byte(`{"type":"record","name":"r","fields":[{"name":"x","type":"int"}]}`), Level: codec.NoLevel}, rec)
	e := wantErr(t, err, jerr.Encode, `"x"`, "row 3", "1099511627776", "int")
	if e.Field != "x" || e.Record != 3 {
		t.Fatalf("field %q record %d", e.Field, e.Record)
	}
	nulls := int64Record("x", []int64{1, 2, 3}, []bool{false, true, false})
	defer nulls.Release()
	_, err = write(t, Options{Schema: []byte(`{"type":"record","name":"r","fields":[{"name":"x","type":"long"}]}`), Level: codec.NoLevel}, nulls)
	wantErr(t, err, jerr.Encode, "row 1", "not nullable")
}

func TestSchemaMismatch(t *testing.T) {
	rec := int64Record("x", []int64{1}, nil)
	defer rec.Release()
	_, err := write(t, Options{Schema: []byte(`{"type":"record","name":"r","fields":[{"name":"y","type":"long"}]}`), Level: codec.NoLevel}, rec)
	wantErr(t, err, jerr.Schema, `y`)
	other := int64Record("z", []int64{1}, nil)
	defer other.Release()
	_, err = write(t, Options{Level: codec.NoLevel}, rec, other)
	e := wantErr(t, err, jerr.Encode, "differ")
	if e.Variant != jerr.SchemaMismatch {
		t.Fatalf("variant %s", e.Variant)
	}
	bad := int64Record("not valid", []int64{1}, nil)
	defer bad.Release()
	_, err = write(t, Options{Level: codec.NoLevel}, bad)
	wantErr(t, err, jerr.Schema, "mangle_names")
	file, err := write(t, Options{Level: codec.NoLevel, DeriveOptions: DeriveOptions{MangleNames: true}}, bad)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := readBack(t, file)
	if s.Names[0] != "not_valid" {
		t.Fatalf("mangled name %q", s.Names[0])
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{SyncInterval: 10, Level: codec.NoLevel},
		{SyncInterval: 1 << 31, Level: codec.NoLevel},
		{Codec: "lz4", Level: codec.NoLevel},
		{Codec: "snappy", Level: 3},
		{Codec: "zstd", Level: 99},
		{Meta: map[string][]byte{"avro.x": nil}, Level: codec.NoLevel},
		{DeriveOptions: DeriveOptions{Name: "1x"}, Level: codec.NoLevel},
	} {
		if _, err := NewWriter(io.Discard, o); jerr.KindOf(err) != jerr.Config && jerr.KindOf(err) != jerr.Schema {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestExplicitSchema writes enum, fixed, decimal-as-fixed, uuid and a general
// union from the columns reads give for them, and reads them back the same.
func TestExplicitSchema(t *testing.T) {
	text := `{"type":"record","name":"r","fields":[
		{"name":"e","type":{"type":"enum","name":"E","symbols":["a","b","c"]}},
		{"name":"f","type":{"type":"fixed","name":"F","size":3}},
		{"name":"dec","type":{"type":"fixed","name":"D","size":9,"logicalType":"decimal","precision":20,"scale":2}},
		{"name":"id","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}},
		{"name":"u","type":["null","long","string"]},
		{"name":"m","type":{"type":"map","values":"long"}},
		{"name":"dur","type":{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}}]}`
	s, err := schema.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	// Build the frame from the reader's own Arrow types: a file written from it
	// must read back to the same values.
	fields := make([]arrow.Field, len(s.Columns))
	for k := range fields {
		fields[k] = s.Field(k)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	for i := range 50 {
		b.Field(0).(*array.BinaryDictionaryBuilder).AppendString([]string{"a", "b", "c"}[i%3])
		b.Field(1).(*array.BinaryViewBuilder).Append([]byte{1, 2, byte(i)})
		b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i*i) - 300))
		b.Field(3).(*array.StringViewBuilder).Append(fmt.Sprintf("123e4567-e89b-12d3-a456-4266141740%02d", i))
		u := b.Field(4).(*array.StructBuilder)
		switch i % 3 {
		case 0:
			u.AppendNull() // appends a null to each field too
		case 1:
			u.Append(true)
			u.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
			u.FieldBuilder(1).AppendNull()
		case 2:
			u.Append(true)
			u.FieldBuilder(0).AppendNull()
			u.FieldBuilder(1).(*array.StringViewBuilder).Append("s")
		}
		m := b.Field(5).(*array.ListBuilder)
		m.Append(true)
		for j := range i % 3 {
			kv := m.ValueBuilder().(*array.StructBuilder)
			kv.Append(true)
			kv.FieldBuilder(0).(*array.StringViewBuilder).Append(fmt.Sprint("k", j))
			kv.FieldBuilder(1).(*array.Int64Builder).Append(int64(j))
		}
		d := b.Field(6).(*array.StructBuilder)
		d.Append(true)
		for k := range 3 {
			d.FieldBuilder(k).(*array.Uint32Builder).Append(uint32(i * (k + 1)))
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	file, err := write(t, Options{Schema: []byte(text), Level: codec.NoLevel}, rec)
	if err != nil {
		t.Fatal(err)
	}
	_, cols := readBack(t, file)
	for k := range cols {
		if want := strs(rec.Column(k)); fmt.Sprint(cols[k]) != fmt.Sprint(want) {
			t.Fatalf("column %s: read %v, wrote %v", s.Names[k], cols[k][:5], want[:5])
		}
	}
}

func TestDerive(t *testing.T) {
	rec := sampleRecord(1)
	defer rec.Release()
	text, err := Derive(rec.Schema(), DeriveOptions{Name: "Row", Namespace: "org.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"Row","namespace":"org.example"`, `"logicalType":"timestamp-micros"`,
		`"logicalType":"local-timestamp-nanos"`, `"logicalType":"time-micros"`, `"precision":10,"scale":2`,
		`{"name":"st","type":["null",{"type":"record","name":"Row_st"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("derived schema %s lacks %s", text, want)
		}
	}
	// Derived schemas parse and read back as the same Arrow types.
	s, err := schema.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if s.Field(7).Type.String() != rec.Schema().Field(7).Type.String() {
		t.Errorf("timestamp reads as %s", s.Field(7).Type)
	}
}

func TestTimeRefusesSubMicroseconds(t *testing.T) {
	b := array.NewTime64Builder(memory.DefaultAllocator, &arrow.Time64Type{Unit: arrow.Nanosecond})
	b.Append(1000)
	b.Append(1001)
	a := b.NewArray()
	defer a.Release()
	rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "t", Type: a.DataType(), Nullable: true}}, nil), []arrow.Array{a}, 2)
	defer rec.Release()
	_, err := write(t, Options{Level: codec.NoLevel}, rec)
	wantErr(t, err, jerr.Encode, "row 1", "microseconds")
}

type failing struct{ after int }

func (f *failing) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestDestinationFailure(t *testing.T) {
	rec := sampleRecord(5000)
	defer rec.Release()
	w, err := NewWriter(&failing{after: 10000}, Options{Level: codec.NoLevel, SyncInterval: 1000})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(ctx, rec)
	if err == nil {
		err = w.Close(ctx)
	}
	wantErr(t, err, jerr.Source, "disk full")
	w.Abort()
}

func TestCancel(t *testing.T) {
	rec := sampleRecord(20000)
	defer rec.Release()
	c, cancel := context.WithCancel(ctx)
	cancel()
	w, _ := NewWriter(io.Discard, Options{Level: codec.NoLevel, SyncInterval: 100, Workers: 1})
	err := w.Write(c, rec)
	if err == nil {
		err = w.Close(c)
	}
	wantErr(t, err, jerr.Cancelled)
	w.Abort()
}

// FuzzEncode writes random int64 and string columns with random nulls at random
// block sizes and checks they read back.
func FuzzEncode(f *testing.F) {
	f.Add([]byte("seed"), uint16(64))
	f.Add([]byte{0, 1, 2, 3, 255, 254, 128}, uint16(32))
	f.Fuzz(func(t *testing.T, data []byte, interval uint16) {
		vals := make([]int64, len(data))
		nulls := make([]bool, len(data))
		for i, c := range data {
			vals[i] = int64(c)<<uint(c%64) - int64(c)
			nulls[i] = c%5 == 0
		}
		rec := int64Record("x", vals, nulls)
		defer rec.Release()
		if rec.NumRows() == 0 {
			return
		}
		file, err := write(t, Options{Level: codec.NoLevel, Codec: "deflate", SyncInterval: max(int(interval), MinSyncInterval)}, rec)
		if err != nil {
			t.Fatal(err)
		}
		_, cols := readBack(t, file)
		if fmt.Sprint(cols[0]) != fmt.Sprint(strs(rec.Column(0))) {
			t.Fatalf("read %v, wrote %v", cols[0], strs(rec.Column(0)))
		}
	})
}

// TestTimeZoneKept: a Datetime with a zone reads back in that zone.
func TestTimeZoneKept(t *testing.T) {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"})
	b.Append(1_700_000_000_000)
	a := b.NewArray()
	defer a.Release()
	rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "ts", Type: a.DataType(), Nullable: true}}, nil), []arrow.Array{a}, 1)
	defer rec.Release()
	file, err := write(t, Options{Level: codec.NoLevel}, rec)
	if err != nil {
		t.Fatal(err)
	}
	s, cols := readBack(t, file)
	if got := s.Field(0).Type.String(); got != a.DataType().String() || cols[0][0] != a.ValueStr(0) {
		t.Fatalf("read %s %v, wrote %s %v", got, cols[0], a.DataType(), a.ValueStr(0))
	}
}

func TestCloseWithoutRows(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Options{Level: codec.NoLevel, Schema: []byte(`{"type":"record","name":"r","fields":[{"name":"x","type":"long"}]}`)})
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s, cols := readBack(t, buf.Bytes()); len(cols) != 1 || len(cols[0]) != 0 || s.Names[0] != "x" {
		t.Fatalf("%v %v", s.Names, cols)
	}
	w, _ = NewWriter(&buf, Options{Level: codec.NoLevel})
	wantErr(t, w.Close(ctx), jerr.Config, "no schema")
}
