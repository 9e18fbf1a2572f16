package encode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/jetliner/jetliner/core/codec"
	"github.com/jetliner/jetliner/core/container"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/schema"
)

// The block size, as bytes of uncompressed records: the default is that of the
// Avro reference implementations (Java's and Python's DataFileWriter), the
// bounds Java's.
const (
	DefaultSyncInterval = 64000
	MinSyncInterval     = 32
	MaxSyncInterval     = 1 << 30
)

// Options configures a Writer.
type Options struct {
	// Schema is the writer schema's JSON; nil derives it from the first batch's
	// Arrow schema with Derive and DeriveOptions.
	Schema        []byte
	DeriveOptions DeriveOptions
	Codec         string // "" means null
	Level         int    // compression level; codec.NoLevel for the codec's default
	// SyncInterval is the uncompressed size a block aims at; 0 means
	// DefaultSyncInterval. Blocks are cut from the average record size so far,
	// so they hold about this much (a block of records much larger than the
	// average is split when it reaches twice as much).
	SyncInterval int
	Meta         map[string][]byte // user metadata; "avro.*" keys are refused
	Workers      int               // goroutines encoding and compressing; 0 means GOMAXPROCS
	Sync         [container.SyncSize]byte
}

// Writer writes Arrow record batches as one Avro object container file. Blocks
// are encoded and compressed by a pool of goroutines and written in order; at
// most a few blocks per goroutine are in flight, so memory stays bounded
// whatever the size of the output. Write, Close and Abort are called from one
// goroutine. After an error every call returns it; the caller then discards the
// destination (Abort).
type Writer struct {
	out  io.Writer
	opts Options

	cw      *container.Writer
	schema  *arrow.Schema // the first batch's: later ones must match it
	avro    []byte
	columns []int // for each top-level Avro field, its column in the batches
	encs    []binder
	paths   []string

	jobs    chan *task
	workers sync.WaitGroup
	queue   []*task // submitted, in file order
	pending []segment
	pendRow int

	rowsPerBlock int
	rawSeen      int64 // uncompressed bytes and rows of the blocks written, for the
	rowsSeen     int64 // average record size that sizes the next blocks
	rows         int64 // rows taken so far
	written      int64 // rows written

	err    error
	closed bool
}

type segment struct {
	rec        arrow.Record
	start, end int
	row0       int64 // the frame row of start
}

type block struct {
	count int64
	raw   []byte
	data  []byte
}

// task is one block's worth of rows (more than one block if its records turn out
// much larger than the average).
type task struct {
	segs   []segment
	blocks []block
	raw    int64
	rows   int64
	err    error
	done   chan struct{}
}

