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
