package encode

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/jetliner/jetliner/core/schema"
)

// The nested family: record from Struct, array from List, LargeList and Array
// (fixed size), map from a List of Struct{key, value}. Children are compiled
// against the child arrays and bound with their parent, so a block binds a
// column's whole tree once.

func compileNested(n *schema.Node, dt arrow.DataType, path string) (binder, error) {
	switch n.Kind {
	case schema.Record:
		st, ok := dt.(*arrow.StructType)
		if !ok {
			return nil, nil
		}
		return compileRecord(n, st, path)
	case schema.Array:
		lt, ok := dt.(arrow.ListLikeType)
		if !ok {
			return nil, nil
		}
		elem := lt.ElemField()
		item, err := compile(n.Children[0], elem.Type, elem.Metadata, path+"[]")
		if err != nil {
			return nil, err
		}
		return func(arr arrow.Array) encFn {
			l := arr.(array.ListLike)
			enc := item(l.ListValues())
			return func(dst []byte, i int) ([]byte, error) {
				start, end := l.ValueOffsets(i)
				return appendItems(dst, start, end, enc)
			}
		}, nil
	case schema.Map:
		return compileMap(n, dt, path)
	}
	return nil, nil
}

// appendItems writes an array or map of items [start, end): one block with its
// count, then the empty block that ends it.
func appendItems(dst []byte, start, end int64, enc encFn) ([]byte, error) {
	if end > start {
		dst = appendLong(dst, end-start)
		var err error
		for j := int(start); j < int(end); j++ {
			if dst, err = enc(dst, j); err != nil {
				return dst, err
			}
		}
	}
	return append(dst, 0), nil
}

// compileRecord matches the record's fields to the Struct's by name: the Struct
// may not lack a field nor have one the record does not.
func compileRecord(n *schema.Node, st *arrow.StructType, path string) (binder, error) {
	idx, fields, err := compileFields(n.Children, n.Names, st.Fields(), path+".")
	if err != nil {
		return nil, err
	}
	return func(arr arrow.Array) encFn {
		s := arr.(*array.Struct)
		encs := make([]encFn, len(fields))
		for k, f := range fields {
			encs[k] = f(s.Field(idx[k]))
		}
		return func(dst []byte, i int) ([]byte, error) {
			var err error
			for _, e := range encs {
				if dst, err = e(dst, i); err != nil {
					return dst, err
				}
			}
			return dst, nil
		}
	}, nil
}

// compileFields compiles the schema's fields (nodes, names) against Arrow fields
// found by name, returning for each schema field the index of its Arrow field.
func compileFields(nodes []*schema.Node, names []string, have []arrow.Field, prefix string) ([]int, []binder, error) {
	byName := make(map[string]int, len(have))
	for k, f := range have {
		byName[f.Name] = k
	}
	idx := make([]int, len(nodes))
	out := make([]binder, len(nodes))
	used := make([]bool, len(have))
	for k, node := range nodes {
		j, ok := byName[names[k]]
		if !ok {
			return nil, nil, fmt.Errorf("%s%s: the schema has this field, the frame does not (the frame has %s)", prefix, names[k], fieldNames(have))
		}
		b, err := compile(node, have[j].Type, have[j].Metadata, prefix+names[k])
		if err != nil {
			return nil, nil, err
		}
		idx[k], out[k], used[j] = j, b, true
	}
	for j, f := range have {
		if !used[j] {
			return nil, nil, fmt.Errorf("%s%s: the frame has this field, the schema does not (the schema has %v)", prefix, f.Name, names)
		}
	}
	return idx, out, nil
}

func fieldNames(fs []arrow.Field) string {
	names := make([]string, len(fs))
	for k, f := range fs {
		names[k] = f.Name
	}
	return fmt.Sprint(names)
}

// compileMap writes a List of Struct{key: String, value: T}, the shape reads give
// maps, as an Avro map. Keys may not be null.
func compileMap(n *schema.Node, dt arrow.DataType, path string) (binder, error) {
	lt, ok := dt.(arrow.ListLikeType)
	if !ok {
		return nil, nil
	}
	st, ok := lt.ElemField().Type.(*arrow.StructType)
	if !ok || !isMapEntry(st) {
		return nil, nil
	}
	vf := st.Field(1)
	value, err := compile(n.Children[0], vf.Type, vf.Metadata, path+".value")
	if err != nil {
		return nil, err
	}
	return func(arr arrow.Array) encFn {
		l := arr.(array.ListLike)
		entries := l.ListValues().(*array.Struct)
		keys := entries.Field(0)
		key := textOf(keys)
		val := value(entries.Field(1))
		entry := func(dst []byte, j int) ([]byte, error) {
			if keys.IsNull(j) || entries.IsNull(j) {
				return dst, badValue(path, "a map's keys (and entries) may not be null")
			}
			dst = appendString(dst, key(j))
			return val(dst, j)
		}
		return func(dst []byte, i int) ([]byte, error) {
			start, end := l.ValueOffsets(i)
			return appendItems(dst, start, end, entry)
		}
	}, nil
}
