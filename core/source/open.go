package source

import (
	"context"
	"io/fs"
	"path/filepath"
	"sort"
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
}

// IsS3 reports whether name is an s3:// URI.
func IsS3(name string) bool { return strings.HasPrefix(name, "s3://") }

// localPath turns a file:// URL into a path and leaves other names alone.
func localPath(name string) string {
	if strings.HasPrefix(name, "file://") {
		return strings.TrimPrefix(name, "file://")
	}
	return name
}

// Open opens one named source: an s3:// URI or a local path / file:// URL.
func Open(ctx context.Context, name string, opts *Options, stats *Stats) (Source, error) {
	if IsS3(name) {
		return openS3(ctx, name, opts, stats)
	}
	return OpenLocal(localPath(name), stats)
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
			matches, err = expandLocal(patterns, strings.HasPrefix(name, "file://"))
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

func expandLocal(patterns []Pattern, fileURL bool) ([]string, error) {
	seen := map[string]bool{}
	var matches []string
	for _, p := range patterns {
		if fileURL {
			p = Pattern{text: localPath(p.text), segments: strings.Split(localPath(p.text), "/")}
		}
		root := strings.TrimSuffix(p.LiteralDir(), "/")
		if root == "" {
			if strings.HasPrefix(p.text, "/") {
				root = "/"
			} else {
				root = "."
			}
		}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					// A missing base directory just means no matches.
					return fs.SkipAll
				}
				return nil // unreadable subdirectory: skip it like `ls` would
			}
			if d.IsDir() {
				if path != root && !p.Recursive() && segmentCount(path) >= p.Depth() {
					return fs.SkipDir
				}
				return nil
			}
			if p.Match(path) && !seen[path] {
				seen[path] = true
				matches = append(matches, path)
			}
			return nil
		})
		if err != nil {
			return nil, jerr.Wrap(jerr.Source, err, "cannot list directory").WithPath(root)
		}
	}
	sort.Strings(matches)
	if fileURL {
		for i, m := range matches {
			matches[i] = "file://" + m
		}
	}
	return matches, nil
}

func segmentCount(path string) int {
	if path == "." {
		return 0
	}
	return strings.Count(path, "/") + 1
}
