package source

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jetliner/jetliner/core/jerr"
)

// Sources that are not regular files are refused, saying what they are, and a
// FIFO with no writer does not block the open.
func TestOpenLocalNotRegular(t *testing.T) {
	root := t.TempDir()
	fifo := filepath.Join(root, "pipe.avro")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(root, "s.avro")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cases := map[string]string{
		fifo:        "is a FIFO (named pipe), not a regular file",
		sock:        "is a socket, not a regular file",
		"/dev/zero": "is a character device, not a regular file",
		"/dev/null": "is a character device, not a regular file",
		root:        "is a directory, not a regular file",
		// Size 0, content all the same: not "the file is empty".
		"/proc/self/status": "reports a size of 0 but has content",
	}
	for path, want := range cases {
		done := make(chan error, 1)
		go func() {
			src, err := OpenLocal(path, nil)
			if err == nil {
				src.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			e := wantKind(t, err, jerr.Source)
			if !strings.Contains(e.Message, want) || e.Path != path {
				t.Errorf("%s: %v, want %q", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: OpenLocal hangs", path)
		}
	}
	// A link to one of them is judged by what it points to.
	link := filepath.Join(root, "link.avro")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	_, err = OpenLocal(link, nil)
	if e := wantKind(t, err, jerr.Source); !strings.Contains(e.Message, "FIFO") {
		t.Errorf("link to a FIFO: %v", err)
	}
	// A regular empty file is still read (as an empty file).
	empty := filepath.Join(root, "empty.avro")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenLocal(empty, nil)
	if err != nil || src.Size() != 0 {
		t.Fatalf("empty file: %v", err)
	}
	src.Close()
}

func TestOpenLocalBrokenLink(t *testing.T) {
	root := t.TempDir()
	link := filepath.Join(root, "gone.avro")
	if err := os.Symlink(filepath.Join(root, "target.avro"), link); err != nil {
		t.Fatal(err)
	}
	_, err := OpenLocal(link, nil)
	e := wantKind(t, err, jerr.NotFound)
	if !strings.Contains(e.Message, "broken symbolic link") || !strings.Contains(e.Message, "target.avro") || e.Path != link {
		t.Errorf("broken link: %v", err)
	}
}

// file: URLs are decoded as RFC 8089 says, and round-trip with the URLs
// Python's Path.as_uri() writes.
func TestFileURLs(t *testing.T) {
	for url, want := range map[string]string{
		"file:///data/a.avro":                    "/data/a.avro",
		"file://localhost/data/a.avro":           "/data/a.avro",
		"file://LOCALHOST/data/a.avro":           "/data/a.avro",
		"file:/data/a.avro":                      "/data/a.avro",
		"file:///data/my%20file.avro":            "/data/my file.avro",
		"file:///data/%C3%BCber%2520%3F%23.avro": "/data/über%20?#.avro",
		"file:///data/a?.avro":                   "/data/a?.avro", // '?' is no query
		"data/file:x.avro":                       "data/file:x.avro",
		"file:x.avro":                            "file:x.avro", // not a URL: a relative name
	} {
		got, err := LocalPath(url)
		if err != nil || got != want {
			t.Errorf("LocalPath(%q) = %q, %v; want %q", url, got, err, want)
		}
	}
	for url, want := range map[string]string{
		"file://server/share/a.avro": `names the host "server"`,
		"file:///data/100%.avro":     "bad percent escape",
		"file:///data/%zz.avro":      "bad percent escape",
		"file:///data/a%00.avro":     "NUL",
		"file://localhost":           "no path",
	} {
		_, err := LocalPath(url)
		if e := wantKind(t, err, jerr.Config); !strings.Contains(e.Message, want) || e.Path != url {
			t.Errorf("LocalPath(%q): %v, want %q", url, err, want)
		}
	}
	for _, p := range []string{"/a b/c.avro", "/ü/100%/x?#[*].avro", "/plain.avro"} {
		if got, err := LocalPath(fileURL(p)); err != nil || got != p {
			t.Errorf("round trip of %q through %q: %q, %v", p, fileURL(p), got, err)
		}
	}

	// Open and Expand take them; errors name the source as given.
	root := tree(t, "my dir/a b.avro", "my dir/100%.avro", "my dir/x*.avro", "my dir/xy.avro")
	dirURL := fileURL(filepath.Join(root, "my dir"))
	src, err := Open(context.Background(), dirURL+"/a%20b.avro", &Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	_, err = Open(context.Background(), dirURL+"/missing%20file.avro", &Options{}, nil)
	if e := wantKind(t, err, jerr.NotFound); e.Path != dirURL+"/missing%20file.avro" {
		t.Errorf("path %q", e.Path)
	}
	got, err := expand(t, Options{Glob: true}, dirURL+"/*.avro")
	want := []string{dirURL + "/100%25.avro", dirURL + "/a%20b.avro", dirURL + "/x%2A.avro", dirURL + "/xy.avro"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("glob:\n got %v, %v\nwant %v", got, err, want)
	}
	// An escaped '*' is a literal star, not a wildcard.
	got, err = expand(t, Options{Glob: true}, dirURL+"/[x]%2A.avro")
	if want := []string{dirURL + "/x%2A.avro"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("escaped star: %v, %v", got, err)
	}
	for _, u := range got {
		src, err := Open(context.Background(), u, &Options{}, nil)
		if err != nil {
			t.Fatalf("a match does not open: %v", err)
		}
		src.Close()
	}
}

// Globs follow symbolic links as Polars does, skip loops, and name a match
// that cannot be read.
func TestExpandLinks(t *testing.T) {
	root := tree(t, "d/a.avro", "d/sub/b.avro", "real/c.avro")
	d := filepath.Join(root, "d")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(root, "real"), filepath.Join(d, "linkdir")))
	must(os.Symlink(filepath.Join(root, "real/c.avro"), filepath.Join(d, "filelink.avro")))
	must(os.Symlink(d, filepath.Join(d, "sub", "loop")))      // back to an ancestor
	must(os.Symlink("self", filepath.Join(d, "sub", "self"))) // a link to itself
	must(os.Symlink("nowhere", filepath.Join(d, "notes.txt")))
	glob := Options{Glob: true}
	done := make(chan struct{})
	var got []string
	var err error
	go func() {
		got, err = expand(t, glob, filepath.Join(d, "**", "*.avro"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a ** glob over a symlink loop hangs")
	}
	want := []string{"a.avro", "filelink.avro", "linkdir/c.avro", "sub/b.avro"}
	for i, w := range want {
		want[i] = filepath.Join(d, w)
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("**:\n got %v, %v\nwant %v", got, err, want)
	}
	got, err = expand(t, glob, filepath.Join(d, "*", "*.avro"))
	if w := []string{filepath.Join(d, "linkdir/c.avro"), filepath.Join(d, "sub/b.avro")}; err != nil || !reflect.DeepEqual(got, w) {
		t.Errorf("*/*: %v, %v", got, err)
	}

	// A broken link the pattern matches fails the expansion, naming it.
	dangling := filepath.Join(d, "sub", "gone.avro")
	must(os.Symlink(filepath.Join(root, "deleted.avro"), dangling))
	for _, pattern := range []string{"**/*.avro", "sub/*.avro"} {
		_, err = expand(t, glob, filepath.Join(d, pattern))
		e := wantKind(t, err, jerr.NotFound)
		if e.Path != dangling || !strings.Contains(e.Message, "deleted.avro") {
			t.Errorf("%s: %v", pattern, err)
		}
	}
	must(os.Remove(dangling))

	// So does a FIFO, and the walk does not open it (which would block).
	must(syscall.Mkfifo(filepath.Join(d, "sub", "p.avro"), 0o644))
	_, err = expand(t, glob, filepath.Join(d, "**", "*.avro"))
	if e := wantKind(t, err, jerr.Source); !strings.Contains(e.Message, "FIFO") || !strings.HasSuffix(e.Path, "p.avro") {
		t.Errorf("FIFO: %v", err)
	}
}
