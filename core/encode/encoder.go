// Package encode writes Polars frames, as Arrow record batches, into Avro object
// container files: the mirror of package decode.
//
// A writer schema (derived from the Arrow schema by Derive, or given by the
// caller) is parsed by package schema into the same tree of Nodes the reader
// uses, and compiled against the batches' Arrow types into one encoder per
// column: a tree of closures, one file per type family (primitive.go, binary.go,
// logical.go, nested.go, union.go), with nullability handled once around them
// (union.go). Writer cuts the rows into blocks of about SyncInterval bytes, which
// a pool of goroutines encodes and compresses in parallel, and writes them in
// order through package container.
package encode

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/jetliner/jetliner/core/schema"
)

// encFn appends the Avro encoding of row i of the array it was bound to.
type encFn func(dst []byte, i int) ([]byte, error)

// binder binds a compiled encoder to one array (of the Arrow type it was compiled
// for), once per block: the returned encFn reads the array's buffers directly.
type binder func(arr arrow.Array) encFn

// valueError is a value the schema cannot hold; the block encoder adds the row.
type valueError struct {
	path string
	msg  string
}

func (e *valueError) Error() string { return e.msg }

func badValue(path, format string, args ...any) error {
	return &valueError{path: path, msg: fmt.Sprintf(format, args...)}
}

// compile builds the encoder of node n for arrays of Arrow type dt, path naming
// the value in messages ("col", "col.field", "col[]").
func compile(n *schema.Node, dt arrow.DataType, md arrow.Metadata, path string) (binder, error) {
	if n.Kind == schema.JSON {
		return nil, fmt.Errorf("%s: the schema's type %s is recursive, which jetliner cannot write", path, schema.Describe(n))
	}
	if n.Nullable {
		return compileNullable(n, dt, md, path)
	}
	if n.Kind == schema.Union {
		return compileUnion(n, dt, md, path)
	}
	b, err := compileValue(n, dt, md, path)
	if err != nil {
		return nil, err
	}
	if n.Kind != schema.Null {
		b = required(b, path)
	}
	if n.SingleUnion {
		b = prefixed(b, 0)
	}
	return b, nil
}

// compileValue builds the encoder of a non-union node: the per-family compilers
// return nil, nil for an Arrow type they do not take.
func compileValue(n *schema.Node, dt arrow.DataType, md arrow.Metadata, path string) (binder, error) {
	var b binder
	var err error
	switch n.Kind {
	case schema.Null:
		b = compileNull(dt, path)
	case schema.Boolean, schema.Int, schema.Long, schema.Float, schema.Double:
		b, err = compilePrimitive(n, dt, path)
	case schema.String, schema.Bytes, schema.Fixed, schema.Enum:
		b, err = compileBinary(n, dt, md, path)
	case schema.Record, schema.Array, schema.Map:
		b, err = compileNested(n, dt, path)
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%s: a column of type %s cannot be written as %s", path, dt, schema.Describe(n))
	}
	return b, nil
}

// appendLong appends v as a zigzag varint, Avro's int and long.
func appendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

// appendBytes appends b with its length, Avro's bytes and string.
func appendBytes(dst, b []byte) []byte {
	return append(appendLong(dst, int64(len(b))), b...)
}

func appendString(dst []byte, s string) []byte {
	return append(appendLong(dst, int64(len(s))), s...)
}
