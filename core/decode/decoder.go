package decode

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/schema"
)

// step is one top-level field in wire order: decoded into a column or skipped.
type step struct {
	col  column
	skip func(*reader)
}

// Decoder decodes the records of a file's blocks into the selected columns. It
// accumulates rows across blocks until Finish hands them over as Arrow arrays. A
// Decoder is not safe for concurrent use; make one per goroutine.
type Decoder struct {
	cols   []column // selected columns, in output order
	fields []arrow.Field
	steps  []step // every top-level field, in wire order
	rows   int
	saved  int
	schema *schema.Schema
	colAt  map[int]column // the selected columns by position in the schema

	// For Index (index.go): the whole record as one skip program, with marks
	// around each selected column; nil when no field is skipped.
	index   *skipProgram
	wire    []column // the selected columns in wire order: marks 2k and 2k+1
	nmarks  int
	indexes [MaxLanes]Index
	indexed [MaxLanes]*Index // what Index returns
	lanes   [MaxLanes]lane
}

// maxIndexSpan bounds the span of an index program: the lanes need that many
// bytes left in each block, and records with huge fixed fields gain nothing.
const maxIndexSpan = 64 << 10

// New compiles a decoder for the columns of s at positions selected (in that
// output order). Unselected columns are skipped without allocating.
func New(s *schema.Schema, selected []int, alloc memory.Allocator) *Decoder {
	colAt := map[int]column{}
	d := &Decoder{schema: s, colAt: colAt}
	for _, i := range selected {
		c := newColumn(s.Columns[i], alloc)
		colAt[i] = c
		d.cols = append(d.cols, c)
		d.fields = append(d.fields, s.Field(i))
	}
	var pendingSkips []*schema.Node
	flush := func() {
		if len(pendingSkips) > 0 {
			// Adjacent unselected fields become one skip program: one call per
			// record for the whole run instead of one per field.
			d.steps = append(d.steps, step{skip: compileSkips(pendingSkips).run})
			pendingSkips = nil
		}
	}
	index := &skipProgram{}
	skipped := false
	for i, n := range s.Columns {
		if c, ok := colAt[i]; ok {
			flush()
			d.steps = append(d.steps, step{col: c})
			index.mark(2 * len(d.wire))
			index.add(n)
			index.mark(2*len(d.wire) + 1)
			d.wire = append(d.wire, c)
		} else {
			pendingSkips = append(pendingSkips, n)
			index.add(n)
			skipped = true
		}
	}
	flush()
	if index.setSpan(); skipped && MinRecordSize(s) > 0 && index.span <= maxIndexSpan {
		d.index, d.nmarks = index, 2*len(d.wire)
	}
	return d
}

// Fields are the Arrow fields of the selected columns.
func (d *Decoder) Fields() []arrow.Field { return d.fields }

// Rows is the number of rows accumulated since the last Finish.
func (d *Decoder) Rows() int { return d.rows }

// Reserve makes room for n more rows in every top-level column.
func (d *Decoder) Reserve(n int) {
	for _, c := range d.cols {
		c.reserve(n)
	}
}

// RecordError is a failure to decode one record of a block.
type RecordError struct {
	Record int64  // index of the record within the block
	Column string // the top-level field the failure is in, if known
	Err    error
}

func (e *RecordError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("record %d, column %q: %v", e.Record, e.Column, e.Err)
	}
	return fmt.Sprintf("record %d: %v", e.Record, e.Err)
}
func (e *RecordError) Unwrap() error { return e.Err }

// Decode decodes up to n records from data, the decompressed contents of a block
// holding count records (n < count when only the first rows are wanted). When all
// count records are decoded, data must be used up exactly: leftover bytes mean the
// data does not match the schema. On error the rows of this call are rolled back.
func (d *Decoder) Decode(data []byte, count, n int64) error {
	d.mark()
	r := reader{buf: data, empty: maxEmptyItems}
	for i := int64(0); i < n; i++ {
		start := r.pos
		for _, s := range d.steps {
			if s.col != nil {
				s.col.decode(&r)
			} else {
				s.skip(&r)
			}
		}
		if r.pos == start {
			// A schema whose records can take no bytes (only nulls) cannot bound
			// the count by the data; without this a corrupt count spun for ever.
			r.emptyItem()
		}
		if r.err != nil {
			// r.buf, not data: data live across the loop cost a reload of
			// three registers after every field.
			col := d.failingField(r.buf, start)
			d.rollback()
			return &RecordError{Record: i, Column: col, Err: r.err}
		}
		d.rows++
	}
	if n == count && r.pos != len(r.buf) {
		d.rollback()
		return &RecordError{Record: count - 1, Err: fmt.Errorf("%d bytes left over after the block's last record", len(r.buf)-r.pos)}
	}
	return nil
}

// failingField names the top-level field in which the record at start fails. The
// steps do not say (a run of skipped fields is one step, and checking the reader
// after every field would cost the hot loop), so the record is read again, field
// by field, on this error path only; what it appends to the columns is rolled
// back with the rest. It returns "" if the record does not fail again, as when
// earlier records used up the block's budget of empty values.
func (d *Decoder) failingField(data []byte, start int) string {
	r := reader{buf: data, pos: start, empty: maxEmptyItems}
	for i, n := range d.schema.Columns {
		if c, ok := d.colAt[i]; ok {
			c.decode(&r)
		} else {
			skipperFor(n)(&r)
		}
		if r.err != nil {
			return d.schema.Names[i]
		}
	}
	return ""
}

func (d *Decoder) mark() {
	d.saved = d.rows
	for _, c := range d.cols {
		c.mark()
	}
}

func (d *Decoder) rollback() {
	d.rows = d.saved
	for _, c := range d.cols {
		c.rollback()
	}
}

// Finish hands the accumulated rows over as one Arrow array per selected column
// (the caller releases them) and starts afresh.
func (d *Decoder) Finish() ([]arrow.ArrayData, int) {
	out := make([]arrow.ArrayData, len(d.cols))
	for i, c := range d.cols {
		out[i] = c.finish()
	}
	n := d.rows
	d.rows = 0
	return out, n
}

// Release frees everything accumulated and not yet finished.
func (d *Decoder) Release() {
	for _, c := range d.cols {
		c.release()
	}
	d.rows = 0
}

// MinRecordSize is the fewest bytes one record of s can take on the wire.
func MinRecordSize(s *schema.Schema) int {
	total := 0
	for _, c := range s.Columns {
		total += minSize(c)
	}
	return total
}

// MaxRecords is the most records of s that size bytes of decompressed block data
// can hold, as Decode would accept them: a block claiming more is corrupt. It
// lets a read that decodes nothing (no columns selected) check a block's count
// without decoding it.
func MaxRecords(s *schema.Schema, size int64) int64 {
	if m := int64(MinRecordSize(s)); m > 0 {
		return size / m
	}
	// Records that may take no bytes: those that do take at least one, and
	// the rest are charged to the block's budget of empty values.
	return size + maxEmptyItems
}
