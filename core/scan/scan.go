package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/codec"
	"github.com/jetliner/jetliner/core/container"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/schema"
	"github.com/jetliner/jetliner/core/source"
)

// BadBlock describes a block (or a run of bytes) skipped under ignore_errors.
type BadBlock struct {
	Kind    string `json:"kind"`    // the jerr kind that would have been raised
	Variant string `json:"variant"` // what exactly failed (jerr's variants: InvalidSyncMarker, ...)
	Block   int64  `json:"block_index"`
	Record  int64  `json:"record_index"` // -1 when the failure is not in one record
	Offset  int64  `json:"file_offset"`
	Message string `json:"message"`
	Path    string `json:"path"`
}

// Stats counts what a scan did. Tests use it to prove that pushdown saves work.
type Stats struct {
	RowsRead      int64    `json:"rows_read"`      // rows handed to the consumer
	BlocksRead    int64    `json:"blocks_read"`    // blocks framed (read from the source)
	BlocksDecoded int64    `json:"blocks_decoded"` // blocks decoded
	BlocksIndexed int64    `json:"blocks_indexed"` // of those, decoded from an index (see decode.Index)
	BytesRead     int64    `json:"bytes_read"`     // bytes received from sources
	Requests      int64    `json:"requests"`       // read calls or HTTP requests
	FilesOpened   int64    `json:"files_opened"`
	CurrentFile   int64    `json:"current_file"` // index of the file of the last batch
	Columns       []string `json:"columns"`      // the Avro columns decoded
}

// fileInfo is what the decoders need to know about one file.
type fileInfo struct {
	index    int
	path     string
	schema   *schema.Schema
	selected []int
	codec    string
}

// unit is the work of one batch: consecutive blocks of one file, framed by the
// producer and decoded by one worker.
type unit struct {
	file   *fileInfo
	blocks []container.Block
	data   []byte // the blocks' compressed bytes, back to back (none from a viewer)
	limit  int64  // rows to decode (fewer than the blocks hold when n_rows cuts in)
	bad    []BadBlock
	err    error // stops the scan once the batches before it are delivered

	// From a source that lends its bytes, the blocks are views of it: the unit
	// holds the source open and, once decoded, evicts its span [from, to).
	view     source.Viewer
	from, to int64
	release  func()
	size     int64 // bytes charged against buffer_bytes

	batches []batch // filled by the worker
	done    chan struct{}
}

// complete marks a unit done: its blocks are no longer needed.
func (u *unit) complete() {
	if u.release != nil {
		u.release()
		u.release = nil
	}
	close(u.done)
}

type batch struct {
	cols []arrow.ArrayData
	rows int
	file *fileInfo
}

// Scan reads Avro files as a stream of Arrow record batches.
type Scan struct {
	opts   Options
	alloc  memory.Allocator
	ctx    context.Context
	cancel context.CancelFunc

	files    []string
	first    *fileInfo
	firstRd  *container.Reader
	firstSrc source.Source
	out      *arrow.Schema

	started  bool
	order    chan *unit
	spare    chan []byte // unit data buffers to reuse, so framing allocates little
	work     chan *unit
	wg       sync.WaitGroup
	sem      *byteSem
	large    chan struct{} // the one permit to decompress a block past smallBlock
	deficit  atomic.Int64
	surplus  int64 // rows framed beyond n_rows under ignore_errors (producer only)
	unitLen  int   // compressed bytes of the last unit framed (producer only)
	maxBlock int   // the largest compressed block framed so far (producer only)
	cur      *unit
	curIdx   int
	emitted  int64
	err      error
	finished bool
	closed   bool

	srcStats      source.Stats
	blocksRead    atomic.Int64
	blocksDecoded atomic.Int64
	blocksIndexed atomic.Int64
	filesOpened   atomic.Int64
	currentFile   atomic.Int64
	mu            sync.Mutex // guards errs, read by Stats from other goroutines
	errs          []BadBlock
}

