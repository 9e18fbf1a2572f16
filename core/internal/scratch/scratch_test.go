package scratch

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestGetHasRoomForTheLimit(t *testing.T) {
	var b Buffer
	defer b.Free()
	for _, limit := range []int64{0, 100, 4 << 20, 512 << 20} {
		p := b.Get(limit)
		if len(p) != 0 || limit+overshoot >= minReserve && int64(cap(p)) < limit+overshoot {
			t.Errorf("limit %d: len %d cap %d", limit, len(p), cap(p))
		}
	}
	// Without a limit it is the heap buffer last kept.
	heap := make([]byte, 10, 1000)
	b.Keep(heap)
	if p := b.Get(-1); cap(p) != 1000 {
		t.Errorf("heap buffer not reused: cap %d", cap(p))
	}
}

func TestKeepIgnoresTheReservation(t *testing.T) {
	var b Buffer
	defer b.Free()
	p := b.Get(8 << 20)
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no reservations on " + runtime.GOOS)
	}
	p = append(p, "abc"...)
	b.Keep(p)
	if b.heap != nil {
		t.Error("a slice of the reservation was kept as the heap buffer")
	}
	if q := b.Get(8 << 20); &q[:1][0] != &p[0] {
		t.Error("the reservation was not reused")
	}
	other := []byte("input block") // e.g. what the null codec returns
	b.Keep(other)
	if cap(b.heap) != cap(other) {
		t.Error("a foreign slice was not kept")
	}
}

// TestOnlyWrittenPagesCost checks the point of the package: a reservation for a
// 1 GiB limit costs nothing until written, and Shrink gives written pages back.
func TestOnlyWrittenPagesCost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status")
	}
	var b Buffer
	defer b.Free()
	before := rssAnon(t)
	p := b.Get(1 << 30)
	if after := rssAnon(t); after-before > 8<<20 {
		t.Fatalf("reserving 1 GiB cost %d bytes", after-before)
	}
	p = p[:256<<20]
	for i := 0; i < len(p); i += 4096 {
		p[i] = 1
	}
	written := rssAnon(t)
	if written-before < 200<<20 {
		t.Fatalf("writing 256 MiB added only %d bytes", written-before)
	}
	b.Shrink(1 << 20)
	if after := rssAnon(t); after-before > 16<<20 {
		t.Fatalf("after Shrink, %d bytes are still held", after-before)
	}
	// Pages given back read as zeros; the kept ones keep their bytes.
	if p[0] != 1 || p[2<<20] != 0 {
		t.Errorf("bytes after Shrink: %d %d", p[0], p[2<<20])
	}
}

func rssAnon(t *testing.T) int64 {
	text, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}
