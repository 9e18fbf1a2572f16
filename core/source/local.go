package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/jetliner/jetliner/core/jerr"
)

// localFile is a Source over a file on local disk. Reads use pread, so concurrent
// ReadAt calls are safe and need no locking.
type localFile struct {
	f     *os.File
	path  string
	size  int64
	stats *Stats
}

// NoMmapEnv, set to anything, makes local files be read with pread rather than
// mapped: a way out should mmap misbehave on some file system, and a way to
// compare the two.
const NoMmapEnv = "JETLINER_NO_MMAP"

// OpenLocal opens a local file: mapped into memory (a Viewer) where the platform
// allows, else read with pread. Missing files and permission problems get the
// matching jerr kinds so Python raises FileNotFoundError / PermissionError.
func OpenLocal(path string, stats *Stats) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, localError(err, path)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, localError(err, path)
	}
	if info.IsDir() {
		f.Close()
		return nil, jerr.New(jerr.Source, "is a directory, not an Avro file").WithPath(path)
	}
	if stats == nil {
		stats = new(Stats)
	}
	if os.Getenv(NoMmapEnv) == "" {
		if data := mapFile(f, info.Size()); data != nil {
			f.Close() // the mapping keeps the file open
			return newMappedFile(path, data, stats), nil
		}
	}
	return &localFile{f: f, path: path, size: info.Size(), stats: stats}, nil
}

func (l *localFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := l.f.ReadAt(p, off)
	atomic.AddInt64(&l.stats.Requests, 1)
	atomic.AddInt64(&l.stats.Bytes, int64(n))
	if err != nil && !errors.Is(err, io.EOF) {
		return n, localError(err, l.path)
	}
	return n, err
}

func (l *localFile) Size() int64  { return l.size }
func (l *localFile) Path() string { return l.path }

func (l *localFile) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func localError(err error, path string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return jerr.Wrap(jerr.NotFound, err, "no such file").WithPath(path)
	case errors.Is(err, fs.ErrPermission):
		return jerr.Wrap(jerr.Permission, err, "permission denied").WithPath(path)
	default:
		return jerr.Wrap(jerr.Source, err, "cannot read file").WithPath(path)
	}
}
