package encode

import (
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/codec"
)

// simpleRecord is the benchmark's simple frame: 5 nullable columns (as Polars
// exports them), no nulls.
func simpleRecord(n int) arrow.Record {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "count", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i) * 7919)
		b.Field(1).(*array.StringViewBuilder).Append(fmt.Sprintf("name_%d", i%1000))
		b.Field(2).(*array.Float64Builder).Append(float64(i) * 0.5)
		b.Field(3).(*array.BooleanBuilder).Append(i%3 == 0)
		b.Field(4).(*array.Int32Builder).Append(int32(i % 100000))
	}
	return b.NewRecord()
}

// BenchmarkWriteSimple writes 1M rows; ns/row is ns/op divided by 1e6.
func BenchmarkWriteSimple(b *testing.B) {
	rec := simpleRecord(1_000_000)
	defer rec.Release()
	for _, c := range []string{"null", "snappy", "deflate", "zstandard"} {
		b.Run(c, func(b *testing.B) {
			for range b.N {
				w, err := NewWriter(io.Discard, Options{Codec: c, Level: codec.NoLevel})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Write(ctx, rec); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/row")
		})
	}
}
