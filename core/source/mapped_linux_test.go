package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jetliner/jetliner/core/jerr"
)

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.avro")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func openViewer(t *testing.T, p string, stats *Stats) Viewer {
	t.Helper()
	src, err := OpenLocal(p, stats)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := src.(Viewer)
	if !ok {
		t.Fatalf("OpenLocal gave a %T, not a mapped file", src)
	}
	return v
}

func TestMappedFileViews(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	var stats Stats
	v := openViewer(t, writeTemp(t, data), &stats)
	if got := v.View(5, 10); string(got) != "5678901234" {
		t.Errorf("View(5, 10) = %q", got)
	}
	if got := v.View(9995, 10); string(got) != "56789" {
		t.Errorf("View at the end = %q, want the 5 bytes left", got)
	}
	if got := v.View(10000, 1); got != nil {
		t.Errorf("View past the end = %q", got)
	}
	// Each byte viewed counts once, however many views overlap it.
	v.View(0, 100)
	if stats.Bytes != 15 || stats.Requests != 2 {
		t.Errorf("stats %+v, want 15 bytes in 2 views", stats)
	}
	p := make([]byte, 4)
	if n, err := v.ReadAt(context.Background(), p, 9998); n != 2 || !errors.Is(err, io.EOF) || string(p[:2]) != "89" {
		t.Errorf("ReadAt at the end = %d, %v, %q", n, err, p)
	}

	// A hold keeps the bytes valid past Close; releasing twice is harmless.
	release := v.Hold()
	view := v.View(0, 10)
	v.Close()
	v.Close()
	if string(view) != "0123456789" {
		t.Errorf("view after Close = %q", view)
	}
	release()
	release()
}

func TestNoMmapEnv(t *testing.T) {
	t.Setenv(NoMmapEnv, "1")
	src, err := OpenLocal(writeTemp(t, []byte("abc")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, ok := src.(Viewer); ok {
		t.Errorf("%s=1 still mapped the file", NoMmapEnv)
	}
}

func TestEmptyFileIsNotMapped(t *testing.T) {
	src, err := OpenLocal(writeTemp(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, ok := src.(Viewer); ok {
		t.Errorf("an empty file was mapped")
	}
}

// rssFile is the file-backed resident memory of this process, in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// Evict gives the memory of the pages read back to the system: what keeps a
// streaming read of a large file at its read-ahead rather than at the file's
// size. The bytes can still be read afterwards.
func TestEvictGivesMemoryBack(t *testing.T) {
	const size = 64 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i / 4096)
	}
	v := openViewer(t, writeTemp(t, data), nil)
	defer v.Close()
	before := rssFile(t)
	all := v.View(0, size)
	var sum int
	for i := 0; i < size; i += 4096 {
		sum += int(all[i])
	}
	touched := rssFile(t)
	if touched-before < size/2 {
		t.Fatalf("reading 64 MiB raised RssFile by only %d bytes: the measurement does not work here", touched-before)
	}
	// Unaligned ends: the range is widened to whole pages.
	v.Evict(100, size-200)
	if after := rssFile(t); touched-after < size*9/10 {
		t.Errorf("Evict gave back %d of %d bytes", touched-after, size)
	}
	for i := 0; i < size; i += 4096 {
		sum -= int(all[i])
	}
	if sum != 0 || all[size-1] != byte((size-1)/4096%256) {
		t.Errorf("the bytes changed after Evict")
	}
}

// A fault on the mapping, after the file shrank, is recognised and becomes a
// SourceError; other panics are not mistaken for one.
func TestFault(t *testing.T) {
	p := writeTemp(t, make([]byte, 1<<20))
	v := openViewer(t, p, nil)
	defer v.Close()
	view := v.View(0, 1<<20)
	if err := os.Truncate(p, 4096); err != nil {
		t.Fatal(err)
	}
	recovered := func(f func()) (p any) {
		defer func() { p = recover() }()
		defer PanicOnFault()()
		f()
		return nil
	}
	var sink byte
	fault := recovered(func() { sink = view[1<<19] })
	err := v.Fault(fault)
	var e *jerr.Error
	if !errors.As(err, &e) || e.Kind != jerr.Source || !strings.Contains(e.Message, "changed while it was being read") || e.Path != p {
		t.Errorf("fault %v became %v", fault, err)
	}
	if n, err := v.ReadAt(context.Background(), make([]byte, 8), 1<<19); n != 0 || jerr.KindOf(err) != jerr.Source {
		t.Errorf("ReadAt of a page past the new end = %d, %v", n, err)
	}
	var nilMap map[string]int
	if other := recovered(func() { nilMap["x"] = 1 }); other == nil || v.Fault(other) != nil {
		t.Errorf("panic %v taken for a fault on the mapping", other)
	}
	var nilPtr *Stats
	if other := recovered(func() { nilPtr.Bytes++ }); other == nil || v.Fault(other) != nil {
		t.Errorf("nil dereference %v taken for a fault on the mapping", other)
	}
	if sink != 0 || v.Fault("not a runtime error") != nil {
		t.Errorf("a string panic taken for a fault")
	}
}
