package source

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jetliner/jetliner/core/jerr"
)

// Options configures how sources are found and opened.
type Options struct {
	// Glob expands glob patterns; when false every string is a literal name.
	Glob bool
	// Storage holds the S3 settings of storage_options (all values are strings).
	Storage map[string]string
	// ChunkSize is the size of one ranged GET on S3 (0: DefaultS3ChunkSize).
	ChunkSize int
	// BufferBlocks and BufferBytes bound S3 read-ahead: at most BufferBlocks chunks
	// and BufferBytes/2 bytes are fetched ahead of the reader (0: 4 and 64 MiB).
	BufferBlocks int
	BufferBytes  int64
	// PartSize is the size of one part of an S3 multipart upload, when writing
	// (0: DefaultS3PartSize; else from MinS3PartSize to MaxS3PartSize).
	PartSize int
}

// IsS3 reports whether name is an s3:// URI.
func IsS3(name string) bool { return strings.HasPrefix(name, "s3://") }

// IsFileURL reports whether name is a file: URL (file:///path, file://localhost/path
// or file:/path). "file:name", not a URL, is a relative path.
func IsFileURL(name string) bool { return strings.HasPrefix(name, "file:/") }

// LocalPath turns a file: URL into the path it names, per RFC 8089: the path is
// percent-decoded (Path.as_uri() writes a space as %20), the host must be empty
// or "localhost", and "file:/path" is accepted too. A '?' or '#' is taken as
// part of the path, not as a query or fragment: file URLs name files, and the
// '?' of a glob must keep working. Other names are returned as they are.
func LocalPath(name string) (string, error) {
	if !IsFileURL(name) {
		return name, nil
	}
	rest := strings.TrimPrefix(name, "file:")
	bad := func(format string, args ...any) (string, error) {
		return "", jerr.New(jerr.Config, format, args...).WithPath(name)
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		host, path, found := strings.Cut(after, "/")
		if !found {
			return bad("file URL names no path (want file:///path)")
		}
		if host != "" && !strings.EqualFold(host, "localhost") {
			return bad("file URL names the host %q: only local files can be read (file:///path or file://localhost/path)", host)
		}
		rest = "/" + path
	}
	if !strings.HasPrefix(rest, "/") {
		return bad("file URL has no absolute path (want file:///path)")
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return bad("file URL has a bad percent escape (write '%%' as %%25): %v", err)
	}
	if strings.ContainsRune(path, 0) {
		return bad("file URL holds a NUL byte (%%00)")
	}
	return path, nil
}

// fileURL is the file:/// URL of a path: each byte outside a path segment's
// safe set is percent-encoded, so LocalPath gives the path back.
func fileURL(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "file://" + strings.Join(segs, "/")
}

