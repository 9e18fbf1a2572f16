package scan

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// BenchmarkScanFile reads the file named by JETLINER_BENCH_FILE end to end, for
// profiling the engine without Python:
//
//	JETLINER_BENCH_FILE=x.avro go test -run '^$' -bench ScanFile -cpuprofile cpu.out ./core/scan
//
// JETLINER_BENCH_COLUMNS (comma-separated) selects columns. Without a file it skips.
func BenchmarkScanFile(b *testing.B) {
	path := os.Getenv("JETLINER_BENCH_FILE")
	if path == "" {
		b.Skip("set JETLINER_BENCH_FILE to an Avro file")
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	for i := 0; i < b.N; i++ {
		opts := DefaultOptions()
		opts.Sources = []string{path}
		if cols := os.Getenv("JETLINER_BENCH_COLUMNS"); cols != "" {
			opts.Columns = strings.Split(cols, ",")
		}
		s, err := Open(context.Background(), opts, memory.NewGoAllocator())
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rec.Release()
		}
		s.Close()
	}
}
