package source

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jetliner/jetliner/core/jerr"
)

func wantKind(t testing.TB, err error, k jerr.Kind) *jerr.Error {
	t.Helper()
	var e *jerr.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("got error %v, want kind %s", err, k)
	}
	return e
}

func TestHasMeta(t *testing.T) {
	for s, want := range map[string]bool{
		"plain/file.avro": false, "a*.avro": true, "a?.avro": true, "[ab].avro": true, "{a,b}.avro": true,
		"s3://bucket/key.avro": false, "odd name (1).avro": false,
	} {
		if HasMeta(s) != want {
			t.Errorf("HasMeta(%q) = %v", s, !want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		glob string
		yes  []string
		no   []string
	}{
		{"d/*.avro", []string{"d/a.avro", "d/.avro", "d/x.y.avro"}, []string{"d/a.avr", "d/s/a.avro", "a.avro", "e/a.avro"}},
		{"d/?.avro", []string{"d/a.avro"}, []string{"d/ab.avro", "d/.avro"}},
		{"d/[a-c].avro", []string{"d/a.avro", "d/c.avro"}, []string{"d/d.avro"}},
		{"d/[!a].avro", []string{"d/b.avro", "d/!.avro"}, []string{"d/a.avro"}}, // shell negation, as in Polars
		{"d/[^a].avro", []string{"d/b.avro"}, []string{"d/a.avro"}},
		{"d/[!a][!b]", []string{"d/xy"}, []string{"d/ay", "d/xb"}},
		{`d/\[!a]`, []string{"d/[!a]"}, []string{"d/b"}}, // escaped: literal
		{"d/{a,bc}.avro", []string{"d/a.avro", "d/bc.avro"}, []string{"d/b.avro", "d/{a,bc}.avro"}},
		{"d/{x,y{1,2}}/f", []string{"d/x/f", "d/y1/f", "d/y2/f"}, []string{"d/y/f", "d/y12/f"}},
		{"d/{,pre}f", []string{"d/f", "d/pref"}, nil},
		{"d/**/*.avro", []string{"d/a.avro", "d/s/a.avro", "d/s/t/u/a.avro"}, []string{"e/a.avro", "d/s/a.txt"}},
		{"d/**", []string{"d/a", "d/s/t"}, []string{"d"}},
		{"**/x.avro", []string{"x.avro", "a/x.avro", "a/b/x.avro"}, []string{"a/y.avro"}},
		{"d/**/**/x", []string{"d/x", "d/a/x", "d/a/b/x"}, nil},
		{"d/*/x", []string{"d/a/x"}, []string{"d/x", "d/a/b/x"}},
		{"/abs/*.avro", []string{"/abs/a.avro"}, []string{"abs/a.avro"}},
	}
	for _, c := range cases {
		pats, err := CompileGlob(c.glob)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", c.glob, err)
		}
		match := func(name string) bool {
			for _, p := range pats {
				if p.Match(name) {
					return true
				}
			}
			return false
		}
		for _, name := range c.yes {
			if !match(name) {
				t.Errorf("%q should match %q", c.glob, name)
			}
		}
		for _, name := range c.no {
			if match(name) {
				t.Errorf("%q should not match %q", c.glob, name)
			}
		}
	}
}

func TestBraceExpansion(t *testing.T) {
	pats, err := CompileGlob("a{b,c{d,e}}f{1,2}")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pats {
		got = append(got, p.text)
	}
	want := []string{"abf1", "abf2", "acdf1", "acdf2", "acef1", "acef2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expanded to %v, want %v", got, want)
	}
}

func TestGlobErrors(t *testing.T) {
	for _, g := range []string{"a{b,c", "a}b", "a{b}}", "d/a**/x", "d/**x", "d/[a.avro", "d/[]"} {
		if _, err := CompileGlob(g); err == nil {
			t.Errorf("CompileGlob(%q) succeeded", g)
		}
	}
}

func TestPatternParts(t *testing.T) {
	cases := []struct {
		glob, prefix, dir string
		recursive         bool
		depth             int
	}{
		{"data/2024/*.avro", "data/2024/", "data/2024/", false, 3},
		{"data/part-*/x.avro", "data/part-", "data/", false, 3},
		{"data/**/x.avro", "data/", "data/", true, 3},
		{"*.avro", "", "", false, 1},
		{"s3://b/k/[ab]", "s3://b/k/", "s3://b/k/", false, 5},
		{"/abs/file?.avro", "/abs/file", "/abs/", false, 3},
	}
	for _, c := range cases {
		pats, err := CompileGlob(c.glob)
		if err != nil {
			t.Fatal(err)
		}
		p := pats[0]
		if p.LiteralPrefix() != c.prefix || p.LiteralDir() != c.dir || p.Recursive() != c.recursive || p.Depth() != c.depth {
			t.Errorf("%q: prefix %q dir %q recursive %v depth %d", c.glob, p.LiteralPrefix(), p.LiteralDir(), p.Recursive(), p.Depth())
		}
	}
}

// tree creates files (relative paths) under a new temporary directory.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func expand(t *testing.T, opts Options, names ...string) ([]string, error) {
	t.Helper()
	return Expand(context.Background(), names, &opts)
}

