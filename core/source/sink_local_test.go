package source

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jetliner/jetliner/core/jerr"
)

// entries lists the names in dir, hidden ones included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func write(t *testing.T, s Sink, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if n, err := s.Write([]byte(p)); err != nil || n != len(p) {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
}

// Nothing is at the target until Commit, which puts all of it there at once
// and leaves no temporary file; the file gets the mode a new file gets.
func TestLocalSinkCommit(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.avro")
	s, err := Create(context.Background(), target, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "Obj\x01", strings.Repeat("x", 100000))
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("the target exists before Commit: %v", err)
	}
	if names := entries(t, dir); len(names) != 1 || !strings.HasPrefix(names[0], ".out.avro.jetliner-") || !strings.HasSuffix(names[0], ".tmp") {
		t.Fatalf("while writing the directory holds %v", names)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil || string(got) != "Obj\x01"+strings.Repeat("x", 100000) {
		t.Fatalf("after Commit: %d bytes, %v", len(got), err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("after Commit the directory holds %v", names)
	}
	// A second Commit and a late Abort change nothing.
	if err := s.Commit(); err != nil {
		t.Errorf("second Commit: %v", err)
	}
	if err := s.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if _, err := os.Stat(target); err != nil {
		t.Errorf("Abort after Commit removed the file: %v", err)
	}
	if _, err := s.Write([]byte("more")); err == nil {
		t.Error("Write after Commit succeeds")
	}
	// The mode is that of any new file (0666 less the umask).
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	want, _ := os.Stat(plain)
	info, _ := os.Stat(target)
	if info.Mode() != want.Mode() {
		t.Errorf("mode %v, want %v", info.Mode(), want.Mode())
	}
}

// Abort leaves nothing behind, whenever it comes, and may be repeated; the
// sink refuses to be used afterwards.
func TestLocalSinkAbort(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.avro")
	s, err := Create(context.Background(), target, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "half a file")
	for range 2 {
		if err := s.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("after Abort the directory holds %v", names)
	}
	if _, err := s.Write([]byte("x")); err == nil {
		t.Error("Write after Abort succeeds")
	}
	if err := s.Commit(); err == nil {
		t.Error("Commit after Abort succeeds")
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("Commit after Abort left %v", names)
	}
	// Abort before anything was written.
	s, err = Create(context.Background(), target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("after Abort the directory holds %v", names)
	}
}

// An existing file is replaced only by Commit: while writing, and after an
// Abort, it keeps its content; its permission bits survive the replacement.
func TestLocalSinkReplace(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.avro")
	if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(target, 0o640)
	check := func(want string) {
		t.Helper()
		got, err := os.ReadFile(target)
		if err != nil || string(got) != want {
			t.Fatalf("target holds %q, %v; want %q", got, err, want)
		}
	}
	s, _ := Create(context.Background(), target, nil)
	write(t, s, "new")
	check("old")
	s.Abort()
	check("old")

	s, _ = Create(context.Background(), target, nil)
	write(t, s, "new")
	check("old")
	// A reader that opened the old file keeps reading the old file.
	f, err := os.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	check("new")
	old := make([]byte, 3)
	if _, err := f.ReadAt(old, 0); err != nil || string(old) != "old" {
		t.Errorf("an open reader sees %q, %v", old, err)
	}
	if info, _ := os.Stat(target); info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after replacing a 0640 file", info.Mode())
	}
}

// A symbolic link is written through: the file it points to is replaced, and the
// link stays a link. A dangling link creates the file it names.
func TestLocalSinkSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.avro")
	link := filepath.Join(dir, "link.avro")
	os.WriteFile(real, []byte("old"), 0o644)
	os.Symlink("real.avro", link)
	s, err := Create(context.Background(), link, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "new")
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(real); string(got) != "new" {
		t.Errorf("the linked file holds %q", got)
	}
	if l, err := os.Lstat(link); err != nil || l.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}

	dangling := filepath.Join(dir, "dangling.avro")
	os.Symlink("made.avro", dangling)
	s, err = Create(context.Background(), dangling, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "made")
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "made.avro")); string(got) != "made" {
		t.Errorf("the dangling link's file holds %q", got)
	}
}

// file:// URLs name local files, as they do for reading.
func TestLocalSinkFileURL(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a b.avro")
	s, err := Create(context.Background(), fileURL(target), nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "url")
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "url" {
		t.Errorf("got %q", got)
	}
	_, err = Create(context.Background(), "file://elsewhere/x.avro", nil)
	wantKind(t, err, jerr.Config)
}

// Where nothing can be written, Create says why with the kind Python raises,
// naming the destination as given, and leaves nothing.
func TestLocalSinkCreateErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "dir", "out.avro")
	_, err := Create(context.Background(), missing, nil)
	if e := wantKind(t, err, jerr.NotFound); e.Path != missing || !strings.Contains(e.Message, "directory") {
		t.Errorf("missing directory: %v", err)
	}
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		dir:         "is a directory",
		fifo:        "is a FIFO",
		"/dev/null": "is a character device",
	} {
		_, err := Create(context.Background(), path, nil)
		if e := wantKind(t, err, jerr.Source); !strings.Contains(e.Message, want) {
			t.Errorf("%s: %v", path, err)
		}
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	_, err = Create(context.Background(), filepath.Join(file, "out.avro"), nil)
	wantKind(t, err, jerr.Source)
	_, err = Create(context.Background(), "", nil)
	wantKind(t, err, jerr.Config)
	if names := entries(t, dir); len(names) != 2 {
		t.Errorf("failed creates left %v", names)
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked")
		os.Mkdir(locked, 0o500)
		_, err = Create(context.Background(), filepath.Join(locked, "out.avro"), nil)
		wantKind(t, err, jerr.Permission)
	}
}

// A cancelled context fails the next Write as CancelledError; Abort then
// cleans up.
func TestLocalSinkCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Create(ctx, filepath.Join(dir, "out.avro"), nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "some")
	cancel()
	_, err = s.Write([]byte("more"))
	wantKind(t, err, jerr.Cancelled)
	wantKind(t, s.Commit(), jerr.Cancelled)
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("a cancelled write left %v", names)
	}
}

// A full disk is a SourceError that says so, and the partial file goes.
// The disk is a real one: a 64 KiB tmpfs, mounted where the test may (root);
// elsewhere the mapping of the error is checked on its own.
func TestLocalSinkDiskFull(t *testing.T) {
	e := wantKind(t, writeError(&fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, "out.avro", "cannot write the file"), jerr.Source)
	if !strings.Contains(e.Message, "the disk is full") {
		t.Errorf("ENOSPC: %v", e)
	}
	dir := t.TempDir()
	if os.Geteuid() != 0 || exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).Run() != nil {
		t.Skip("cannot mount a small tmpfs here (not root): the mapping alone was checked")
	}
	defer exec.Command("umount", dir).Run()
	target := filepath.Join(dir, "out.avro")
	s, err := Create(context.Background(), target, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 16<<10)
	for i := 0; err == nil && i < 100; i++ {
		_, err = s.Write(chunk)
	}
	e = wantKind(t, err, jerr.Source)
	if !strings.Contains(e.Message, "the disk is full") || e.Path != target {
		t.Errorf("full disk: %v", err)
	}
	// The first error sticks.
	if _, err2 := s.Write([]byte("x")); err2 != err {
		t.Errorf("a Write after the failure: %v", err2)
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("a failed write left %v", names)
	}
}
