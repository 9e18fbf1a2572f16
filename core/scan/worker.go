package scan

import (
	"errors"
	"fmt"

	"github.com/jetliner/jetliner/core/codec"
	"github.com/jetliner/jetliner/core/container"
	"github.com/jetliner/jetliner/core/decode"
	"github.com/jetliner/jetliner/core/internal/scratch"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/source"
)

// workerState is what one decoding goroutine keeps between units: decompressors,
// the decoder of the current file, and scratch buffers for a group of
// decompressed blocks.
type workerState struct {
	codecs  map[string]codec.Decompressor
	file    *fileInfo
	dec     *decode.Decoder
	scratch [decode.MaxLanes]scratch.Buffer
	large   int // 1 + the slot of a block decompressed under the large permit, or 0
	group   []decode.Block
	groupOf []*container.Block
}

func (s *Scan) worker() {
	defer s.wg.Done()
	st := &workerState{codecs: map[string]codec.Decompressor{}}
	defer func() {
		if st.dec != nil {
			st.dec.Release()
		}
		for i := range st.scratch {
			st.scratch[i].Free()
		}
	}()
	// Blocks may be views of a mapped file, which faults if the file shrinks.
	defer source.PanicOnFault()()
	for u := range s.work {
		s.process(u, st)
		if u.view != nil {
			u.view.Evict(u.from, u.to-u.from)
		}
		s.sem.release(u.size)
		if u.data != nil {
			select {
			case s.spare <- u.data[:0]:
			default: // enough spares already; let this one go
			}
		}
		u.data, u.blocks = nil, nil
		u.complete()
	}
}

// process decodes a unit's blocks into batches. A panic here is a bug; it is
// reported as an internal error rather than taking the process down.
func (s *Scan) process(u *unit, st *workerState) {
	defer s.releaseLarge(st)
	defer func() {
		if p := recover(); p != nil {
			if st.dec != nil {
				st.dec.Release()
			}
			st.dec, st.file = nil, nil
			if u.view != nil {
				if u.err = u.view.Fault(p); u.err != nil {
					return
				}
			}
			u.err = jerr.New(jerr.Internal, "internal error while decoding: %v", p).WithPath(u.file.path)
		}
	}()
	dc, ok := st.codecs[u.file.codec]
	if !ok {
		var err error
		if dc, err = codec.New(u.file.codec); err != nil {
			u.err = jerr.Wrap(jerr.Codec, err, "unsupported codec").WithVariant(jerr.UnsupportedCodec).
				WithCodec(u.file.codec).WithPath(u.file.path)
			return
		}
		st.codecs[u.file.codec] = dc
	}
	if len(u.file.selected) == 0 {
		s.count(u, st, dc)
		return
	}
	if st.file != u.file {
		if st.dec != nil {
			st.dec.Release()
		}
		st.file = u.file
		st.dec = decode.New(u.file.schema, u.file.selected, s.alloc)
	}
	dec := st.dec
	// Room for the whole unit at once: growing buffers block by block copied
	// them several times over.
	dec.Reserve(int(min(u.limit, int64(s.opts.BatchSize))))
	minRecord := int64(decode.MinRecordSize(u.file.schema))
	var decoded int64
	for next := 0; next < len(u.blocks) && decoded < u.limit; {
		if s.ctx.Err() != nil {
			dec.Release()
			u.err = jerr.New(jerr.Cancelled, "read cancelled")
			return
		}
		// A group of blocks decoded whole, indexed together when the decoder
		// gains by it (see decode.Index), then the block that ended it, if it
		// could not be decompressed.
		group, groupOf := st.group[:0], st.groupOf[:0]
		var failed *jerr.Error
		var groupBytes int
		for next < len(u.blocks) && len(group) < dec.Lanes() && groupBytes < maxGroupBytes {
			b := &u.blocks[next]
			if len(group) > 0 && decoded+groupRows(group)+b.Count > u.limit {
				break // a block cut short by the limit goes on its own
			}
			next++
			data, err := s.decompress(u, st, dc, len(group), b, minRecord)
			if err != nil {
				failed = err
				break
			}
			group = append(group, decode.Block{Data: data, Count: b.Count})
			groupOf = append(groupOf, b)
			groupBytes += len(data)
		}
		var ixs []*decode.Index
		if len(group) > 1 {
			ixs = dec.Index(group)
		}
		for j, g := range group {
			b := groupOf[j]
			take := min(g.Count, u.limit-decoded)
			dec.Reserve(int(take))
			var err error
			if ixs != nil {
				err = dec.DecodeIndexed(g.Data, g.Count, ixs[j])
			} else {
				err = dec.Decode(g.Data, g.Count, take)
			}
			if err != nil {
				rec, what := int64(-1), "bad record data"
				var re *decode.RecordError
				if errors.As(err, &re) {
					rec = re.Record
					if re.Column != "" {
						what = fmt.Sprintf("bad record data in column %q", re.Column)
					}
					err = re.Err
				}
				e := jerr.Wrap(jerr.Decode, err, "%s", what).WithPath(u.file.path).At(b.Index, rec, b.Offset)
				if s.blockFailed(u, e) {
					failed, next = nil, len(u.blocks) // deliver the rows before the bad block (see below)
					break
				}
				continue
			}
			decoded += take
			s.blocksDecoded.Add(1)
			if ixs != nil && ixs[j] != nil {
				s.blocksIndexed.Add(1)
			}
			if dec.Rows() >= s.opts.BatchSize {
				u.batches = append(u.batches, s.take(dec, u))
			}
		}
		// Drop the group's references: its blocks may be views of a mapping
		// that is unmapped once the unit completes.
		clear(group)
		clear(groupOf)
		st.group, st.groupOf = group[:0], groupOf[:0]
		s.releaseLarge(st)
		if failed != nil && s.blockFailed(u, failed) {
			break
		}
	}
	// Also after a failed block: its rows were rolled back, and the rows of the
	// blocks before it are delivered ahead of the error, as a sequential read
	// would. A plain return here used to drop them, so what a failing scan
	// delivered depended on batch_size.
	if dec.Rows() > 0 {
		u.batches = append(u.batches, s.take(dec, u))
	}
	if short := u.limit - decoded; short > 0 && u.err == nil {
		s.deficit.Add(short)
	}
}

