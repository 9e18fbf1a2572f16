package scan

import (
	"math"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/jetliner/jetliner/core/jerr"
)

// rowIndex builds the row index column for rows starting at first.
func rowIndex(alloc memory.Allocator, typ string, first int64, rows int) (arrow.Array, error) {
	if typ == "uint32" {
		if first+int64(rows) > math.MaxUint32+1 {
			return nil, jerr.New(jerr.Config, "the row index overflows UInt32 after %d rows; Polars with 64-bit indices (polars-u64-idx) is needed", int64(math.MaxUint32)+1)
		}
		buf := memory.NewResizableBuffer(alloc)
		buf.Resize(rows * 4)
		vals := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(buf.Buf()))), rows)
		for i := range vals {
			vals[i] = uint32(first) + uint32(i)
		}
		return finishArray(arrow.PrimitiveTypes.Uint32, rows, buf), nil
	}
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(rows * 8)
	vals := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(buf.Buf()))), rows)
	for i := range vals {
		vals[i] = uint64(first) + uint64(i)
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