// globOfURL decodes the path of a file: URL glob. Glob characters written as
// escapes (%2A for '*') name themselves, as they do in a plain file URL.
func globOfURL(name, pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		var v uint64
		err := errors.New("cut short")
		if i+2 < len(pattern) {
			v, err = strconv.ParseUint(pattern[i+1:i+3], 16, 8)
		}
		if err != nil || v == 0 {
			return "", jerr.New(jerr.Config, "file URL has a bad percent escape (write '%%' as %%25)").WithPath(name)
		}
		if strings.IndexByte(`*?[]\`, byte(v)) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(byte(v))
		i += 2
	}
	// What is left is no longer a URL: only the host and the "file:" go.
	return LocalPath(strings.ReplaceAll(b.String(), "%", "%25"))
}

// Open opens one named source: an s3:// URI or a local path / file:// URL.
func Open(ctx context.Context, name string, opts *Options, stats *Stats) (Source, error) {
	if IsS3(name) {
		return openS3(ctx, name, opts, stats)
	}
	path, err := LocalPath(name)
	if err != nil {
		return nil, err
	}
	src, err := OpenLocal(path, stats)
	if err != nil && path != name {
		// Errors name the source as the user gave it.
		if e := jerr.As(err); e.Path == path {
			e.Path = name
		}
	}
	return src, err
}

// Expand resolves the user's sources into the ordered list of files to read. Each
// glob's matches are sorted by full path; the list keeps the user's order otherwise.
// A glob that matches nothing is a FileNotFoundError, as in Polars.
func Expand(ctx context.Context, names []string, opts *Options) ([]string, error) {
	if len(names) == 0 {
		return nil, jerr.New(jerr.Config, "no source given")
	}
	var out []string
	for _, name := range names {
		if name == "" {
			return nil, jerr.New(jerr.Config, "empty source path")
		}
		if !opts.Glob || !HasMeta(name) {
			out = append(out, name)
			continue
		}
		patterns, err := CompileGlob(name)
		if err != nil {
			return nil, jerr.Wrap(jerr.Config, err, "bad glob pattern").WithPath(name)
		}
		var matches []string
		if IsS3(name) {
			matches, err = expandS3(ctx, patterns, opts)
		} else {
			matches, err = expandLocal(name, patterns)
		}
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, jerr.New(jerr.NotFound, "glob pattern matched no files").WithPath(name)
		}
		out = append(out, matches...)
	}
	return out, nil
}

func expandLocal(name string, patterns []Pattern) ([]string, error) {
	isURL := IsFileURL(name)
	seen := map[string]bool{}
	var matches []string
	for _, p := range patterns {
		if isURL {
			text, err := globOfURL(name, p.text)
			if err != nil {
				return nil, err
			}
			if p, err = compilePattern(text, name); err != nil {
				return nil, jerr.Wrap(jerr.Config, err, "bad glob pattern").WithPath(name)
			}
		}
		root := strings.TrimSuffix(p.LiteralDir(), "/")
		if root == "" {
			if strings.HasPrefix(p.text, "/") {
				root = "/"
			} else {
				root = "."
			}
		}
		info, err := os.Stat(root)
		if err != nil || !info.IsDir() {
			continue // a missing base directory just means no matches
		}
		w := walker{pattern: p, found: func(path string) {
			if !seen[path] {
				seen[path] = true
				matches = append(matches, path)
			}
		}}
		if err := w.walk(root, []fs.FileInfo{info}); err != nil {
			return nil, err
		}
	}
	sort.Strings(matches)
	if isURL {
		for i, m := range matches {
			matches[i] = fileURL(m)
		}
	}
	return matches, nil
}

// walker lists the files under a directory that a pattern matches. Like Polars'
// globbing it follows symbolic links, to files and to directories. Unlike it, a
// link back to a directory being walked (a loop) is not followed rather than
// failing the read: everything under it is listed already. A match that cannot
// be read is an error naming it, found here rather than halfway through the
// read: a broken symbolic link, a FIFO, a device. (Polars fails on a broken
// link too, without saying which.)
type walker struct {
	pattern Pattern
	found   func(path string)
}

func (w *walker) walk(dir string, ancestors []fs.FileInfo) error {
	entries, err := os.ReadDir(dir)
	if err != nil && len(entries) == 0 {
		return nil // an unreadable directory is skipped, and the walk goes on
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		mode := e.Type()
		var info fs.FileInfo
		if mode&fs.ModeSymlink != 0 {
			info, err = os.Stat(path)
			if err != nil {
				if w.pattern.Match(path) {
					return localError(err, path)
				}
				continue // a broken link the pattern does not name is no concern
			}
			mode = info.Mode().Type()
		}
		if mode.IsDir() {
			if !w.pattern.Recursive() && segmentCount(path) >= w.pattern.Depth() {
				continue
			}
			if info == nil {
				if info, err = e.Info(); err != nil {
					continue
				}
			}
			if looped(info, ancestors) {
				continue
			}
			if err := w.walk(path, append(ancestors, info)); err != nil {
				return err
			}
			continue
		}
		if !w.pattern.Match(path) {
			continue
		}
		if what := fileKind(mode); what != "" {
			return jerr.New(jerr.Source, "the glob matched this, which %s, not a regular file", what).WithPath(path)
		}
		w.found(path)
	}
	return nil
}

// looped reports whether dir is one of the directories being walked.
func looped(dir fs.FileInfo, ancestors []fs.FileInfo) bool {
	for _, a := range ancestors {
		if os.SameFile(a, dir) {
			return true
		}
	}
	return false
}

func segmentCount(path string) int {
	if path == "." {
		return 0
	}
	return strings.Count(path, "/") + 1
}
