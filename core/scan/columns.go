package scan

import (
	"math"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/jerr"
)

// needU64Index says how to get row indices past UInt32.
const needU64Index = "Polars' 64-bit-index runtime is needed (pip install 'polars[rt64]')"

// rowIndex builds the row index column for rows starting at first. The bounds are
// checked without overflow: first may be up to 2**63-1 plus the rows already read,
// where first+rows wrapped around and the check passed (2**63-1 gave a UInt32
// index of 4294967295, 0, 1, ...).
func rowIndex(alloc memory.Allocator, typ string, first uint64, rows int) (arrow.Array, error) {
	n := uint64(rows)
	if typ == "uint32" {
		const limit = math.MaxUint32 + 1 // indices 0 .. 2**32-1
		if n > limit || first > limit-n {
			return nil, jerr.New(jerr.Config, "the row index overflows UInt32: it would pass %d (row_index_offset plus rows read); %s",
				uint64(math.MaxUint32), needU64Index)
		}
		buf := memory.NewResizableBuffer(alloc)
		buf.Resize(rows * 4)
		vals := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(buf.Buf()))), rows)
		for i := range vals {
			vals[i] = uint32(first) + uint32(i)
		}
		return finishArray(arrow.PrimitiveTypes.Uint32, rows, buf), nil
	}
	if n > 0 && first > math.MaxUint64-(n-1) {
		return nil, jerr.New(jerr.Config, "the row index overflows UInt64: it would pass %d", uint64(math.MaxUint64))
	}
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(rows * 8)
	vals := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(buf.Buf()))), rows)
	for i := range vals {
		vals[i] = first + uint64(i)
	}
	return finishArray(arrow.PrimitiveTypes.Uint64, rows, buf), nil
}

func finishArray(dt arrow.DataType, rows int, buf *memory.Buffer) arrow.Array {
	d := array.NewData(dt, rows, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// constantString is a string_view column repeating s: every view points at one
// copy of s, so a file path costs 16 bytes a row rather than its length.
func constantString(alloc memory.Allocator, s string, rows int) arrow.Array {
	var view arrow.ViewHeader
	view.SetBytes([]byte(s))
	var data *memory.Buffer
	bufs := []*memory.Buffer{nil, nil}
	if !view.IsInline() {
		data = memory.NewResizableBuffer(alloc)
		data.Resize(len(s))
		copy(data.Buf(), s)
		view.SetIndexOffset(0, 0)
		bufs = append(bufs, data)
	}
	views := memory.NewResizableBuffer(alloc)
	views.Resize(rows * arrow.ViewHeaderSizeBytes)
	hdrs := unsafe.Slice((*arrow.ViewHeader)(unsafe.Pointer(unsafe.SliceData(views.Buf()))), rows)
	for i := range hdrs {
		hdrs[i] = view
	}
	bufs[1] = views
	d := array.NewData(arrow.BinaryTypes.StringView, rows, bufs, nil, 0, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}