// Open validates opts, resolves the sources and reads the first file's header, so
// the output schema is known. Reading starts at the first call to Next.
func Open(ctx context.Context, opts Options, alloc memory.Allocator) (*Scan, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Scan{opts: opts, alloc: alloc, ctx: ctx, cancel: cancel}
	if err := s.open(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Scan) sourceOptions() *source.Options {
	chunk := s.opts.ReadChunkSize
	if chunk == 0 {
		chunk = s3ChunkSize
	}
	return &source.Options{Glob: s.opts.Glob, Storage: s.opts.Storage,
		ChunkSize: chunk, BufferBlocks: s.opts.BufferBlocks, BufferBytes: s.opts.BufferBytes}
}

func (s *Scan) open() error {
	files, err := source.Expand(s.ctx, s.opts.Sources, s.sourceOptions())
	if err != nil {
		return err
	}
	s.files = files
	src, rd, err := s.openFile(files[0])
	if err != nil {
		return err
	}
	s.firstSrc, s.firstRd = src, rd
	sch, err := schema.ParseDepth(rd.Header.Schema, s.opts.MaxSchemaDepth)
	if err != nil {
		return withPath(err, files[0])
	}
	selected, err := sch.Resolve(s.opts.Columns)
	if err != nil {
		return withPath(err, files[0])
	}
	s.first = &fileInfo{index: 0, path: files[0], schema: sch, selected: selected, codec: rd.Header.Codec}
	fields := make([]arrow.Field, 0, len(selected)+2)
	if s.opts.RowIndexName != "" {
		if sch.Index(s.opts.RowIndexName) >= 0 && contains(selected, sch.Index(s.opts.RowIndexName)) {
			return jerr.New(jerr.Config, "row_index_name %q is also a column of the file", s.opts.RowIndexName)
		}
		fields = append(fields, arrow.Field{Name: s.opts.RowIndexName, Type: s.rowIndexType()})
	}
	for _, i := range selected {
		fields = append(fields, sch.Field(i))
	}
	if p := s.opts.IncludeFilePaths; p != "" {
		if sch.Index(p) >= 0 && contains(selected, sch.Index(p)) {
			return jerr.New(jerr.Config, "include_file_paths %q is also a column of the file", p)
		}
		fields = append(fields, arrow.Field{Name: p, Type: arrow.BinaryTypes.StringView})
	}
	s.out = arrow.NewSchema(fields, nil)
	return nil
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func withPath(err error, path string) error {
	if e := jerr.As(err); e.Path == "" {
		e.Path = path
		return e
	}
	return err
}

func (s *Scan) rowIndexType() arrow.DataType {
	if s.opts.RowIndexType == "uint64" {
		return arrow.PrimitiveTypes.Uint64
	}
	return arrow.PrimitiveTypes.Uint32
}

func (s *Scan) openFile(path string) (source.Source, *container.Reader, error) {
	src, err := source.Open(s.ctx, path, s.sourceOptions(), &s.srcStats)
	if err != nil {
		return nil, nil, err
	}
	s.filesOpened.Add(1)
	chunk := s.opts.ReadChunkSize
	if chunk == 0 {
		chunk = localChunkSize
		if source.IsS3(path) {
			chunk = s3ChunkSize
		}
	}
	rd, err := container.NewReader(s.ctx, src, container.Options{ChunkSize: chunk, MaxBlockSize: s.opts.MaxBlockSize})
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	if _, err := codec.New(rd.Header.Codec); err != nil {
		src.Close()
		return nil, nil, jerr.Wrap(jerr.Codec, err, "cannot read this file").WithVariant(jerr.UnsupportedCodec).
			WithCodec(rd.Header.Codec).WithPath(path)
	}
	return src, rd, nil
}

// Schema is the Arrow schema of every batch.
func (s *Scan) Schema() *arrow.Schema { return s.out }

// AvroSchema is the writer schema of the first file, as stored in it.
func (s *Scan) AvroSchema() string { return s.first.schema.JSON }

// Files are the files the scan reads, in order.
func (s *Scan) Files() []string { return s.files }

// Stats reports what the scan has done so far.
func (s *Scan) Stats() Stats {
	cols := make([]string, 0, len(s.first.selected))
	for _, i := range s.first.selected {
		cols = append(cols, s.first.schema.Names[i])
	}
	return Stats{
		RowsRead:      atomic.LoadInt64(&s.emitted),
		BlocksRead:    s.blocksRead.Load(),
		BlocksDecoded: s.blocksDecoded.Load(),
		BlocksIndexed: s.blocksIndexed.Load(),
		BytesRead:     atomic.LoadInt64(&s.srcStats.Bytes),
		Requests:      atomic.LoadInt64(&s.srcStats.Requests),
		FilesOpened:   s.filesOpened.Load(),
		CurrentFile:   s.currentFile.Load(),
		Columns:       cols,
	}
}

// Errors lists what ignore_errors skipped so far, in file order.
func (s *Scan) Errors() []BadBlock {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BadBlock(nil), s.errs...)
}

func (s *Scan) start() {
	// Everything that can fail (a make of a size validate should have refused)
	// happens before the scan counts as started: stop drains s.order, and a
	// started scan without one blocked Close forever.
	order := make(chan *unit, s.opts.BufferBlocks)
	spare := make(chan []byte, s.opts.Workers+1)
	s.order, s.spare, s.work = order, spare, make(chan *unit)
	s.sem = newByteSem(s.ctx, s.opts.BufferBytes)
	s.large = make(chan struct{}, 1)
	s.started = true
	s.wg.Add(1 + s.opts.Workers)
	go s.produce()
	for i := 0; i < s.opts.Workers; i++ {
		go s.worker()
	}
}

// Next returns the next batch (the caller releases it), or io.EOF at the end.
func (s *Scan) Next() (arrow.Record, error) {
	if s.closed {
		return nil, jerr.New(jerr.Config, "the reader is closed")
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.finished {
		return nil, io.EOF
	}
	if !s.started {
		s.start()
	}
	for {
		if s.opts.NRows >= 0 && s.emitted >= s.opts.NRows {
			s.finish()
			return nil, io.EOF
		}
		if s.cur != nil && s.curIdx < len(s.cur.batches) {
			b := s.cur.batches[s.curIdx]
			s.cur.batches[s.curIdx] = batch{}
			s.curIdx++
			rec, err := s.record(b)
			if err != nil {
				s.err = err
				return nil, err
			}
			return rec, nil
		}
		if s.cur != nil {
			err := s.cur.err
			s.cur = nil
			if err != nil {
				s.err = err
				s.stop()
				return nil, err
			}
		}
		u, ok := <-s.order
		if !ok {
			if err := s.ctx.Err(); err != nil {
				// The caller's context was cancelled and the pipeline wound down:
				// that is not the end of the data (it used to return io.EOF).
				s.err = jerr.Wrap(jerr.Cancelled, err, "read cancelled")
				s.stop()
				return nil, s.err
			}
			s.finish()
			return nil, io.EOF
		}
		<-u.done
		if len(u.bad) > 0 {
			// The producer records framing errors when it frames a unit and the
			// worker records decode errors later, so within one unit they were out
			// of file order; Errors promises file order. A unit is one file.
			sort.SliceStable(u.bad, func(i, j int) bool { return u.bad[i].Offset < u.bad[j].Offset })
			s.mu.Lock()
			s.errs = append(s.errs, u.bad...)
			s.mu.Unlock()
		}
		s.cur, s.curIdx = u, 0
	}
}

// record assembles a batch into the output record: row index, columns, file path.
func (s *Scan) record(b batch) (arrow.Record, error) {
	n := int64(b.rows)
	if s.opts.NRows >= 0 && s.emitted+n > s.opts.NRows {
		n = s.opts.NRows - s.emitted
	}
	cols := make([]arrow.Array, 0, len(s.out.Fields()))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if s.opts.RowIndexName != "" {
		// In uint64: offset+emitted passes MaxInt64 for offsets near it.
		idx, err := rowIndex(s.alloc, s.opts.RowIndexType, uint64(s.opts.RowIndexOffset)+uint64(s.emitted), b.rows)
		if err != nil {
			releaseAll(b.cols)
			return nil, err
		}
		cols = append(cols, idx)
	}
	for _, d := range b.cols {
		cols = append(cols, array.MakeFromData(d))
		d.Release()
	}
	if s.opts.IncludeFilePaths != "" {
		cols = append(cols, constantString(s.alloc, b.file.path, b.rows))
	}
	rec := array.NewRecord(s.out, cols, int64(b.rows))
	if n < int64(b.rows) {
		sliced := rec.NewSlice(0, n)
		rec.Release()
		rec = sliced
	}
	s.emitted += n
	s.currentFile.Store(int64(b.file.index))
	return rec, nil
}

func releaseAll(ds []arrow.ArrayData) {
	for _, d := range ds {
		if d != nil {
			d.Release()
		}
	}
}

// finish ends a scan that delivered everything it should: stop I/O and free.
func (s *Scan) finish() {
	s.finished = true
	s.stop()
}

// stop cancels the pipeline and waits for its goroutines, freeing what they made.
func (s *Scan) stop() {
	if !s.started || s.order == nil {
		return
	}
	s.cancel()
	for u := range s.order {
		<-u.done
		releaseUnit(u, 0)
	}
	if s.cur != nil {
		releaseUnit(s.cur, s.curIdx)
		s.cur = nil
	}
	s.wg.Wait()
	s.started = false
	s.order = nil
}

func releaseUnit(u *unit, from int) {
	for _, b := range u.batches[from:] {
		releaseAll(b.cols)
	}
	u.batches = nil
}

// Close stops the scan and releases everything. It is safe to call twice.
func (s *Scan) Close() {
	if s.closed {
		return
	}
	s.stop()
	s.cancel()
	if s.firstSrc != nil {
		s.firstSrc.Close()
		s.firstSrc = nil
	}
	s.closed = true
}

// produce frames blocks into units, file after file, in order.
func (s *Scan) produce() {
	defer s.wg.Done()
	defer close(s.work)
	defer close(s.order)
	defer func() {
		if p := recover(); p != nil {
			s.send(&unit{err: jerr.New(jerr.Internal, "internal error while reading: %v", p), done: make(chan struct{})})
		}
	}()
	remaining := s.opts.NRows // < 0: unlimited
	var inflight []*unit
	for i, path := range s.files {
		var (
			src source.Source
			rd  *container.Reader
			fi  *fileInfo
			err error
		)
		if i == 0 {
			src, rd, fi = s.firstSrc, s.firstRd, s.first
			s.firstSrc, s.firstRd = nil, nil
		} else {
			src, rd, err = s.openFile(path)
			if err == nil {
				fi, err = s.fileInfo(i, path, rd)
				if err != nil {
					src.Close()
				}
			}
			if err != nil {
				s.send(&unit{err: err, done: make(chan struct{})})
				return
			}
		}
		stop := s.frameFile(fi, rd, src, &remaining, &inflight)
		src.Close() // units still being decoded hold a viewer open
		if stop {
			return
		}
	}
}

// frameFile frames one file into units. It returns true when the scan must stop
// (an error was sent, n_rows is satisfied, or the scan was cancelled).
func (s *Scan) frameFile(fi *fileInfo, rd *container.Reader, src source.Source, remaining *int64, inflight *[]*unit) bool {
	view, _ := src.(source.Viewer)
	newUnit := func() *unit {
		u := &unit{file: fi, done: make(chan struct{})}
		if view != nil {
			u.view, u.release, u.from = view, view.Hold(), rd.Offset()
			return u
		}
		select {
		case u.data = <-s.spare:
		default:
			// Sized like the last unit: grown block by block, the buffer doubled
			// past what it needed, and Go zeroes (so makes resident) all of it.
			if s.unitLen > 0 {
				u.data = make([]byte, 0, s.unitLen+s.maxBlock)
			}
		}
		return u
	}
	u := newUnit()
	defer func() {
		if u.release != nil {
			u.release() // the unit being filled when framing stopped
		}
	}()
	size := func() int64 {
		if view != nil {
			return rd.Offset() - u.from
		}
		return int64(len(u.data))
	}
	var rows int64
	flush := func() bool {
		if len(u.blocks) == 0 && len(u.bad) == 0 {
			return true
		}
		u.limit = rows
		u.size, u.to = size(), rd.Offset()
		s.unitLen = len(u.data)
		ok := s.send(u)
		*inflight = append(*inflight, u)
		u, rows = newUnit(), 0
		return ok
	}
	for {
		if *remaining == 0 {
			if !flush() {
				return true
			}
			if !s.opts.IgnoreErrors || !s.waitDeficit(remaining, inflight) {
				return true
			}
		}
		b, data, err := rd.Next(u.data)
		u.data = data
		if errors.Is(err, io.EOF) {
			return !flush()
		}
		if err != nil {
			e := jerr.As(err)
			if e.Kind == jerr.Cancelled || e.Kind == jerr.Source || !s.opts.IgnoreErrors || e.Block < 0 {
				flush()
				s.send(&unit{err: err, done: make(chan struct{})})
				return true
			}
			skip, rerr := rd.Resync(b.Offset)
			msg := e.Message
			if rerr == nil || errors.Is(rerr, io.EOF) {
				// Every dropped byte is in the record: from the failed block
				// to where reading goes on (see container.Resync).
				msg = fmt.Sprintf("%s; %s", msg, skip)
			}
			u.bad = append(u.bad, BadBlock{Kind: string(e.Kind), Variant: e.VariantName(), Block: e.Block, Record: -1,
				Offset: e.Offset, Message: msg, Path: fi.path})
			if rerr != nil {
				if errors.Is(rerr, io.EOF) {
					return !flush()
				}
				flush()
				s.send(&unit{err: rerr, done: make(chan struct{})})
				return true
			}
			continue
		}
		s.blocksRead.Add(1)
		take := b.Count
		if *remaining >= 0 && take > *remaining {
			if s.opts.IgnoreErrors {
				// Decode the whole block and let the consumer cut at n_rows: if an
				// earlier block turns out bad, these rows make up for it, as in a
				// sequential read. Cutting here gave the rows of a later block
				// instead.
				s.surplus += take - *remaining
			} else {
				take = *remaining
			}
		}
		if *remaining >= 0 {
			*remaining -= min(take, *remaining)
		}
		u.blocks = append(u.blocks, b)
		s.maxBlock = max(s.maxBlock, len(b.Data))
		rows += take
		if rows >= int64(s.opts.BatchSize) || size() >= s.unitBytes() {
			if !flush() {
				return true
			}
		}
	}
}

// waitDeficit handles n_rows with ignore_errors: once the framed blocks promise
// n_rows, it waits for them to be decoded, and if bad blocks fell short it asks
// for that many more rows. It returns false when framing should stop.
func (s *Scan) waitDeficit(remaining *int64, inflight *[]*unit) bool {
	for _, u := range *inflight {
		select {
		case <-u.done:
		case <-s.ctx.Done():
			return false
		}
	}
	*inflight = (*inflight)[:0]
	short := s.deficit.Swap(0) - s.surplus
	s.surplus = 0
	if short <= 0 {
		return false
	}
	*remaining += short
	return true
}

// send queues a unit for the consumer and the workers. It returns false if the
// scan was cancelled, in which case the unit is completed here so that nobody
// waits for it.
func (s *Scan) send(u *unit) bool {
	if err := s.sem.acquire(s.ctx, u.size); err != nil {
		u.complete()
		return false
	}
	select {
	case s.order <- u:
	case <-s.ctx.Done():
		s.sem.release(u.size)
		u.complete()
		return false
	}
	if u.err != nil {
		s.sem.release(u.size)
		u.complete()
		return true
	}
	select {
	case s.work <- u:
		return true
	case <-s.ctx.Done():
		s.sem.release(u.size)
		u.err = jerr.New(jerr.Cancelled, "read cancelled")
		u.complete()
		return false
	}
}

// fileInfo parses a later file's schema and checks it produces the same columns.
func (s *Scan) fileInfo(i int, path string, rd *container.Reader) (*fileInfo, error) {
	sch, err := schema.ParseDepth(rd.Header.Schema, s.opts.MaxSchemaDepth)
	if err != nil {
		return nil, withPath(err, path)
	}
	first := s.first
	selected := make([]int, 0, len(first.selected))
	for _, fi := range first.selected {
		name := first.schema.Names[fi]
		j := sch.Index(name)
		if j < 0 {
			return nil, jerr.New(jerr.Schema, "file has no column %q, which %s has; files of one read must share a schema", name, first.path).
				WithVariant(jerr.IncompatibleSchemas).WithField(name).WithPath(path)
		}
		want, got := first.schema.Field(fi), sch.Field(j)
		if !arrow.TypeEqual(want.Type, got.Type, arrow.CheckMetadata()) {
			return nil, jerr.New(jerr.Schema, "column %q is %s here but %s in %s; files of one read must share a schema",
				name, got.Type, want.Type, first.path).WithVariant(jerr.IncompatibleSchemas).WithField(name).WithPath(path)
		}
		selected = append(selected, j)
	}
	if s.opts.Columns == nil && len(sch.Names) != len(first.schema.Names) {
		return nil, jerr.New(jerr.Schema, "file has %d columns but %s has %d; files of one read must share a schema",
			len(sch.Names), first.path, len(first.schema.Names)).WithVariant(jerr.IncompatibleSchemas).WithPath(path)
	}
	return &fileInfo{index: i, path: path, schema: sch, selected: selected, codec: rd.Header.Codec}, nil
}

// unitBytes caps the compressed bytes of one unit (one batch's worth of blocks).
// Several units must fit in buffer_bytes at once, or the workers take turns
// instead of decoding side by side: with rows of a few hundred bytes, batch_size
// rows alone can be most of the budget.
func (s *Scan) unitBytes() int64 {
	return max(s.opts.BufferBytes/int64(s.opts.Workers+2), 1)
}
