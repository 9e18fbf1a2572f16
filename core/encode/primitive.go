package encode

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/float16"

	"github.com/jetliner/jetliner/core/schema"
)

// The primitive family: null, boolean, int, long, float, double. The integer
// and float loops are generic over the Arrow value type, read straight from the
// array's value buffer (fixedValues), with the conversion and range checks
// chosen once per column rather than per value.

// integer is every Arrow integer storage type (dates, times, timestamps and
// durations included: their Go types are defined on these).
type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// fixedValues returns the values of a fixed-width array as a []T, offset applied.
func fixedValues[T any](arr arrow.Array) []T {
	d := arr.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil || d.Len() == 0 {
		return nil
	}
	b := bufs[1].Bytes()
	var zero T
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
	return all[d.Offset() : d.Offset()+d.Len()]
}

func compileNull(dt arrow.DataType, path string) binder {
	if dt.ID() == arrow.NULL {
		return func(arrow.Array) encFn { return func(dst []byte, _ int) ([]byte, error) { return dst, nil } }
	}
	return func(arr arrow.Array) encFn {
		return func(dst []byte, i int) ([]byte, error) {
			if !arr.IsNull(i) {
				return dst, badValue(path, "the schema's type is null, but the value is not")
			}
			return dst, nil
		}
	}
}

func compilePrimitive(n *schema.Node, dt arrow.DataType, path string) (binder, error) {
	if n.Logical != schema.LogicalNone {
		return compileLogical(n, dt, path)
	}
	switch n.Kind {
	case schema.Boolean:
		if dt.ID() != arrow.BOOL {
			return nil, nil
		}
		return func(arr arrow.Array) encFn {
			a := arr.(*array.Boolean)
			return func(dst []byte, i int) ([]byte, error) {
				if a.Value(i) {
					return append(dst, 1), nil
				}
				return append(dst, 0), nil
			}
		}, nil
	case schema.Int:
		return intFamily(dt, convert{lo: math.MinInt32, hi: math.MaxInt32}, path, "int"), nil
	case schema.Long:
		if dt.ID() == arrow.DURATION {
			return durationMicros(dt.(*arrow.DurationType), path), nil
		}
		return intFamily(dt, convert{lo: math.MinInt64, hi: math.MaxInt64}, path, "long"), nil
	case schema.Float:
		switch dt.ID() {
		case arrow.FLOAT16:
			return func(arr arrow.Array) encFn {
				vals := fixedValues[float16.Num](arr)
				return func(dst []byte, i int) ([]byte, error) {
					return binary.LittleEndian.AppendUint32(dst, math.Float32bits(vals[i].Float32())), nil
				}
			}, nil
		case arrow.FLOAT32:
			return float32Enc, nil
		case arrow.FLOAT64:
			return func(arr arrow.Array) encFn {
				vals := fixedValues[float64](arr)
				return func(dst []byte, i int) ([]byte, error) {
					v := vals[i]
					f := float32(v)
					if float64(f) != v && v == v {
						return dst, badValue(path, "%v does not fit an Avro float exactly", v)
					}
					return binary.LittleEndian.AppendUint32(dst, math.Float32bits(f)), nil
				}
			}, nil
		}
	case schema.Double:
		switch dt.ID() {
		case arrow.FLOAT16:
			return func(arr arrow.Array) encFn {
				vals := fixedValues[float16.Num](arr)
				return func(dst []byte, i int) ([]byte, error) {
					return binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(vals[i].Float32()))), nil
				}
			}, nil
		case arrow.FLOAT32:
			return func(arr arrow.Array) encFn {
				vals := fixedValues[float32](arr)
				return func(dst []byte, i int) ([]byte, error) {
					return binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(vals[i]))), nil
				}
			}, nil
		case arrow.FLOAT64:
			return float64Enc, nil
		}
	}
	return nil, nil
}

// float32Enc and float64Enc copy float to float and double to double: both are
// IEEE 754 little-endian on the wire.
func float32Enc(arr arrow.Array) encFn {
	vals := fixedValues[float32](arr)
	return func(dst []byte, i int) ([]byte, error) {
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(vals[i])), nil
	}
}

func float64Enc(arr arrow.Array) encFn {
	vals := fixedValues[float64](arr)
	return func(dst []byte, i int) ([]byte, error) {
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(vals[i])), nil
	}
}

// convert says how an integer becomes the Avro value: multiplied by mul or
// divided by div (which must be exact), then checked against [lo, hi].
type convert struct {
	mul, div int64 // 0 means 1
	lo, hi   int64
	unit     string // what the Avro value counts, for messages ("microseconds")
}

// intFamily encodes the integer Arrow types (nil for any other).
func intFamily(dt arrow.DataType, c convert, path, avroType string) binder {
	switch dt.ID() {
	case arrow.INT8:
		return intEnc[int8](c, path, avroType)
	case arrow.INT16:
		return intEnc[int16](c, path, avroType)
	case arrow.INT32:
		return intEnc[int32](c, path, avroType)
	case arrow.INT64:
		return intEnc[int64](c, path, avroType)
	case arrow.UINT8:
		return intEnc[uint8](c, path, avroType)
	case arrow.UINT16:
		return intEnc[uint16](c, path, avroType)
	case arrow.UINT32:
		return intEnc[uint32](c, path, avroType)
	case arrow.UINT64:
		return intEnc[uint64](c, path, avroType)
	}
	return nil
}

// intEnc is the loop of every integer column: the fast path when the Arrow type
// fits the Avro one as it is, else with the conversion and checks of c.
func intEnc[T integer](c convert, path, avroType string) binder {
	var zero T
	unsigned := ^zero > 0
	bits := 8 * int(unsafe.Sizeof(zero))
	// The range of T, which fits [lo, hi] or not: the checks are only paid for
	// by columns that need them.
	var tlo, thi int64
	fits := false
	switch {
	case unsigned && bits == 64:
	case unsigned:
		tlo, thi, fits = 0, 1<<bits-1, true
	case bits == 64:
		tlo, thi, fits = math.MinInt64, math.MaxInt64, true
	default:
		tlo, thi, fits = -1<<(bits-1), 1<<(bits-1)-1, true
	}
	if fits && c.mul <= 1 && c.div <= 1 && tlo >= c.lo && thi <= c.hi {
		return func(arr arrow.Array) encFn {
			vals := fixedValues[T](arr)
			return func(dst []byte, i int) ([]byte, error) { return appendLong(dst, int64(vals[i])), nil }
		}
	}
	return func(arr arrow.Array) encFn {
		vals := fixedValues[T](arr)
		return func(dst []byte, i int) ([]byte, error) {
			raw := vals[i]
			v := int64(raw)
			if unsigned && v < 0 {
				return dst, badValue(path, "%d is out of the range of an Avro %s", raw, avroType)
			}
			v, err := c.apply(v, path, avroType)
			if err != nil {
				return dst, err
			}
			return appendLong(dst, v), nil
		}
	}
}

func (c *convert) apply(v int64, path, avroType string) (int64, error) {
	orig := v
	if c.div > 1 {
		if v%c.div != 0 {
			return 0, badValue(path, "%d cannot be written as a whole number of %s without losing precision", orig, c.unit)
		}
		v /= c.div
	}
	if c.mul > 1 {
		if v > math.MaxInt64/c.mul || v < math.MinInt64/c.mul {
			return 0, badValue(path, "%d is out of the range of an Avro %s in %s", orig, avroType, c.unit)
		}
		v *= c.mul
	}
	if v < c.lo || v > c.hi {
		return 0, badValue(path, "%d is out of the range of an Avro %s", orig, avroType)
	}
	return v, nil
}