// NewWriter checks the options and returns a Writer onto out. Nothing is written
// until Start or the first Write.
func NewWriter(out io.Writer, opts Options) (*Writer, error) {
	if opts.SyncInterval == 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	if opts.SyncInterval < MinSyncInterval || opts.SyncInterval > MaxSyncInterval {
		return nil, jerr.New(jerr.Config, "sync_interval must be between %d and %d bytes, got %d", MinSyncInterval, MaxSyncInterval, opts.SyncInterval)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if _, err := codec.NewCompressor(opts.Codec, opts.Level); err != nil {
		if errors.Is(err, codec.ErrUnknown) {
			return nil, jerr.Wrap(jerr.Config, err, "cannot write").WithVariant(jerr.UnsupportedCodec)
		}
		return nil, jerr.Wrap(jerr.Config, err, "cannot write")
	}
	for k := range opts.Meta {
		if len(k) >= len(container.ReservedPrefix) && k[:len(container.ReservedPrefix)] == container.ReservedPrefix {
			return nil, jerr.New(jerr.Config, "metadata key %q is reserved: keys starting with %q are the Avro format's own", k, container.ReservedPrefix)
		}
	}
	if opts.Schema == nil {
		if _, err := Derive(arrow.NewSchema(nil, nil), opts.DeriveOptions); err != nil {
			return nil, err // a bad name or namespace
		}
	}
	return &Writer{out: out, opts: opts}, nil
}

// SchemaJSON is the writer schema, once Start has run.
func (w *Writer) SchemaJSON() []byte { return w.avro }

// Rows is the number of rows written to the destination so far.
func (w *Writer) Rows() int64 { return w.written }

// Start compiles the writer schema against the batches' Arrow schema and writes
// the header. Write calls it with the first batch's schema; call it directly to
// write a file of no rows.
func (w *Writer) Start(sc *arrow.Schema) error {
	if w.err != nil {
		return w.err
	}
	if w.cw != nil {
		return w.check(sc)
	}
	if err := w.start(sc); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) start(sc *arrow.Schema) error {
	text := w.opts.Schema
	named := sc // the schema the writer schema's names are matched against
	if text == nil && w.opts.DeriveOptions.MangleNames {
		named = Mangle(sc)
	}
	if text == nil {
		var err error
		if text, err = Derive(sc, w.opts.DeriveOptions); err != nil {
			return err
		}
	}
	s, err := schema.Parse(text)
	if err != nil {
		return err
	}
	mismatch := func(err error) error {
		return jerr.Wrap(jerr.Schema, err, "the frame does not match the Avro schema").WithVariant(jerr.IncompatibleSchemas)
	}
	if s.TopLevelRecord {
		if w.columns, w.encs, err = compileFields(s.Columns, s.Names, named.Fields(), ""); err != nil {
			return mismatch(err)
		}
		w.paths = s.Names
	} else {
		if sc.NumFields() != 1 {
			return mismatch(fmt.Errorf("the schema is not a record, so the frame must have one column; it has %d", sc.NumFields()))
		}
		f := sc.Field(0)
		b, err := compile(s.Columns[0], f.Type, f.Metadata, f.Name)
		if err != nil {
			return mismatch(err)
		}
		w.columns, w.encs, w.paths = []int{0}, []binder{b}, []string{f.Name}
	}
	comp, _ := codec.NewCompressor(w.opts.Codec, w.opts.Level)
	cw, err := container.NewWriter(w.out, container.WriterOptions{Schema: text, Codec: comp.Name(), Meta: w.opts.Meta, Sync: w.opts.Sync})
	if err != nil {
		return writeErr(err)
	}
	w.cw, w.schema, w.avro = cw, sc, text
	w.jobs = make(chan *task, w.maxQueue())
	for range w.opts.Workers {
		w.workers.Add(1)
		go w.work()
	}
	return nil
}

func (w *Writer) maxQueue() int { return 2*w.opts.Workers + 1 }

// check compares a later batch's columns with the first batch's.
func (w *Writer) check(sc *arrow.Schema) error {
	a, b := w.schema.Fields(), sc.Fields()
	same := len(a) == len(b)
	for k := 0; same && k < len(a); k++ {
		same = a[k].Name == b[k].Name && arrow.TypeEqual(a[k].Type, b[k].Type)
	}
	if same {
		return nil
	}
	return w.fail(jerr.New(jerr.Encode, "a batch's columns differ from the first batch's: the first has %s, this one %s",
		describe(a), describe(b)).WithVariant(jerr.SchemaMismatch))
}

func describe(fs []arrow.Field) string {
	out := "{"
	for k, f := range fs {
		if k > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q: %s", f.Name, f.Type)
	}
	return out + "}"
}

func writeErr(err error) error {
	if jerr.KindOf(err) != "" {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return jerr.Wrap(jerr.Cancelled, err, "write cancelled")
	}
	return jerr.Wrap(jerr.Source, err, "cannot write to the destination")
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Write appends the rows of rec. It returns once they are handed to the workers;
// blocks reach the destination in order as they are done, the last ones at
// Close. rec is retained until its rows are encoded.
func (w *Writer) Write(ctx context.Context, rec arrow.Record) error {
	if w.closed {
		return jerr.New(jerr.Config, "the writer is closed")
	}
	if err := w.Start(rec.Schema()); err != nil {
		return err
	}
	n := int(rec.NumRows())
	if n > 0 && w.rowsPerBlock == 0 {
		w.rowsPerBlock = w.estimate(rec)
	}
	for start := 0; start < n; {
		take := min(n-start, w.rowsPerBlock-w.pendRow)
		rec.Retain()
		w.pending = append(w.pending, segment{rec: rec, start: start, end: start + take, row0: w.rows})
		w.rows += int64(take)
		w.pendRow += take
		start += take
		if w.pendRow >= w.rowsPerBlock {
			if err := w.submit(ctx); err != nil {
				return w.fail(err)
			}
		}
	}
	return nil
}

// estimate sizes the first blocks from the encoding of a few rows.
func (w *Writer) estimate(rec arrow.Record) int {
	n := min(int(rec.NumRows()), 64)
	encs := w.bind(rec)
	var buf []byte
	for i := range n {
		for _, e := range encs {
			buf, _ = e(buf, i) // a bad value is reported by the real encoding
		}
	}
	return w.blockRows(int64(len(buf)), int64(n))
}

func (w *Writer) blockRows(raw, rows int64) int {
	if raw <= 0 {
		raw = 1
	}
	return int(min(max(int64(w.opts.SyncInterval)*rows/raw, 1), 1<<24))
}

func (w *Writer) bind(rec arrow.Record) []encFn {
	encs := make([]encFn, len(w.encs))
	for k, b := range w.encs {
		encs[k] = b(rec.Column(w.columns[k]))
	}
	return encs
}

func (w *Writer) submit(ctx context.Context) error {
	t := &task{segs: w.pending, rows: int64(w.pendRow), done: make(chan struct{})}
	w.pending, w.pendRow = nil, 0
	for len(w.queue) >= w.maxQueue() {
		if err := w.flushHead(ctx); err != nil {
			release(t.segs)
			return err
		}
	}
	w.queue = append(w.queue, t)
	w.jobs <- t
	return nil
}

// flushHead waits for the oldest block and writes it.
func (w *Writer) flushHead(ctx context.Context) error {
	t := w.queue[0]
	select {
	case <-t.done:
	case <-ctx.Done():
		return jerr.Wrap(jerr.Cancelled, ctx.Err(), "write cancelled")
	}
	w.queue = w.queue[1:]
	if t.err != nil {
		return t.err
	}
	for _, b := range t.blocks {
		if err := w.cw.WriteBlock(b.count, b.data); err != nil {
			return writeErr(err)
		}
		w.written += b.count
	}
	w.rawSeen += t.raw
	w.rowsSeen += t.rows
	w.rowsPerBlock = w.blockRows(w.rawSeen, w.rowsSeen)
	for _, b := range t.blocks {
		if unsafe.SliceData(b.data) != unsafe.SliceData(b.raw) { // the null codec returns raw itself
			putBuf(b.data)
		}
		putBuf(b.raw)
	}
	return nil
}

// Close writes the rows still pending and waits for every block to be written.
// It does not close the destination.
func (w *Writer) Close(ctx context.Context) error {
	if w.closed {
		return w.err
	}
	if w.err == nil && w.cw == nil {
		w.fail(w.headerOnly())
	}
	if w.err == nil && w.pendRow > 0 {
		if err := w.submit(ctx); err != nil {
			w.fail(err)
		}
	}
	for w.err == nil && len(w.queue) > 0 {
		if err := w.flushHead(ctx); err != nil {
			w.fail(err)
		}
	}
	w.shutdown()
	return w.err
}

// headerOnly writes the file of no rows a writer closed before any batch makes:
// possible only with an explicit schema.
func (w *Writer) headerOnly() error {
	if w.opts.Schema == nil {
		return jerr.New(jerr.Config, "nothing to write: no frame was written, so there is no schema (pass one to write a file of no rows)")
	}
	if _, err := schema.Parse(w.opts.Schema); err != nil {
		return err
	}
	comp, _ := codec.NewCompressor(w.opts.Codec, w.opts.Level)
	cw, err := container.NewWriter(w.out, container.WriterOptions{Schema: w.opts.Schema, Codec: comp.Name(), Meta: w.opts.Meta, Sync: w.opts.Sync})
	if err != nil {
		return writeErr(err)
	}
	w.cw = cw
	return nil
}

// Abort stops the writer without writing what is pending; the destination is
// left as it is, for the caller to discard. It is safe after Close.
func (w *Writer) Abort() {
	if w.err == nil {
		w.err = jerr.New(jerr.Cancelled, "the write was aborted")
	}
	w.shutdown()
}

func (w *Writer) shutdown() {
	if w.closed {
		return
	}
	w.closed = true
	release(w.pending)
	w.pending = nil
	if w.jobs != nil {
		close(w.jobs)
	}
	for _, t := range w.queue {
		<-t.done
	}
	w.queue = nil
	w.workers.Wait()
}

func release(segs []segment) {
	for _, s := range segs {
		s.rec.Release()
	}
}

// work encodes and compresses tasks until the queue closes.
func (w *Writer) work() {
	defer w.workers.Done()
	comp, _ := codec.NewCompressor(w.opts.Codec, w.opts.Level)
	for t := range w.jobs {
		w.run(t, comp)
		close(t.done)
	}
}

func (w *Writer) run(t *task, comp codec.Compressor) {
	defer release(t.segs)
	defer func() {
		if p := recover(); p != nil {
			t.err = jerr.New(jerr.Internal, "internal error while encoding: %v", p)
		}
	}()
	limit := 2 * w.opts.SyncInterval
	buf := getBuf(w.opts.SyncInterval + w.opts.SyncInterval/4)
	var count int64
	cut := func() error {
		data, err := comp.Compress(getBuf(len(buf)/2+64), buf)
		if err != nil {
			return jerr.Wrap(jerr.Codec, err, "cannot compress a block").WithCodec(comp.Name())
		}
		t.blocks = append(t.blocks, block{count: count, raw: buf, data: data})
		t.raw += int64(len(buf))
		buf, count = getBuf(w.opts.SyncInterval), 0
		return nil
	}
	for _, s := range t.segs {
		encs := w.bind(s.rec)
		for i := s.start; i < s.end; i++ {
			var err error
			for k, e := range encs {
				if buf, err = e(buf, i); err != nil {
					t.err = w.valueErr(err, k, s.row0+int64(i-s.start))
					return
				}
			}
			count++
			if len(buf) >= limit {
				if t.err = cut(); t.err != nil {
					return
				}
			}
		}
	}
	if count > 0 {
		t.err = cut()
	}
}

func (w *Writer) valueErr(err error, col int, row int64) error {
	var ve *valueError
	path := w.paths[col]
	if errors.As(err, &ve) {
		path = ve.path
		err = errors.New(ve.msg)
	}
	return jerr.Wrap(jerr.Encode, err, "cannot write column %q, row %d", path, row).
		WithVariant(jerr.InvalidValue).WithField(path).At(-1, row, -1)
}

var bufPool sync.Pool

func getBuf(size int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

func putBuf(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:0]
	bufPool.Put(&b)
}
