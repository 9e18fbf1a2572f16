package encode

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/jetliner/jetliner/core/schema"
)

// The union family, and nullability, handled here once for every type: a
// [null, T] union wraps T's encoder with the branch index; a column with no
// nulls in a block skips the validity check; a non-nullable type refuses nulls.

// compileNullable builds the encoder of a [null, T] or [T, null] union.
func compileNullable(n *schema.Node, dt arrow.DataType, md arrow.Metadata, path string) (binder, error) {
	nullByte := byte(appendLong(nil, int64(n.NullIndex))[0])
	valueByte := byte(appendLong(nil, int64(1-n.NullIndex))[0])
	if dt.ID() == arrow.NULL {
		// A Polars column of type Null: every value is null.
		return func(arrow.Array) encFn {
			return func(dst []byte, _ int) ([]byte, error) { return append(dst, nullByte), nil }
		}, nil
	}
	inner := *n
	inner.Nullable = false
	b, err := compileValue(&inner, dt, md, path)
	if err != nil {
		return nil, err
	}
	return func(arr arrow.Array) encFn {
		enc := b(arr)
		if arr.NullN() == 0 {
			return func(dst []byte, i int) ([]byte, error) { return enc(append(dst, valueByte), i) }
		}
		return func(dst []byte, i int) ([]byte, error) {
			if arr.IsNull(i) {
				return append(dst, nullByte), nil
			}
			return enc(append(dst, valueByte), i)
		}
	}, nil
}

// required refuses nulls where the schema's type is not nullable.
func required(b binder, path string) binder {
	return func(arr arrow.Array) encFn {
		enc := b(arr)
		if arr.NullN() == 0 {
			return enc
		}
		return func(dst []byte, i int) ([]byte, error) {
			if arr.IsNull(i) {
				return dst, badValue(path, "the value is null, but the schema's type for it is not nullable")
			}
			return enc(dst, i)
		}
	}
}

// prefixed writes a fixed branch index before each value: a one-branch union.
func prefixed(b binder, branch byte) binder {
	return func(arr arrow.Array) encFn {
		enc := b(arr)
		return func(dst []byte, i int) ([]byte, error) { return enc(append(dst, branch), i) }
	}
}

// compileUnion writes a general union from the Struct reads give for one: a
// field per non-null branch, named as the schema package names branches, of
// which the first non-null one is the value. A row with none is the null
// branch, if the union has one.
func compileUnion(n *schema.Node, dt arrow.DataType, md arrow.Metadata, path string) (binder, error) {
	st, ok := dt.(*arrow.StructType)
	if !ok {
		return nil, fmt.Errorf("%s: a column of type %s cannot be written as the union %s: "+
			"a union is written from a Struct with one field per branch (%v), as reads give it", path, dt, schema.Describe(n), n.Names)
	}
	idx := make([]int, len(n.Children))
	branches := make([]binder, len(n.Children))
	used := make([]bool, st.NumFields())
	for k, child := range n.Children {
		j, found := st.FieldIdx(n.Names[k])
		if !found {
			return nil, fmt.Errorf("%s: the union's branch %q has no field in the Struct (it has %s)", path, n.Names[k], fieldNames(st.Fields()))
		}
		idx[k], used[j] = j, true
		f := st.Field(j)
		if f.Type.ID() == arrow.NULL {
			continue // a branch no row takes
		}
		b, err := compile(child, f.Type, f.Metadata, path+"."+n.Names[k])
		if err != nil {
			return nil, err
		}
		branches[k] = b
	}
	for j, f := range st.Fields() {
		if !used[j] {
			return nil, fmt.Errorf("%s: the Struct's field %q is none of the union's branches %v", path, f.Name, n.Names)
		}
	}
	nullIndex := n.NullIndex
	return func(arr arrow.Array) encFn {
		s := arr.(*array.Struct)
		fields := make([]arrow.Array, len(branches))
		encs := make([]encFn, len(branches))
		for k, b := range branches {
			fields[k] = s.Field(idx[k])
			if b != nil {
				encs[k] = b(fields[k])
			}
		}
		return func(dst []byte, i int) ([]byte, error) {
			if !s.IsNull(i) {
				for k, f := range fields {
					if encs[k] != nil && !f.IsNull(i) {
						return encs[k](appendLong(dst, int64(n.Branches[k])), i)
					}
				}
			}
			if nullIndex < 0 {
				return dst, badValue(path, "every branch of the union is null, and the union has no null branch")
			}
			return appendLong(dst, int64(nullIndex)), nil
		}
	}, nil
}
