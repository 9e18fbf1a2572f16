package encode

import (
	"encoding/binary"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"

	"github.com/jetliner/jetliner/core/schema"
)

// The logical family: dates, times of day, timestamps, durations and decimals,
// each converted from the Arrow unit to the Avro one where they differ. A
// conversion that would lose precision (nanoseconds into microseconds that are
// not whole) is refused, not rounded: the writer never changes a value silently.

// exponent is a time unit as a power of ten of seconds.
var exponent = map[arrow.TimeUnit]int{arrow.Second: 0, arrow.Millisecond: 3, arrow.Microsecond: 6, arrow.Nanosecond: 9}

var unitNames = map[int]string{0: "seconds", 3: "milliseconds", 6: "microseconds", 9: "nanoseconds"}

// rescale converts from one power of ten of seconds to another.
func rescale(from, to int, lo, hi int64) convert {
	c := convert{lo: lo, hi: hi, unit: unitNames[to]}
	for ; from < to; from++ {
		c.mul = max(c.mul, 1) * 10
	}
	for ; from > to; from-- {
		c.div = max(c.div, 1) * 10
	}
	return c
}

const (
	minInt32 = -1 << 31
	maxInt32 = 1<<31 - 1
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// logicalExponent is the unit of an Avro logical type, as a power of ten of
// seconds.
var logicalExponent = map[schema.Logical]int{
	schema.TimeMillis: 3, schema.TimeMicros: 6,
	schema.TimestampMillis: 3, schema.TimestampMicros: 6, schema.TimestampNanos: 9,
	schema.LocalTimestampMillis: 3, schema.LocalTimestampMicros: 6, schema.LocalTimestampNanos: 9,
}

func compileLogical(n *schema.Node, dt arrow.DataType, path string) (binder, error) {
	lo, hi, avroType := int64(minInt64), int64(maxInt64), "long"
	if n.Kind == schema.Int {
		lo, hi, avroType = minInt32, maxInt32, "int"
	}
	switch n.Logical {
	case schema.Date:
		switch dt.ID() {
		case arrow.DATE32:
			return intEnc[int32](convert{lo: lo, hi: hi, unit: "days"}, path, avroType), nil
		case arrow.DATE64:
			return intEnc[int64](convert{div: 86_400_000, lo: lo, hi: hi, unit: "days"}, path, avroType), nil
		}
	case schema.TimeMillis, schema.TimeMicros:
		to := logicalExponent[n.Logical]
		switch t := dt.(type) {
		case *arrow.Time32Type:
			return intEnc[int32](rescale(exponent[t.Unit], to, lo, hi), path, avroType), nil
		case *arrow.Time64Type:
			return intEnc[int64](rescale(exponent[t.Unit], to, lo, hi), path, avroType), nil
		}
	case schema.TimestampMillis, schema.TimestampMicros, schema.TimestampNanos,
		schema.LocalTimestampMillis, schema.LocalTimestampMicros, schema.LocalTimestampNanos:
		if t, ok := dt.(*arrow.TimestampType); ok {
			return intEnc[int64](rescale(exponent[t.Unit], logicalExponent[n.Logical], lo, hi), path, avroType), nil
		}
	}
	// Any other logical type on an int or long (an unknown one the schema package
	// ignored is LogicalNone) takes the plain integers.
	c := convert{lo: lo, hi: hi}
	if t, ok := dt.(*arrow.DurationType); ok && n.Kind == schema.Long {
		return durationMicros(t, path), nil
	}
	return intFamily(dt, c, path, avroType), nil
}

// durationMicros writes a Duration as a long of microseconds, the choice
// documented in the user guide (Avro's duration type counts months, days and
// milliseconds, unsigned, and cannot hold a Polars Duration).
func durationMicros(t *arrow.DurationType, path string) binder {
	return intEnc[int64](rescale(exponent[t.Unit], 6, minInt64, maxInt64), path, "long")
}

// compileDecimal writes Decimal128 columns as Avro decimals on bytes or fixed.
func compileDecimal(n *schema.Node, dt arrow.DataType, path string) binder {
	t, ok := dt.(*arrow.Decimal128Type)
	if !ok {
		return nil
	}
	prec, scale := int32(n.Precision), int32(n.Scale)
	sameScale := t.Scale == scale
	checkPrec := t.Precision-t.Scale > prec-scale || !sameScale
	fixed := n.Kind == schema.Fixed
	size := n.Size
	return func(arr arrow.Array) encFn {
		vals := fixedValues[decimal128.Num](arr)
		var scratch [16]byte
		return func(dst []byte, i int) ([]byte, error) {
			v := vals[i]
			if !sameScale {
				r, err := v.Rescale(t.Scale, scale)
				if err != nil {
					return dst, badValue(path, "%s cannot be written with scale %d without losing digits", v.ToString(t.Scale), scale)
				}
				v = r
			}
			if checkPrec && !v.FitsInPrecision(prec) {
				return dst, badValue(path, "%s has more digits than the decimal's precision %d", v.ToString(scale), prec)
			}
			binary.BigEndian.PutUint64(scratch[:8], uint64(v.HighBits()))
			binary.BigEndian.PutUint64(scratch[8:], v.LowBits())
			// The shortest two's complement form: drop leading bytes that only
			// repeat the sign.
			k := 0
			for k < 15 && ((scratch[k] == 0 && scratch[k+1]&0x80 == 0) || (scratch[k] == 0xff && scratch[k+1]&0x80 != 0)) {
				k++
			}
			if !fixed {
				return appendBytes(dst, scratch[k:]), nil
			}
			need := 16 - k
			if need > size {
				return dst, badValue(path, "%s does not fit a fixed of %d bytes", v.ToString(scale), size)
			}
			sign := byte(0)
			if v.Sign() < 0 {
				sign = 0xff
			}
			for range size - 16 {
				dst = append(dst, sign)
			}
			return append(dst, scratch[16-min(size, 16):]...), nil
		}
	}
}

// compileDurationFixed writes the Struct{months, days, millis} that reads give
// for Avro's duration (fixed 12) back as three little-endian unsigned ints.
func compileDurationFixed(dt arrow.DataType, path string) binder {
	st, ok := dt.(*arrow.StructType)
	if !ok || st.NumFields() != 3 {
		return nil
	}
	idx := [3]int{}
	for k, name := range []string{"months", "days", "millis"} {
		i, found := st.FieldIdx(name)
		if !found || st.Field(i).Type.ID() != arrow.UINT32 {
			return nil
		}
		idx[k] = i
	}
	return func(arr arrow.Array) encFn {
		s := arr.(*array.Struct)
		var parts [3]*array.Uint32
		for k := range parts {
			parts[k] = s.Field(idx[k]).(*array.Uint32)
		}
		return func(dst []byte, i int) ([]byte, error) {
			for _, p := range parts {
				if p.IsNull(i) {
					return dst, badValue(path, "a duration's months, days and millis may not be null")
				}
				dst = binary.LittleEndian.AppendUint32(dst, p.Value(i))
			}
			return dst, nil
		}
	}
}
