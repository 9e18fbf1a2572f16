package encode

import (
	"encoding/hex"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/jetliner/jetliner/core/schema"
)

// The binary family: string, bytes, fixed (with uuid, decimal and duration on
// it) and enum. Values are read through one accessor per Arrow layout (offsets,
// large offsets, views, dictionaries), chosen when a block binds its arrays.

// textAt returns the bytes of element i, as a string that aliases the array.
type textAt func(i int) string

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// isText reports whether dt holds strings or bytes that textOf can read;
// strings only, when onlyStrings.
func isText(dt arrow.DataType, onlyStrings bool) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return !onlyStrings
	case arrow.DICTIONARY:
		return isText(dt.(*arrow.DictionaryType).ValueType, onlyStrings)
	}
	return false
}

// textOf returns the accessor of an array of a type isText accepts.
func textOf(arr arrow.Array) textAt {
	switch a := arr.(type) {
	case *array.String:
		return a.Value
	case *array.LargeString:
		return a.Value
	case *array.StringView:
		return a.Value
	case *array.Binary:
		return func(i int) string { return unsafeString(a.Value(i)) }
	case *array.LargeBinary:
		return func(i int) string { return unsafeString(a.Value(i)) }
	case *array.BinaryView:
		return func(i int) string { return unsafeString(a.Value(i)) }
	case *array.FixedSizeBinary:
		return func(i int) string { return unsafeString(a.Value(i)) }
	case *array.Dictionary:
		dict := textOf(a.Dictionary())
		return func(i int) string { return dict(a.GetValueIndex(i)) }
	}
	panic("encode: textOf on " + arr.DataType().String()) // compile checked isText
}

func compileBinary(n *schema.Node, dt arrow.DataType, md arrow.Metadata, path string) (binder, error) {
	switch {
	case n.Kind == schema.String && isText(dt, true):
		return textEnc, nil
	case n.Kind == schema.Bytes && n.Logical == schema.Decimal:
		return compileDecimal(n, dt, path), nil
	case n.Kind == schema.Bytes && isText(dt, false):
		return textEnc, nil
	case n.Kind == schema.Fixed && n.Logical == schema.Decimal:
		return compileDecimal(n, dt, path), nil
	case n.Kind == schema.Fixed && n.Logical == schema.Duration:
		return compileDurationFixed(dt, path), nil
	case n.Kind == schema.Fixed && n.Logical == schema.UUID && isText(dt, true):
		return uuidFixed(path), nil
	case n.Kind == schema.Fixed && isText(dt, false):
		return fixedEnc(n.Size, path), nil
	case n.Kind == schema.Enum:
		return compileEnum(n, dt, path), nil
	}
	return nil, nil
}

// textEnc writes strings and bytes: a length, then the bytes.
func textEnc(arr arrow.Array) encFn {
	// The common layouts get their own loop: one indirect call less a value.
	switch a := arr.(type) {
	case *array.StringView:
		return func(dst []byte, i int) ([]byte, error) { return appendString(dst, a.Value(i)), nil }
	case *array.String:
		return func(dst []byte, i int) ([]byte, error) { return appendString(dst, a.Value(i)), nil }
	case *array.LargeString:
		return func(dst []byte, i int) ([]byte, error) { return appendString(dst, a.Value(i)), nil }
	}
	at := textOf(arr)
	return func(dst []byte, i int) ([]byte, error) { return appendString(dst, at(i)), nil }
}

func fixedEnc(size int, path string) binder {
	return func(arr arrow.Array) encFn {
		at := textOf(arr)
		return func(dst []byte, i int) ([]byte, error) {
			v := at(i)
			if len(v) != size {
				return dst, badValue(path, "a value of %d bytes does not fit a fixed of %d", len(v), size)
			}
			return append(dst, v...), nil
		}
	}
}

// uuidFixed writes the text form of a UUID (what reads give for uuid on fixed)
// as its 16 bytes.
func uuidFixed(path string) binder {
	return func(arr arrow.Array) encFn {
		at := textOf(arr)
		return func(dst []byte, i int) ([]byte, error) {
			v := at(i)
			var out [16]byte
			if len(v) != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-' {
				return dst, badValue(path, "%q is not a UUID (8-4-4-4-12 hexadecimal digits)", v)
			}
			h := v[0:8] + v[9:13] + v[14:18] + v[19:23] + v[24:]
			if _, err := hex.Decode(out[:], []byte(h)); err != nil {
				return dst, badValue(path, "%q is not a UUID (8-4-4-4-12 hexadecimal digits)", v)
			}
			return append(dst, out[:]...), nil
		}
	}
}

// compileEnum writes strings as the index of their symbol. A dictionary column
// (Polars' Enum and Categorical) maps its dictionary once per block, so the
// loop is a table lookup; other string columns look each value up.
func compileEnum(n *schema.Node, dt arrow.DataType, path string) binder {
	if !isText(dt, true) {
		return nil
	}
	index := make(map[string]int64, len(n.Symbols))
	for k, s := range n.Symbols {
		index[s] = int64(k)
	}
	notSymbol := func(v string) error {
		return badValue(path, "%q is not one of the enum's symbols %s", v, quoted(n.Symbols))
	}
	return func(arr arrow.Array) encFn {
		if d, ok := arr.(*array.Dictionary); ok {
			dict := textOf(d.Dictionary())
			table := make([]int64, d.Dictionary().Len())
			for k := range table {
				if sym, ok := index[dict(k)]; ok {
					table[k] = sym
				} else {
					table[k] = -1
				}
			}
			return func(dst []byte, i int) ([]byte, error) {
				sym := table[d.GetValueIndex(i)]
				if sym < 0 {
					return dst, notSymbol(dict(d.GetValueIndex(i)))
				}
				return appendLong(dst, sym), nil
			}
		}
		at := textOf(arr)
		return func(dst []byte, i int) ([]byte, error) {
			v := at(i)
			sym, ok := index[v]
			if !ok {
				return dst, notSymbol(v)
			}
			return appendLong(dst, sym), nil
		}
	}
}

func quoted(syms []string) string {
	const show = 10
	out := "["
	for k, s := range syms {
		if k == show {
			out += ", ..."
			break
		}
		if k > 0 {
			out += ", "
		}
		out += `"` + s + `"`
	}
	return out + "]"
}
