//go:build linux && !race

// The race detector's own memory would swamp what these tests measure.

package scan

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"

	at "github.com/jetliner/jetliner/core/internal/avrotest"
)

// deflateBomb is raw deflate data that inflates to n bytes of zeros (n a
// multiple of 16 MiB): one flushed chunk of 16 MiB repeated, then a final empty
// block. Each copy's matches reach back into zeros, so every copy is valid.
func deflateBomb(t *testing.T, n int) []byte {
	var chunk bytes.Buffer
	w, err := flate.NewWriter(&chunk, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return append(bytes.Repeat(chunk.Bytes(), n/(16<<20)), 0x01, 0x00, 0x00, 0xff, 0xff)
}

// bombFile is a file of the test schema with blocks of the given deflate data,
// each claiming count records.
func bombFile(t *testing.T, data []byte, blocks int, count int64) string {
	b := at.MustBuild(t, at.File{Schema: testSchema, Codec: "deflate"})
	out := bytes.Clone(b.Bytes)
	for range blocks {
		out = at.AppendLong(out, count)
		out = at.AppendLong(out, int64(len(data)))
		out = append(out, data...)
		out = append(out, b.Sync[:]...)
	}
	return at.WriteFile(t, t.TempDir(), "bombs.avro", out)
}

// peakRSS resets the process's high-water mark of resident memory and returns
// a function that reads it (and the current RSS).
func peakRSS(t *testing.T) func() (peak, now int64) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
	return func() (int64, int64) {
		return procStatus(t, "VmHWM"), procStatus(t, "VmRSS")
	}
}

func procStatus(t *testing.T, key string) int64 {
	text, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return 0
}

// TestBombsBoundedAcrossWorkers reads eight bombs with eight workers under
// ignore_errors. Each worker may fill smallBlock on its own, but only the holder
// of the large permit goes on to max_block_size, so the peak stays near
// max_block_size + workers x smallBlock rather than workers x max_block_size;
// and the pages come back after each bomb.
func TestBombsBoundedAcrossWorkers(t *testing.T) {
	withSmallBlock(t, 16<<20)
	const limit = 256 << 20
	p := bombFile(t, deflateBomb(t, 512<<20), 8, 1<<20)
	o := opts(p)
	o.Workers = 8
	o.IgnoreErrors = true
	o.MaxBlockSize = limit
	measure := peakRSS(t)
	base, _ := measure()
	r := run(t, o)
	peak, now := measure()
	if r.err != nil || len(r.x) != 0 || len(r.errs) != 8 {
		t.Fatalf("%d rows, %v, %d bad blocks", len(r.x), r.err, len(r.errs))
	}
	// Without the permit: 8 x 256 MiB. With it: 256 + 8 x 16 MiB, plus slack.
	if grew := peak - base; grew > limit+8*(16<<20)+(64<<20) {
		t.Errorf("peak RSS grew by %d MiB", grew>>20)
	}
	if kept := now - base; kept > 64<<20 {
		t.Errorf("RSS after the read is %d MiB above its start", kept>>20)
	}
}