// count delivers the rows of a unit's blocks without decoding them. With no
// column selected (a row count, or only a row index or file path) a batch is
// just a height, and each block's header says how many records it holds. The
// count is checked against what the block's bytes can hold, as decoding checks
// it; the block is decompressed for that only when neither its codec (null) nor
// max_block_size bounds its decompressed size.
func (s *Scan) count(u *unit, st *workerState, dc codec.Decompressor) {
	batchSize := int64(s.opts.BatchSize)
	var decoded, pending int64
	deliver := func(all bool) {
		for pending >= batchSize || (all && pending > 0) {
			n := min(pending, batchSize)
			u.batches = append(u.batches, batch{rows: int(n), file: u.file})
			pending -= n
		}
	}
	for i := 0; i < len(u.blocks) && decoded < u.limit; i++ {
		if s.ctx.Err() != nil {
			u.err = jerr.New(jerr.Cancelled, "read cancelled")
			return
		}
		b := &u.blocks[i]
		if err := s.checkCount(u, st, dc, b); err != nil {
			if s.blockFailed(u, err) {
				break // the rows before the bad block are delivered, as in process
			}
			continue
		}
		take := min(b.Count, u.limit-decoded)
		decoded += take
		pending += take
		deliver(false)
	}
	deliver(true)
	if short := u.limit - decoded; short > 0 && u.err == nil {
		s.deficit.Add(short)
	}
}

// checkCount fails block b if it claims more records than its decompressed
// bytes can hold (see decode.MaxRecords).
func (s *Scan) checkCount(u *unit, st *workerState, dc codec.Decompressor, b *container.Block) *jerr.Error {
	var size int64
	var holds string
	switch {
	case dc.Name() == "null":
		size = int64(len(b.Data))
		holds = fmt.Sprintf("holds only %d bytes", size)
	case s.opts.MaxBlockSize >= 0:
		size = s.opts.MaxBlockSize
		holds = fmt.Sprintf("may decompress to at most %d bytes (max_block_size)", size)
	default:
		data, err := s.decompress(u, st, dc, 0, b, 0)
		if err != nil {
			return err
		}
		size = int64(len(data))
		holds = fmt.Sprintf("holds only %d bytes", size)
	}
	if b.Count > decode.MaxRecords(u.file.schema, size) {
		return jerr.New(jerr.Decode, "block claims %d records but %s", b.Count, holds).
			WithPath(u.file.path).At(b.Index, -1, b.Offset)
	}
	return nil
}

// maxGroupBytes caps the decompressed bytes of a group of blocks, which a worker
// holds at once: four blocks of the usual sizes (64 KiB to 1 MiB), fewer of
// larger ones. (A group closes once it reaches the cap, so one large block is
// still decoded, alone.)
const maxGroupBytes = 8 << 20

