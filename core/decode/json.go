package decode

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// maxDepth bounds nesting in recursive values. Go stacks grow, so this is about
// refusing hostile data, not about fitting a stack.
const maxDepth = 100_000

// appendJSON decodes one value of schema s from r and appends it as JSON. Unions
// are written as their value, bytes and fixed as strings of code points 0-255 (as
// Avro's JSON encoding does), enums as their symbol, non-finite floats as strings.
func appendJSON(dst []byte, r *reader, s avro.Schema, depth int) []byte {
	if depth > maxDepth {
		r.failf("value nested more than %d levels deep", maxDepth)
		return dst
	}
	if r.err != nil {
		return dst
	}
	s = derefAvro(s)
	switch t := s.(type) {
	case *avro.NullSchema:
		return append(dst, "null"...)
	case *avro.PrimitiveSchema:
		switch t.Type() {
		case avro.Boolean:
			return strconv.AppendBool(dst, r.boolean())
		case avro.Int, avro.Long:
			return strconv.AppendInt(dst, r.long(), 10)
		case avro.Float:
			return appendFloat(dst, float64(r.float()), 32)
		case avro.Double:
			return appendFloat(dst, r.double(), 64)
		case avro.Bytes:
			return appendByteString(dst, r.bytes())
		case avro.String:
			return appendJSONString(dst, r)
		}
	case *avro.FixedSchema:
		return appendByteString(dst, r.fixed(t.Size()))
	case *avro.EnumSchema:
		i := r.long()
		if i < 0 || i >= int64(len(t.Symbols())) {
			r.failf("enum index %d out of range", i)
			return dst
		}
		return strconv.AppendQuote(dst, t.Symbols()[i])
	case *avro.RecordSchema:
		dst = append(dst, '{')
		for i, f := range t.Fields() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendQuote(dst, f.Name())
			dst = append(dst, ':')
			dst = appendJSON(dst, r, f.Type(), depth+1)
		}
		return append(dst, '}')
	case *avro.ArraySchema:
		dst = append(dst, '[')
		first := true
		for {
			n, end := r.blockCount(0)
			if n == 0 || r.err != nil {
				break
			}
			for i := int64(0); i < n && r.err == nil; i++ {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				start := r.pos
				dst = appendJSON(dst, r, t.Items(), depth+1)
				if r.pos == start {
					r.emptyItems(jsonEmptyCost)
				}
			}
			r.blockDone(end)
		}
		return append(dst, ']')
	case *avro.MapSchema:
		dst = append(dst, '{')
		first := true
		for {
			n, end := r.blockCount(1)
			if n == 0 || r.err != nil {
				break
			}
			for i := int64(0); i < n && r.err == nil; i++ {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendJSONString(dst, r)
				dst = append(dst, ':')
				dst = appendJSON(dst, r, t.Values(), depth+1)
			}
			r.blockDone(end)
		}
		return append(dst, '}')
	case *avro.UnionSchema:
		i := r.long()
		if i < 0 || i >= int64(len(t.Types())) {
			r.failf("union branch index %d out of range", i)
			return dst
		}
		return appendJSON(dst, r, t.Types()[i], depth+1)
	}
	r.failf("cannot render Avro type %s as JSON", s.Type())
	return dst
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendJSONString reads an Avro string and appends it as a JSON string. It used
// strconv.AppendQuote, whose Go escapes (\x01, \a, \x7f) are not JSON, and did
// not check map keys for UTF-8.
func appendJSONString(dst []byte, r *reader) []byte {
	b := r.bytes()
	if !utf8.Valid(b) {
		r.failf("string is not valid UTF-8")
		return dst
	}
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c) // multi-byte UTF-8 passes through as is
		}
	}
	return append(dst, '"')
}

func appendByteString(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	const hex = "0123456789abcdef"
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
	}
	return append(dst, '"')
}

func derefAvro(s avro.Schema) avro.Schema {
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema()
	}
	return s
}

// skipAvro skips one value of schema s, interpreting the schema. Only recursive
// types use it; everything else has a compiled skipper.
func skipAvro(r *reader, s avro.Schema, depth int) {
	if depth > maxDepth {
		r.failf("value nested more than %d levels deep", maxDepth)
		return
	}
	s = derefAvro(s)
	switch t := s.(type) {
	case *avro.NullSchema:
	case *avro.PrimitiveSchema:
		switch t.Type() {
		case avro.Boolean:
			r.skip(1)
		case avro.Int, avro.Long:
			r.long()
		case avro.Float:
			r.skip(4)
		case avro.Double:
			r.skip(8)
		case avro.Bytes, avro.String:
			r.skip(r.long())
		}
	case *avro.FixedSchema:
		r.skip(int64(t.Size()))
	case *avro.EnumSchema:
		r.long()
	case *avro.RecordSchema:
		for _, f := range t.Fields() {
			skipAvro(r, f.Type(), depth+1)
		}
	case *avro.ArraySchema:
		skipBlocks(r, func(r *reader) { skipAvro(r, t.Items(), depth+1) })
	case *avro.MapSchema:
		skipBlocks(r, func(r *reader) { r.skip(r.long()); skipAvro(r, t.Values(), depth+1) })
	case *avro.UnionSchema:
		i := r.long()
		if i < 0 || i >= int64(len(t.Types())) {
			r.failf("union branch index %d out of range", i)
			return
		}
		skipAvro(r, t.Types()[i], depth+1)
	}
}

// skipBlocks skips the blocks of an array or map. Blocks written with a negative
// count carry their byte size, so they are skipped in one jump.
func skipBlocks(r *reader, item func(*reader)) {
	for r.err == nil {
		n := r.long()
		if n == 0 {
			return
		}
		if n < 0 {
			if n == math.MinInt64 {
				r.failf("invalid item count")
				return
			}
			r.skip(r.long())
			continue
		}
		if n > int64(len(r.buf)-r.pos)+r.empty {
			r.failf("item count %d is impossible with %d bytes left", n, len(r.buf)-r.pos)
			return
		}
		for i := int64(0); i < n && r.err == nil; i++ {
			start := r.pos
			item(r)
			if r.pos == start {
				r.emptyItem()
			}
		}
	}
}
