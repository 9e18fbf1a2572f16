package decode

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
	"github.com/jetliner/jetliner/core/schema"
)

const benchSchema = `{"type":"record","name":"S","fields":[
	{"name":"id","type":"long"},
	{"name":"name","type":"string"},
	{"name":"score","type":"double"},
	{"name":"active","type":"boolean"},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}}]}`

// BenchmarkDecodeSimple decodes a 10,000-record block of five primitive columns;
// ns/op divided by 10,000 is the cost of one record.
func BenchmarkDecodeSimple(b *testing.B) {
	s, err := schema.Parse([]byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	const rows = 10_000
	var data []byte
	for i := 0; i < rows; i++ {
		data = at.Encode(data, int64(i)*7919, fmt.Sprintf("user_%d", i*31), float64(i)/3, i%2 == 0, int64(1_700_000_000_000_000+i))
	}
	all, _ := s.Resolve(nil)
	d := New(s, all, memory.NewGoAllocator())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Reserve(rows)
		if err := d.Decode(data, rows, rows); err != nil {
			b.Fatal(err)
		}
		cols, _ := d.Finish()
		for _, c := range cols {
			c.Release()
		}
	}
}

// BenchmarkDecodeLogical decodes 10,000 records of one logical-type column,
// plain and as a [null, T] union, to show what the value-range checks cost.
func BenchmarkDecodeLogical(b *testing.B) {
	const rows = 10_000
	decimal := func(v int64, size int) []byte { // big-endian two's complement
		out := make([]byte, size)
		for i := size - 1; i >= 0; i-- {
			out[i] = byte(v)
			v >>= 8
		}
		return out
	}
	cases := []struct {
		name  string
		avro  string
		value func(i int) any
	}{
		{"date", `{"type":"int","logicalType":"date"}`, func(i int) any { return int32(19_000 + i%1000) }},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, func(i int) any { return int32(i * 8_000) }},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, func(i int) any { return int64(i) * 8_000_000 }},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, func(i int) any { return int64(1_700_000_000_000 + i) }},
		{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, func(i int) any { return int64(1_700_000_000_000_000 + i) }},
		{"decimal-bytes", `{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}`,
			func(i int) any { return decimal(int64(i)*1_234_567, 5) }},
		{"decimal-fixed", `{"type":"fixed","name":"d","size":8,"logicalType":"decimal","precision":18,"scale":2}`,
			func(i int) any { return at.Fixed(decimal(int64(i)*1_234_567_891, 8)) }},
	}
	for _, c := range cases {
		for _, nullable := range []bool{false, true} {
			name, typ := c.name, c.avro
			if nullable {
				name, typ = name+"/nullable", `["null",`+typ+`]`
			}
			b.Run(name, func(b *testing.B) {
				s, err := schema.Parse([]byte(`{"type":"record","name":"r","fields":[{"name":"v","type":` + typ + `}]}`))
				if err != nil {
					b.Fatal(err)
				}
				var data []byte
				for i := 0; i < rows; i++ {
					v := c.value(i)
					if nullable {
						v = at.U(1, v)
					}
					data = at.Encode(data, v)
				}
				d := New(s, []int{0}, memory.NewGoAllocator())
				b.SetBytes(int64(len(data)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d.Reserve(rows)
					if err := d.Decode(data, rows, rows); err != nil {
						b.Fatal(err)
					}
					cols, _ := d.Finish()
					for _, c := range cols {
						c.Release()
					}
				}
			})
		}
	}
}