func groupRows(group []decode.Block) int64 {
	var n int64
	for _, b := range group {
		n += b.Count
	}
	return n
}

// smallBlock is how far a worker may decompress a block on its own. A block
// larger than that (up to max_block_size) needs the scan's one large permit, so
// that however many workers run, decompressed blocks hold at most
// max_block_size + workers x (smallBlock + maxGroupBytes) bytes: a file of
// bombs read with ignore_errors cannot multiply the limit by the workers.
// (A variable so that tests can make it small.)
var smallBlock int64 = 64 << 20

// decompress decompresses block b into the worker's scratch buffer number slot
// and checks that it can hold its records.
//
// It first decompresses up to smallBlock bytes; a block that turns out larger is
// decompressed again, from the start, under the large permit. Codecs that know
// the size up front (snappy, xz, zstandard frames that state it) refuse at once,
// so only deflate, bzip2 and unsized zstandard blocks of more than smallBlock
// bytes pay for the first attempt, and such blocks are rare: writers cut blocks
// at 16 KiB to a few MiB.
func (s *Scan) decompress(u *unit, st *workerState, dc codec.Decompressor, slot int, b *container.Block, minRecord int64) ([]byte, *jerr.Error) {
	limit := s.opts.MaxBlockSize
	first := limit
	if (limit < 0 || limit > smallBlock) && dc.Name() != "null" { // the null codec holds nothing of its own
		first = smallBlock
	}
	buf := &st.scratch[slot]
	data, err := dc.Decompress(buf.Get(limit), b.Data, first)
	if errors.Is(err, codec.ErrTooLarge) && first != limit {
		if !s.acquireLarge(st, slot) {
			return nil, jerr.New(jerr.Cancelled, "read cancelled")
		}
		data, err = dc.Decompress(buf.Get(limit), b.Data, limit)
	}
	buf.Keep(data)
	if err != nil {
		// A bomb may have written up to the limit: hand the pages back now
		// rather than keep them for blocks that will not need them.
		buf.Shrink(0)
		s.releaseLarge(st)
		kind, variant := "could not decompress block", jerr.DecompressionError
		if errors.Is(err, codec.ErrTooLarge) {
			kind = fmt.Sprintf("block decompresses to more than max_block_size (%d bytes)", s.opts.MaxBlockSize)
			variant = jerr.OversizedOutput
		}
		return nil, jerr.Wrap(jerr.Codec, err, "%s", kind).WithVariant(variant).WithCodec(u.file.codec).
			WithPath(u.file.path).At(b.Index, -1, b.Offset)
	}
	if minRecord > 0 && b.Count > int64(len(data))/minRecord {
		return nil, jerr.New(jerr.Decode, "block claims %d records but holds only %d bytes", b.Count, len(data)).
			WithPath(u.file.path).At(b.Index, -1, b.Offset)
	}
	return data, nil
}

// acquireLarge waits for the large permit for the block of the given slot. It
// returns false if the scan was cancelled while waiting.
func (s *Scan) acquireLarge(st *workerState, slot int) bool {
	select {
	case s.large <- struct{}{}:
		st.large = slot + 1
		return true
	case <-s.ctx.Done():
		return false
	}
}

// releaseLarge gives back the large permit, if the worker holds it, once the
// large block is decoded or has failed; the block's pages go back to the system
// with it.
func (s *Scan) releaseLarge(st *workerState) {
	if st.large == 0 {
		return
	}
	st.scratch[st.large-1].Shrink(int(smallBlock))
	st.large = 0
	<-s.large
}

func (s *Scan) take(dec *decode.Decoder, u *unit) batch {
	cols, n := dec.Finish()
	return batch{cols: cols, rows: n, file: u.file}
}

// blockFailed records a bad block. Under ignore_errors the block is skipped and
// reading goes on; otherwise the rows decoded so far are delivered and the scan
// stops with err. It returns true when the unit must stop.
func (s *Scan) blockFailed(u *unit, err *jerr.Error) bool {
	if s.opts.IgnoreErrors {
		msg := err.Message
		if err.Err != nil {
			msg += ": " + err.Err.Error()
		}
		u.bad = append(u.bad, BadBlock{Kind: string(err.Kind), Variant: err.VariantName(), Block: err.Block,
			Record: err.Record, Offset: err.Offset, Message: msg, Path: err.Path})
		return false
	}
	u.err = err
	return true
}
