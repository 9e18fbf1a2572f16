package source

import (
	"context"
	"io"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"github.com/jetliner/jetliner/core/jerr"
)

// Viewer is implemented by sources that lend their bytes in place rather than
// copying them into the caller's buffer: local files, mapped into memory. The
// container reader then frames blocks as views, and block data goes from the
// operating system's file cache to the decompressor without a copy (the copy of
// read(2) was a tenth of a projected read).
type Viewer interface {
	Source
	// View returns the n bytes at off, fewer at the end of the source. They stay
	// valid until Close, and past it while a Hold taken before Close is held.
	View(off int64, n int) []byte
	// Hold keeps the bytes valid until release is called, even past Close.
	Hold() (release func())
	// Prefetch asks the operating system to start reading [off, off+n) in the
	// background.
	Prefetch(off, n int64)
	// Evict says [off, off+n) will not be read again soon: the memory it takes
	// in this process is given back (the data stays in the file cache, and
	// reading it again still works). This keeps a streaming read's resident
	// memory at its read-ahead rather than at the size of the file.
	Evict(off, n int64)
	// Fault turns p, a value recovered from a panic, into an error if it is a
	// memory fault on these bytes: the file shrank after it was opened. Code
	// reading the bytes runs under PanicOnFault, or such a fault would end the
	// process. For any other panic it returns nil.
	Fault(p any) error
}

// mappedFile is a local file mapped into memory read-only. The mapping is
// shared by the framer and the workers decoding its blocks, so it lives until
// the source is closed and every hold is released.
type mappedFile struct {
	path  string
	data  []byte
	stats *Stats
	refs  atomic.Int64 // one for the open source, one per hold
	shut  atomic.Bool  // Close was called
	seen  atomic.Int64 // bytes viewed from the start: what Stats counts as read
}

func newMappedFile(path string, data []byte, stats *Stats) *mappedFile {
	m := &mappedFile{path: path, data: data, stats: stats}
	m.refs.Store(1)
	return m
}

func (m *mappedFile) View(off int64, n int) []byte {
	b := m.bytes(off, n)
	if b == nil {
		return nil
	}
	// Views are taken front to back, so the bytes read are the furthest byte
	// viewed; counting every view would count overlapping views twice.
	end := off + int64(len(b))
	for {
		seen := m.seen.Load()
		if end <= seen {
			break
		}
		if m.seen.CompareAndSwap(seen, end) {
			atomic.AddInt64(&m.stats.Requests, 1)
			atomic.AddInt64(&m.stats.Bytes, end-max(seen, off))
			break
		}
	}
	return b
}

// bytes is the n bytes at off, fewer at the end, nil outside the file.
func (m *mappedFile) bytes(off int64, n int) []byte {
	size := int64(len(m.data))
	if off < 0 || off >= size || n <= 0 {
		return nil
	}
	return m.data[off:min(off+int64(n), size)]
}

// ReadAt copies, for callers that do not know about views.
func (m *mappedFile) ReadAt(ctx context.Context, p []byte, off int64) (n int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	defer func() {
		if p := recover(); p != nil {
			if err = m.Fault(p); err == nil {
				panic(p)
			}
		}
	}()
	defer PanicOnFault()()
	n = copy(p, m.bytes(off, len(p)))
	atomic.AddInt64(&m.stats.Requests, 1)
	atomic.AddInt64(&m.stats.Bytes, int64(n))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *mappedFile) Size() int64  { return int64(len(m.data)) }
func (m *mappedFile) Path() string { return m.path }

func (m *mappedFile) Hold() func() {
	if m.refs.Add(1) == 1 {
		panic("source: Hold on a mapped file already unmapped")
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			m.release()
		}
	}
}

func (m *mappedFile) Close() error {
	if m.shut.CompareAndSwap(false, true) {
		m.release()
	}
	return nil
}

func (m *mappedFile) release() {
	if m.refs.Add(-1) == 0 {
		unmap(m.data)
	}
}

func (m *mappedFile) Prefetch(off, n int64) { m.advise(off, n, adviseWillNeed) }
func (m *mappedFile) Evict(off, n int64)    { m.advise(off, n, adviseDontNeed) }

// advise applies advice to the whole pages that [off, off+n) touches.
func (m *mappedFile) advise(off, n int64, advice int) {
	size := int64(len(m.data))
	off, end := max(off, 0), min(off+n, size)
	if off >= end {
		return
	}
	page := int64(pageSize)
	start := off &^ (page - 1)
	stop := min((end+page-1)&^(page-1), (size+page-1)&^(page-1))
	adviseRange(m.data, start, stop, advice)
}

func (m *mappedFile) Fault(p any) error {
	e, ok := p.(interface{ Addr() uintptr })
	if !ok || len(m.data) == 0 {
		return nil
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	if a := e.Addr(); a < base || a >= base+uintptr(len(m.data)) {
		return nil
	}
	return jerr.New(jerr.Source, "the file changed while it was being read: it is shorter than when it was opened").WithPath(m.path)
}

// PanicOnFault makes a memory fault on this goroutine a panic (which
// Viewer.Fault recognises) rather than the end of the process, until the
// returned function is called.
func PanicOnFault() func() {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}
