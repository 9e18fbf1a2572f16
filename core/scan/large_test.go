package scan

import (
	"bytes"
	"testing"

	"github.com/jetliner/jetliner/core/codec"
	at "github.com/jetliner/jetliner/core/internal/avrotest"
)

// withSmallBlock lowers smallBlock for one test, so that ordinary test blocks
// take the large-permit path.
func withSmallBlock(t *testing.T, n int64) {
	old := smallBlock
	smallBlock = n
	t.Cleanup(func() { smallBlock = old })
}

// TestLargeBlocks reads files whose blocks are all larger than smallBlock, with
// more workers than the permit admits at once: every block is decompressed
// twice (or refused from its stated size first), the permit is handed on (or
// the scan would hang), and the rows are those of a plain read.
func TestLargeBlocks(t *testing.T) {
	withSmallBlock(t, 64<<10)
	dir := t.TempDir()
	for _, c := range codec.Names() {
		p, _ := writeFile(t, dir, c+".avro", c, blocks(0, 8, 10_000)) // ~140 KiB per block
		for _, workers := range []int{1, 4} {
			o := opts(p)
			o.Workers = workers
			r := run(t, o)
			if r.err != nil || len(r.x) != 8*10_000 {
				t.Fatalf("%s, %d workers: %d rows, %v", c, workers, len(r.x), r.err)
			}
			for i, x := range r.x {
				if x != int64(i) {
					t.Fatalf("%s, %d workers: row %d is %d", c, workers, i, x)
				}
			}
		}
	}
}

// TestLargeBlockRefused: a block over max_block_size is refused on the second
// attempt, under the permit, and the permit is released for the blocks after it.
func TestLargeBlockRefused(t *testing.T) {
	withSmallBlock(t, 64<<10)
	dir := t.TempDir()
	for _, c := range []string{"deflate", "zstandard", "bzip2", "xz", "snappy"} {
		big := block(0, 200_000)            // ~2 MiB
		small := blocks(100_000, 8, 10_000) // ~140 KiB each
		all := append(append(append([]at.Block{}, small[:4]...), big), small[4:]...)
		p, _ := writeFile(t, dir, c+".avro", c, all)
		o := opts(p)
		o.Workers = 3
		o.IgnoreErrors = true
		o.MaxBlockSize = 1 << 20
		r := run(t, o)
		if r.err != nil || len(r.x) != 80_000 || len(r.errs) != 1 || r.errs[0].Block != 4 {
			t.Fatalf("%s: %d rows, %v, bad blocks %+v", c, len(r.x), r.err, r.errs)
		}
		if !bytes.Contains([]byte(r.errs[0].Message), []byte("max_block_size")) {
			t.Errorf("%s: %s", c, r.errs[0].Message)
		}
	}
}
