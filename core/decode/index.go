package decode

//go:generate go run lanes_gen.go

import "unsafe"

// Reading only some columns is mostly skipping the others, and skipping is a
// chain: each field starts where the one before it ended, so one block's skip
// loop runs at the latency of its loads and leaves most of the core idle.
// Blocks are independent, so Index runs the chains of several blocks in lock
// step (the generated run2/run4; on amd64, run4's fast paths in assembly, see
// lanes_amd64.s), where their loads and arithmetic overlap, and records where
// each selected column's value starts and ends in every record. DecodeIndexed
// then decodes those values from there, a record's columns no longer waiting
// on the fields in between.

// Block is one block's decompressed data and its record count.
type Block struct {
	Data  []byte
	Count int64
}

// An Index locates the selected columns in each record of one block, for
// DecodeIndexed. It belongs to the Decoder that made it and is valid, like the
// slice Index returns, until its next call of Index.
type Index struct {
	// Per record: the start and end of each selected column's value, in wire order.
	marks []uint32
}

// MaxLanes is how many blocks Index takes at once. Four chains were 1.7 times as
// fast as one on the benchmark's wide schema, two 1.4 times.
const MaxLanes = 4

// prefetchDistance is how many records ahead DecodeIndexed asks for the cache
// lines of the values it will decode. Indexing went through the group's other
// blocks since it read these, so they come from L3 or memory; 16 and 32 records
// ahead took 10-15 % off the decoder of the benchmark's projection (4 and 8 less).
const prefetchDistance = 16

// maxIndexedBlock bounds the blocks Index takes: positions are 32 bits.
const maxIndexedBlock = 1<<31 - 1

// Lanes is how many blocks Index takes at once to advantage: 1 when indexing
// does not pay, because no field is skipped.
func (d *Decoder) Lanes() int {
	if d.index == nil {
		return 1
	}
	return MaxLanes
}

type lane struct {
	r          reader
	ix         *Index
	rec, count int64
	failed     bool
}

// marksOf is the slice of marks of record rec.
func (d *Decoder) marksOf(l *lane) []uint32 {
	return l.ix.marks[l.rec*int64(d.nmarks) : (l.rec+1)*int64(d.nmarks)]
}

// Index indexes up to Lanes() blocks for DecodeIndexed. An entry of the result
// is nil where a block is to be decoded with Decode: when it does not hold its
// records exactly (Decode then reports the error), when it is too large, or
// when its marks would take more than twice its bytes.
func (d *Decoder) Index(blocks []Block) []*Index {
	if len(blocks) > MaxLanes {
		panic("decode: Index takes at most MaxLanes blocks")
	}
	out := d.indexed[:len(blocks)]
	clear(out)
	if d.index == nil {
		return out
	}
	lanes := &d.lanes
	defer clear(lanes[:]) // the readers hold the blocks, which may be views of a mapping
	var active []*lane
	for i, b := range blocks {
		need := b.Count * int64(d.nmarks)
		// Marks (4 bytes each) may outweigh the data where records are a few
		// bytes of many selected columns; those blocks, which have little to
		// skip, are decoded the plain way rather than holding more memory.
		if len(b.Data) > maxIndexedBlock || b.Count <= 0 || need > int64(len(b.Data))/2+1024 {
			continue
		}
		ix := &d.indexes[i]
		if need > int64(cap(ix.marks)) {
			ix.marks = make([]uint32, need)
		}
		ix.marks = ix.marks[:need]
		lanes[i] = lane{r: reader{buf: b.Data, empty: maxEmptyItems}, ix: ix, count: b.Count}
		active = append(active, &lanes[i])
	}
	for len(active) >= 2 {
		k := 2
		if len(active) >= 4 {
			k = 4
		}
		d.lockstep(active[:k])
		// At least one lane is done or too close to its end to go on unchecked:
		// it finishes on its own.
		kept := active[:0]
		for j, l := range active {
			if j < k && (l.failed || l.rec == l.count || len(l.r.buf)-l.r.pos < d.index.span) {
				d.finish(l)
				continue
			}
			kept = append(kept, l)
		}
		active = kept
	}
	for _, l := range active {
		d.finish(l)
	}
	for i := range blocks {
		if l := &lanes[i]; l.ix != nil && !l.failed {
			out[i] = l.ix
		}
	}
	return out
}

// lockstep advances the lanes one record at a time while each has a record
// left and room for the unchecked fast paths.
func (d *Decoder) lockstep(ls []*lane) {
	p := d.index
	var marks [MaxLanes][]uint32
	for {
		for _, l := range ls {
			if l.rec == l.count || len(l.r.buf)-l.r.pos < p.span {
				return
			}
		}
		for j, l := range ls {
			marks[j] = d.marksOf(l)
		}
		var next int
		if len(ls) == 4 {
			next = p.run4fast(&ls[0].r, &ls[1].r, &ls[2].r, &ls[3].r, (*[4][]uint32)(marks[:4]))
		} else {
			next = p.run2(&ls[0].r, &ls[1].r, (*[2][]uint32)(marks[:2]))
		}
		if next < 0 {
			// A lane failed in the middle of a record, and the others may be at
			// different ops of it: leave all to Decode, which reports the error.
			for _, l := range ls {
				l.failed = true
			}
			return
		}
		for j, l := range ls {
			if next < len(p.ops) {
				if p.runFrom(&l.r, next, marks[j]); l.r.err != nil {
					l.failed = true
				}
			}
			l.rec++
		}
		for _, l := range ls {
			if l.failed {
				return
			}
		}
	}
}

// finish indexes the rest of a lane's records on their own, with every check,
// and fails the lane unless its records use up its data exactly.
func (d *Decoder) finish(l *lane) {
	for ; !l.failed && l.rec < l.count; l.rec++ {
		if d.index.runFrom(&l.r, 0, d.marksOf(l)); l.r.err != nil {
			l.failed = true
		}
	}
	if l.r.pos != len(l.r.buf) {
		l.failed = true
	}
}

// DecodeIndexed decodes all count records of data, the block that ix indexes,
// as Decode(data, count, count) would. With a nil ix it is Decode.
func (d *Decoder) DecodeIndexed(data []byte, count int64, ix *Index) error {
	if ix == nil {
		return d.Decode(data, count, count)
	}
	d.mark()
	r := reader{buf: data, empty: maxEmptyItems}
	nm := int64(d.nmarks)
	for i := int64(0); i < count; i++ {
		marks := ix.marks[i*nm : (i+1)*nm]
		if ahead := i + prefetchDistance; ahead < count && nm > 0 {
			prefetchMarks(unsafe.SliceData(data), &ix.marks[ahead*nm], int(nm))
		}
		for k, c := range d.wire {
			r.pos = int(marks[2*k])
			if c.decode(&r); r.pos != int(marks[2*k+1]) || r.err != nil {
				// The data is bad in a way only decoding sees (a boolean byte
				// of 2, a string not UTF-8), or the value's decoder and its
				// skipper disagree: Decode has the last word.
				d.rollback()
				return d.Decode(data, count, count)
			}
		}
		d.rows++
	}
	return nil
}
