package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/jetliner/jetliner/core/jerr"
)

// localSink writes a local file atomically: into a hidden temporary file in the
// target's directory (the same file system, so the final rename cannot copy),
// synced to disk and renamed over the target on Commit. A crash or an error at
// any point leaves the target as it was, plus at worst a ".NAME.jetliner-*.tmp"
// file that says what it is.
type localSink struct {
	ctx    context.Context
	name   string // as the user gave it, for errors
	target string // the file the rename replaces (symbolic links resolved)
	tmp    string

	mu        sync.Mutex
	f         *os.File
	err       error // the first failure; every later Write returns it
	committed bool
	aborted   bool
}

func createLocal(ctx context.Context, name, path string) (Sink, error) {
	if path == "" {
		return nil, jerr.New(jerr.Config, "empty destination path")
	}
	target, err := localTarget(path)
	if err != nil {
		return nil, withPathIfUnset(err, name)
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, jerr.Wrap(jerr.NotFound, err, "the directory to write into does not exist").WithPath(name)
	case err != nil:
		return nil, writeError(err, name, "cannot write into the directory")
	case !info.IsDir():
		return nil, jerr.New(jerr.Source, "cannot write here: %s is not a directory", dir).WithPath(name)
	}
	// O_EXCL with a random name rather than os.CreateTemp: CreateTemp makes the
	// file 0600, and the written file should get the mode any new file gets
	// (0666 less the umask), as Polars' writers give it.
	var f *os.File
	var tmp string
	for try := 0; ; try++ {
		tmp = filepath.Join(dir, fmt.Sprintf(".%s.jetliner-%08x.tmp", base, rand.Uint32()))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) || try == 100 {
			break
		}
	}
	if err != nil {
		return nil, writeError(err, name, "cannot create a file in "+dir)
	}
	// Replacing a file keeps its permission bits, as writing over it would.
	if old, err := os.Stat(target); err == nil {
		_ = f.Chmod(old.Mode().Perm())
	}
	return &localSink{ctx: ctx, name: name, target: target, tmp: tmp, f: f}, nil
}

// localTarget is the file a write to path replaces. A symbolic link is followed,
// so that writing through a link updates the file it points to (as opening the
// link for writing would) instead of replacing the link. Anything existing that
// is not a regular file is refused: renaming over /dev/null or a FIFO would
// replace the device or pipe with a file.
func localTarget(path string) (string, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if l, lerr := os.Lstat(path); lerr == nil && l.Mode()&fs.ModeSymlink != 0 {
			// A dangling link: write the file it names.
			dest, err := os.Readlink(path)
			if err != nil {
				return "", writeError(err, path, "cannot follow the symbolic link")
			}
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(path), dest)
			}
			return dest, nil
		}
		return path, nil
	}
	if err != nil {
		return "", writeError(err, path, "cannot write the file")
	}
	if what := fileKind(info.Mode()); what != "" {
		return "", jerr.New(jerr.Source, "%s, not a regular file: only regular files can be written", what).WithPath(path)
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", writeError(err, path, "cannot follow the symbolic link")
	}
	return target, nil
}

func (s *localSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return 0, err
	}
	n, err := s.f.Write(p)
	if err != nil {
		s.err = writeError(err, s.name, "cannot write the file")
	}
	return n, s.err
}

// usable is the error a Write or Commit gets now, if any.
func (s *localSink) usable() error {
	switch {
	case s.err != nil:
		return s.err
	case s.aborted:
		return jerr.New(jerr.Cancelled, "the write was aborted").WithPath(s.name)
	case s.committed:
		return jerr.New(jerr.Internal, "write after the file was committed").WithPath(s.name)
	}
	if err := s.ctx.Err(); err != nil {
		s.err = jerr.Wrap(jerr.Cancelled, err, "write cancelled").WithPath(s.name)
		return s.err
	}
	return nil
}

func (s *localSink) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	if err := s.usable(); err != nil {
		s.abort()
		return err
	}
	// The data reaches the disk before the name does: after a crash the target
	// holds either the old content or all of the new, never a torn file.
	err := s.f.Sync()
	if err != nil {
		err = writeError(err, s.name, "cannot write the file (fsync)")
	}
	if cerr := s.f.Close(); cerr != nil && err == nil {
		err = writeError(cerr, s.name, "cannot write the file (close)")
	}
	s.f = nil
	if err == nil {
		if rerr := os.Rename(s.tmp, s.target); rerr != nil {
			err = writeError(rerr, s.name, "cannot put the file in place")
		}
	}
	if err != nil {
		s.err = err
		s.abort()
		return err
	}
	s.committed = true
	// The rename is durable once the directory is synced. The file is in place
	// whatever this says, and some file systems cannot sync a directory: an
	// error here is not reported.
	if d, derr := os.Open(filepath.Dir(s.target)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (s *localSink) Abort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	return s.abort()
}

func (s *localSink) abort() error {
	if s.aborted {
		return nil
	}
	s.aborted = true
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	if err := os.Remove(s.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return writeError(err, s.name, "cannot remove the temporary file "+s.tmp)
	}
	return nil
}

// writeError maps a failed file operation to the kind Python raises: a missing
// directory is FileNotFoundError, a denied one PermissionError, and a full disk,
// a quota or a read-only file system a SourceError that says so.
func writeError(err error, path, msg string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return jerr.Wrap(jerr.NotFound, err, "%s: no such file or directory", msg).WithPath(path)
	case errors.Is(err, fs.ErrPermission):
		return jerr.Wrap(jerr.Permission, err, "%s: permission denied", msg).WithPath(path)
	case errors.Is(err, syscall.ENOSPC):
		return jerr.Wrap(jerr.Source, err, "%s: the disk is full", msg).WithPath(path)
	case errors.Is(err, syscall.EDQUOT):
		return jerr.Wrap(jerr.Source, err, "%s: the disk quota is used up", msg).WithPath(path)
	case errors.Is(err, syscall.EROFS):
		return jerr.Wrap(jerr.Source, err, "%s: the file system is read-only", msg).WithPath(path)
	}
	return jerr.Wrap(jerr.Source, err, "%s", msg).WithPath(path)
}