func TestExpand(t *testing.T) {
	root := tree(t, "b.avro", "a.avro", "c.txt", "sub/d.avro", "sub/deep/e.avro", "sub2/f.avro", "x1.avro", "x10.avro", "x2.avro")
	abs := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(root, n)
		}
		return out
	}
	glob := Options{Glob: true}
	cases := []struct {
		pattern string
		want    []string
	}{
		{"*.avro", abs("a.avro", "b.avro", "x1.avro", "x10.avro", "x2.avro")},
		{"?.avro", abs("a.avro", "b.avro")},
		{"[ab].avro", abs("a.avro", "b.avro")},
		{"{b,a}.avro", abs("a.avro", "b.avro")}, // sorted, not in brace order
		{"{a,a,[a]}.avro", abs("a.avro")},       // no duplicates
		{"sub*/*.avro", abs("sub/d.avro", "sub2/f.avro")},
		{"**/*.avro", abs("a.avro", "b.avro", "sub/d.avro", "sub/deep/e.avro", "sub2/f.avro", "x1.avro", "x10.avro", "x2.avro")},
		{"sub/**/*.avro", abs("sub/d.avro", "sub/deep/e.avro")},
		{"sub/**", abs("sub/d.avro", "sub/deep/e.avro")},
		{"x*.avro", abs("x1.avro", "x10.avro", "x2.avro")}, // byte order, as Polars sorts
	}
	for _, c := range cases {
		got, err := expand(t, glob, filepath.Join(root, c.pattern))
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.pattern, got, c.want)
		}
	}

	// Several sources keep their order; each glob's matches are sorted.
	got, err := expand(t, glob, filepath.Join(root, "sub2/f.avro"), filepath.Join(root, "[ba].avro"))
	if want := abs("sub2/f.avro", "a.avro", "b.avro"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("list: %v, %v", got, err)
	}

	// file:// URLs stay URLs.
	got, err = expand(t, glob, "file://"+filepath.Join(root, "?.avro"))
	if want := []string{"file://" + filepath.Join(root, "a.avro"), "file://" + filepath.Join(root, "b.avro")}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("file URL: %v, %v", got, err)
	}

	// Relative patterns are relative to the working directory.
	t.Chdir(root)
	got, err = expand(t, glob, "sub/*.avro", "*.txt")
	if want := []string{"sub/d.avro", "c.txt"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("relative: %v, %v", got, err)
	}
}

func TestExpandLiteral(t *testing.T) {
	root := tree(t, "a.avro")
	star := filepath.Join(root, "*.avro")
	// glob=False: the name is taken as is, even with glob characters and unopened.
	got, err := expand(t, Options{Glob: false}, star)
	if err != nil || !reflect.DeepEqual(got, []string{star}) {
		t.Errorf("glob=false: %v, %v", got, err)
	}
	// Names without glob characters are not checked here; opening reports them.
	missing := filepath.Join(root, "missing.avro")
	got, err = expand(t, Options{Glob: true}, missing)
	if err != nil || !reflect.DeepEqual(got, []string{missing}) {
		t.Errorf("plain name: %v, %v", got, err)
	}
}

func TestExpandErrors(t *testing.T) {
	root := tree(t, "a.avro")
	glob := Options{Glob: true}
	_, err := expand(t, glob, filepath.Join(root, "*.parquet"))
	e := wantKind(t, err, jerr.NotFound)
	if !strings.HasSuffix(e.Path, "*.parquet") {
		t.Errorf("path %q", e.Path)
	}
	_, err = expand(t, glob, filepath.Join(root, "nodir", "*.avro"))
	wantKind(t, err, jerr.NotFound)
	_, err = expand(t, glob, filepath.Join(root, "a.avro"), filepath.Join(root, "z*"))
	wantKind(t, err, jerr.NotFound)
	_, err = expand(t, glob, filepath.Join(root, "{a.avro"))
	wantKind(t, err, jerr.Config)
	_, err = expand(t, glob)
	wantKind(t, err, jerr.Config)
	_, err = expand(t, glob, "")
	wantKind(t, err, jerr.Config)
}

func TestOpenLocal(t *testing.T) {
	root := tree(t, "f.avro", "dir/x")
	path := filepath.Join(root, "f.avro") // holds "f.avro": 6 bytes
	var stats Stats
	src, err := OpenLocal(path, &stats)
	if err != nil {
		t.Fatal(err)
	}
	if src.Size() != 6 || src.Path() != path {
		t.Errorf("Size %d Path %q", src.Size(), src.Path())
	}
	ctx := context.Background()
	p := make([]byte, 4)
	if n, err := src.ReadAt(ctx, p, 1); n != 4 || err != nil || string(p) != ".avr" {
		t.Errorf("ReadAt(1) = %d, %v, %q", n, err, p)
	}
	// A read running past the end returns what there is and io.EOF.
	if n, err := src.ReadAt(ctx, p, 4); n != 2 || !errors.Is(err, io.EOF) || string(p[:2]) != "ro" {
		t.Errorf("ReadAt(4) = %d, %v", n, err)
	}
	if n, err := src.ReadAt(ctx, p, 6); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt(6) = %d, %v", n, err)
	}
	if stats.Requests != 3 || stats.Bytes != 6 {
		t.Errorf("stats %+v", stats)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := src.ReadAt(cancelled, p, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt with a cancelled context: %v", err)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	_, err = OpenLocal(filepath.Join(root, "missing.avro"), nil)
	e := wantKind(t, err, jerr.NotFound)
	if e.Path != filepath.Join(root, "missing.avro") {
		t.Errorf("path %q", e.Path)
	}
	_, err = OpenLocal(filepath.Join(root, "dir"), nil)
	wantKind(t, err, jerr.Source)

	// Open understands file:// URLs.
	src, err = Open(ctx, "file://"+path, &Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if src.Size() != 6 {
		t.Errorf("file URL size %d", src.Size())
	}
	src.Close()
}

func TestOpenLocalPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read anything")
	}
	root := tree(t, "secret.avro")
	path := filepath.Join(root, "secret.avro")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := OpenLocal(path, nil)
	wantKind(t, err, jerr.Permission)
}
