package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"

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
//
// Only regular files are read. A FIFO, a device, a socket or a directory is
// refused with a SourceError that says what it is: their size says nothing of
// their content (/dev/zero has size 0 and no end; a FIFO with no writer would
// block the read forever). A regular file whose size is 0 but that has content,
// as /proc files do, is refused too: a reader needs the size to frame blocks.
func OpenLocal(path string, stats *Stats) (Source, error) {
	// Stat before opening: opening a FIFO blocks until a writer comes, and
	// opening some devices does something. The check is repeated on the open
	// file, which O_NONBLOCK keeps from blocking, in case the name changed.
	info, err := os.Stat(path)
	if err != nil {
		return nil, localError(err, path)
	}
	if err := checkRegular(info); err != nil {
		return nil, err.WithPath(path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, localError(err, path)
	}
	info, err = f.Stat()
	if err == nil {
		if e := checkRegular(info); e != nil {
			err = e.WithPath(path)
		}
	}
	if err == nil && info.Size() == 0 {
		err = checkEmpty(f, path)
	}
	if err != nil {
		f.Close()
		if jerr.KindOf(err) != "" {
			return nil, err
		}
		return nil, localError(err, path)
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

// checkRegular refuses anything but a regular file, saying what it is.
func checkRegular(info fs.FileInfo) *jerr.Error {
	if what := fileKind(info.Mode()); what != "" {
		return jerr.New(jerr.Source, "%s, not a regular file: only regular files can be read", what)
	}
	return nil
}

// fileKind names a mode that is not a regular file ("is a FIFO ..."), or is "".
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m.IsDir():
		return "is a directory"
	case m&fs.ModeNamedPipe != 0:
		return "is a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "is a socket"
	case m&fs.ModeCharDevice != 0:
		return "is a character device"
	case m&fs.ModeDevice != 0:
		return "is a block device"
	case m&fs.ModeSymlink != 0:
		return "is a symbolic link"
	}
	return "is not a regular file"
}

// checkEmpty tells a truly empty file from one whose size is 0 although it has
// content (procfs, some FUSE file systems), which cannot be read by offset.
func checkEmpty(f *os.File, path string) error {
	var one [1]byte
	n, err := f.ReadAt(one[:], 0)
	if n > 0 {
		return jerr.New(jerr.Source, "reports a size of 0 but has content (a /proc or /sys file?): "+
			"only files whose size is known can be read").WithPath(path)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
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
		if target, lerr := os.Readlink(path); lerr == nil {
			return jerr.Wrap(jerr.NotFound, err, "broken symbolic link: it points to %q, which does not exist", target).WithPath(path)
		}
		return jerr.Wrap(jerr.NotFound, err, "no such file").WithPath(path)
	case errors.Is(err, fs.ErrPermission):
		return jerr.Wrap(jerr.Permission, err, "permission denied").WithPath(path)
	case errors.Is(err, syscall.ELOOP):
		return jerr.Wrap(jerr.Source, err, "cannot follow symbolic links (a loop?)").WithPath(path)
	default:
		return jerr.Wrap(jerr.Source, err, "cannot read file").WithPath(path)
	}
}
