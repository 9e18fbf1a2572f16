// Package avrotest writes Avro object container files for tests: a minimal binary
// encoder for Go values, a file builder that frames and compresses blocks, an
// in-memory source, and helpers that corrupt the result in controlled ways.
//
// It is deliberately independent of the reading code it tests: the encoding here
// follows the Avro specification directly and shares nothing with core/decode.
package avrotest

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// Union is a union value: the branch index on the wire, then the value (nil for
// the null branch).
type Union struct {
	Index int
	Value any
}

// U is shorthand for Union{Index: i, Value: v}.
func U(i int, v any) Union { return Union{Index: i, Value: v} }

// Fixed is a fixed value: its bytes are written raw, with no length prefix.
type Fixed []byte

// Enum is an enum value: its symbol index, written as an int.
type Enum int

// KV is one map entry.
type KV struct {
	Key   string
	Value any
}

// Array is an Avro array written in blocks of BlockLen items (0: one block). With
// Sized, each block has a negative count followed by its size in bytes, as writers
// may do so that readers can skip it in one jump.
type Array struct {
	Items    []any
	BlockLen int
	Sized    bool
}

// Map is an Avro map, blocked like Array.
type Map struct {
	Entries  []KV
	BlockLen int
	Sized    bool
}

// Raw is written as is: for hand-made or deliberately broken encodings.
type Raw []byte

// Encode appends the Avro binary encoding of each value to dst. The Go type picks
// the encoding:
//
//	nil                 null (nothing on the wire)
//	bool                boolean
//	int32, Enum         int
//	int, int64          long
//	float32, float64    float, double
//	string, []byte      string, bytes (length-prefixed)
//	Fixed, Raw          raw bytes
//	Union               branch index, then the value
//	[]any, Array        array
//	map[string]any, Map map (map[string]any is written in sorted key order)
//
// Any other type panics: this is test support, and a typo should fail loudly.
func Encode(dst []byte, values ...any) []byte {
	for _, v := range values {
		dst = encode(dst, v)
	}
	return dst
}

func encode(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return dst
	case bool:
		if v {
			return append(dst, 1)
		}
		return append(dst, 0)
	case int32:
		return AppendLong(dst, int64(v))
	case Enum:
		return AppendLong(dst, int64(v))
	case int:
		return AppendLong(dst, int64(v))
	case int64:
		return AppendLong(dst, v)
	case float32:
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	case float64:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	case string:
		return append(AppendLong(dst, int64(len(v))), v...)
	case []byte:
		return append(AppendLong(dst, int64(len(v))), v...)
	case Fixed:
		return append(dst, v...)
	case Raw:
		return append(dst, v...)
	case Union:
		return encode(AppendLong(dst, int64(v.Index)), v.Value)
	case []any:
		return encode(dst, Array{Items: v})
	case Array:
		return appendBlocks(dst, len(v.Items), v.BlockLen, v.Sized, func(dst []byte, i int) []byte {
			return encode(dst, v.Items[i])
		})
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := Map{}
		for _, k := range keys {
			m.Entries = append(m.Entries, KV{k, v[k]})
		}
		return encode(dst, m)
	case Map:
		return appendBlocks(dst, len(v.Entries), v.BlockLen, v.Sized, func(dst []byte, i int) []byte {
			return encode(encode(dst, v.Entries[i].Key), v.Entries[i].Value)
		})
	}
	panic(fmt.Sprintf("avrotest: cannot encode %T", v))
}

// appendBlocks writes n items as array/map blocks of blockLen items, then the
// terminating zero count.
func appendBlocks(dst []byte, n, blockLen int, sized bool, item func([]byte, int) []byte) []byte {
	if blockLen <= 0 {
		blockLen = max(n, 1)
	}
	for start := 0; start < n; start += blockLen {
		end := min(start+blockLen, n)
		var body []byte
		for i := start; i < end; i++ {
			body = item(body, i)
		}
		if sized {
			dst = AppendLong(dst, -int64(end-start))
			dst = AppendLong(dst, int64(len(body)))
		} else {
			dst = AppendLong(dst, int64(end-start))
		}
		dst = append(dst, body...)
	}
	return AppendLong(dst, 0)
}

// AppendLong appends a zigzag varint, Avro's encoding of int and long.
func AppendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

// Rows encodes one block's records: each row is the values of one record, in
// field order.
func Rows(rows ...[]any) Block {
	var b Block
	for _, r := range rows {
		b.Data = Encode(b.Data, r...)
	}
	b.Count = int64(len(rows))
	return b
}

// Longs is a block of single-long records 'from', 'from+1', ... 'from+n-1', handy
// for a {"type":"record","fields":[{"name":"x","type":"long"}]} schema or a bare
// "long" schema.
func Longs(from, n int64) Block {
	var b Block
	for i := from; i < from+n; i++ {
		b.Data = AppendLong(b.Data, i)
	}
	b.Count = n
	return b
}
