package decode

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/codec"
	"github.com/jetliner/jetliner/core/container"
	"github.com/jetliner/jetliner/core/schema"
	"github.com/jetliner/jetliner/core/source"
)

// BenchmarkDecodeFile decodes the first blocks of the file named by
// JETLINER_BENCH_FILE on one goroutine, decompressed beforehand, so that ns/row
// is the decoder's own cost (JETLINER_BENCH_COLUMNS selects columns,
// JETLINER_BENCH_BLOCKS how many blocks, JETLINER_BENCH_PLAIN=1 decodes block by
// block without Index):
//
//	JETLINER_BENCH_FILE=x.avro go test -run '^$' -bench DecodeFile ./core/decode
func BenchmarkDecodeFile(b *testing.B) {
	path := os.Getenv("JETLINER_BENCH_FILE")
	if path == "" {
		b.Skip("set JETLINER_BENCH_FILE to an Avro file")
	}
	src, err := source.OpenLocal(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	rd, err := container.NewReader(context.Background(), src, container.Options{MaxBlockSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	s, err := schema.Parse(rd.Header.Schema)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	if cols := os.Getenv("JETLINER_BENCH_COLUMNS"); cols != "" {
		names = strings.Split(cols, ",")
	}
	selected, err := s.Resolve(names)
	if err != nil {
		b.Fatal(err)
	}
	dc, err := codec.New(rd.Header.Codec)
	if err != nil {
		b.Fatal(err)
	}
	type block struct {
		data  []byte
		count int64
	}
	var blocks []block
	var rows, size int64
	for len(blocks) < benchBlocks() {
		blk, _, err := rd.Next(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		data, err := dc.Decompress(nil, blk.Data, -1)
		if err != nil {
			b.Fatal(err)
		}
		blocks = append(blocks, block{data: append([]byte(nil), data...), count: blk.Count})
		rows += blk.Count
		size += int64(len(data))
	}
	d := New(s, selected, memory.NewGoAllocator())
	b.SetBytes(size)
	b.ResetTimer()
	lanes := d.Lanes()
	if os.Getenv("JETLINER_BENCH_PLAIN") == "1" {
		lanes = 1
	}
	group := make([]Block, 0, lanes)
	for i := 0; i < b.N; i++ {
		d.Reserve(int(rows))
		for g := 0; g < len(blocks); g += lanes {
			group = group[:0]
			for _, blk := range blocks[g:min(g+lanes, len(blocks))] {
				group = append(group, Block{Data: blk.data, Count: blk.count})
			}
			var ixs []*Index
			if lanes > 1 {
				ixs = d.Index(group)
			}
			for j, blk := range group {
				var ix *Index
				if ixs != nil {
					ix = ixs[j]
				}
				if err := d.DecodeIndexed(blk.Data, blk.Count, ix); err != nil {
					b.Fatal(err)
				}
			}
		}
		cols, _ := d.Finish()
		for _, c := range cols {
			c.Release()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*rows), "ns/row")
}

// benchBlocks is how many blocks BenchmarkDecodeFile decodes:
// JETLINER_BENCH_BLOCKS, default 16.
func benchBlocks() int {
	if n, err := strconv.Atoi(os.Getenv("JETLINER_BENCH_BLOCKS")); err == nil && n > 0 {
		return n
	}
	return 16
}
