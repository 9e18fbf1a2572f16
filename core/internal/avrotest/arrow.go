package avrotest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// JSON renders an array as compact JSON, for comparing decoded values with the
// expected ones in one readable string.
func JSON(a arrow.Array) (out string) {
	defer func() {
		// arrow-go's list marshaller panics when a child cannot be rendered (a NaN
		// inside a struct inside a list): that is arrow's JSON, not our data.
		if p := recover(); p != nil {
			out = fmt.Sprintf("error: %v", p)
		}
	}()
	raw, err := a.MarshalJSON()
	if err != nil {
		return "error: " + err.Error()
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "error: " + err.Error()
	}
	return b.String()
}

// DataJSON is JSON for array data (it does not take over the caller's reference).
func DataJSON(d arrow.ArrayData) string {
	a := array.MakeFromData(d)
	defer a.Release()
	return JSON(a)
}

// Validate checks that d is structurally sound Arrow data, recursively: buffers
// large enough for the length, null counts that match the bitmaps, offsets that
// are monotonic and in range, strings that are UTF-8, dictionary indices in
// range. It covers the types the decoders produce.
func Validate(d arrow.ArrayData) error {
	n, off := d.Len(), d.Offset()
	bufs := d.Buffers()
	bitmapBytes := func(n int) int { return (n + 7) / 8 }
	if n < 0 || off < 0 {
		return fmt.Errorf("%s: length %d offset %d", d.DataType(), n, off)
	}
	if d.DataType().ID() == arrow.NULL {
		if d.NullN() != n {
			return fmt.Errorf("null array: %d nulls of %d", d.NullN(), n)
		}
		return nil
	}
	if len(bufs) == 0 {
		return fmt.Errorf("%s: no buffers", d.DataType())
	}
	if bm := bufs[0]; bm != nil {
		if bm.Len() < bitmapBytes(off+n) {
			return fmt.Errorf("%s: validity bitmap of %d bytes for %d values", d.DataType(), bm.Len(), off+n)
		}
		nulls := 0
		for i := off; i < off+n; i++ {
			if bm.Bytes()[i>>3]&(1<<(i&7)) == 0 {
				nulls++
			}
		}
		if nulls != d.NullN() {
			return fmt.Errorf("%s: bitmap has %d nulls, NullN says %d", d.DataType(), nulls, d.NullN())
		}
	} else if d.NullN() != 0 {
		return fmt.Errorf("%s: %d nulls but no bitmap", d.DataType(), d.NullN())
	}
	valid := func(i int) bool {
		return bufs[0] == nil || bufs[0].Bytes()[(off+i)>>3]&(1<<((off+i)&7)) != 0
	}
	buf := func(i int) []byte {
		if i >= len(bufs) || bufs[i] == nil {
			return nil
		}
		return bufs[i].Bytes()
	}
	offsets := func(limit int) ([]int32, error) {
		raw := buf(1)
		if len(raw) < 4*(off+n+1) {
			return nil, fmt.Errorf("%s: offsets buffer of %d bytes for %d values", d.DataType(), len(raw), off+n)
		}
		o := make([]int32, n+1)
		for i := range o {
			o[i] = int32(binary.LittleEndian.Uint32(raw[4*(off+i):]))
		}
		for i := 1; i < len(o); i++ {
			if o[i] < o[i-1] {
				return nil, fmt.Errorf("%s: offsets decrease at %d", d.DataType(), i)
			}
		}
		if o[0] < 0 || int(o[n]) > limit {
			return nil, fmt.Errorf("%s: offsets [%d, %d] out of range %d", d.DataType(), o[0], o[n], limit)
		}
		return o, nil
	}
	switch dt := d.DataType().(type) {
	case *arrow.BooleanType:
		if len(buf(1)) < bitmapBytes(off+n) {
			return fmt.Errorf("bool: %d value bytes for %d values", len(buf(1)), off+n)
		}
	case arrow.FixedWidthDataType: // numbers, dates, times, decimals, dictionary indices
		if w := dt.BitWidth() / 8; len(buf(1)) < w*(off+n) {
			return fmt.Errorf("%s: %d value bytes for %d values", dt, len(buf(1)), off+n)
		}
		if _, ok := dt.(*arrow.DictionaryType); ok {
			return validateDictionary(d)
		}
	case *arrow.BinaryType, *arrow.StringType:
		o, err := offsets(len(buf(2)))
		if err != nil {
			return err
		}
		if dt.ID() == arrow.STRING {
			for i := 0; i < n; i++ {
				if valid(i) && !utf8.Valid(buf(2)[o[i]:o[i+1]]) {
					return fmt.Errorf("string %d is not UTF-8", i)
				}
			}
		}
	case *arrow.BinaryViewType, *arrow.StringViewType:
		return validateViews(d, valid)
	case *arrow.ListType:
		child := d.Children()[0]
		if _, err := offsets(child.Len()); err != nil {
			return err
		}
		return Validate(child)
	case *arrow.StructType:
		if len(d.Children()) != dt.NumFields() {
			return fmt.Errorf("%s: %d children", dt, len(d.Children()))
		}
		for _, c := range d.Children() {
			if c.Len() != off+n {
				return fmt.Errorf("%s: child of length %d for %d values", dt, c.Len(), off+n)
			}
			if err := Validate(c); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("avrotest.Validate: unhandled type %s", dt)
	}
	return nil
}

// validateViews checks binary_view and string_view data: every view's length,
// the zero padding of inline values, the buffer and range of the others, their
// 4-byte prefix, and UTF-8 for strings.
func validateViews(d arrow.ArrayData, valid func(int) bool) error {
	n, off := d.Len(), d.Offset()
	bufs := d.Buffers()
	dt := d.DataType()
	if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() < 16*(off+n) {
		return fmt.Errorf("%s: views buffer too small for %d values", dt, off+n)
	}
	raw := bufs[1].Bytes()
	data := bufs[2:]
	for i := off; i < off+n; i++ {
		v := raw[16*i : 16*i+16]
		size := int(int32(binary.LittleEndian.Uint32(v)))
		if size < 0 {
			return fmt.Errorf("%s: value %d has length %d", dt, i, size)
		}
		var value []byte
		if size <= 12 {
			value = v[4 : 4+size]
			for _, pad := range v[4+size:] {
				if pad != 0 {
					return fmt.Errorf("%s: inline value %d is not zero-padded", dt, i)
				}
			}
		} else {
			idx := int(binary.LittleEndian.Uint32(v[8:]))
			at := int(binary.LittleEndian.Uint32(v[12:]))
			if idx >= len(data) || data[idx] == nil || at+size > data[idx].Len() {
				return fmt.Errorf("%s: value %d points outside its data buffers", dt, i)
			}
			value = data[idx].Bytes()[at : at+size]
			if !bytes.Equal(value[:4], v[4:8]) {
				return fmt.Errorf("%s: value %d has a wrong prefix", dt, i)
			}
		}
		if dt.ID() == arrow.STRING_VIEW && valid(i-off) && !utf8.Valid(value) {
			return fmt.Errorf("string %d is not UTF-8", i)
		}
	}
	return nil
}

// validateDictionary checks a dictionary array's indices against its dictionary.
func validateDictionary(d arrow.ArrayData) error {
	dt := d.DataType()
	dict := d.Dictionary()
	if dict == nil {
		return fmt.Errorf("dictionary array without a dictionary")
	}
	if err := Validate(dict); err != nil {
		return err
	}
	a := array.MakeFromData(d).(*array.Dictionary)
	defer a.Release()
	for i := 0; i < a.Len(); i++ {
		if a.IsValid(i) && (a.GetValueIndex(i) < 0 || a.GetValueIndex(i) >= dict.Len()) {
			return fmt.Errorf("%s: index %d out of range at %d", dt, a.GetValueIndex(i), i)
		}
	}
	return nil
}
