// Package decode compiles a schema plan into decoders that read Avro binary
// records straight into Arrow buffers: no per-row Go values, no reflection. Columns
// that are not selected compile to skippers that only move the read position.
package decode

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/hamba/avro/v2"

	"github.com/jetliner/jetliner/core/schema"
)

// newColumn builds the column that decodes node n.
func newColumn(n *schema.Node, alloc memory.Allocator) column {
	c := newPlainColumn(n, alloc)
	if leaf, ok := c.(nullableLeaf); ok && n.Nullable {
		leaf.setNullable(n.NullIndex)
		return leaf
	}
	switch {
	case n.Nullable:
		return &nullableCol{column: c, nullIdx: int64(n.NullIndex)}
	case n.SingleUnion:
		return &singleUnionCol{column: c}
	}
	return c
}

// newPlainColumn builds the column for n's own type, ignoring a union around it.
func newPlainColumn(n *schema.Node, alloc memory.Allocator) column {
	switch n.Kind {
	case schema.Null:
		return &nullCol{}
	case schema.Boolean:
		return newBoolCol(alloc)
	case schema.Int:
		switch n.Logical {
		case schema.TimeMillis:
			c := &timeMillisCol{}
			c.init(n.Type, alloc)
			return c
		}
		c := &int32Col{}
		c.init(n.Type, alloc)
		return c
	case schema.Long:
		switch n.Logical {
		case schema.TimeMicros:
			c := &timeMicrosCol{}
			c.init(n.Type, alloc)
			return c
		}
		c := &int64Col{}
		c.init(n.Type, alloc)
		return c
	case schema.Float:
		c := &float32Col{}
		c.init(n.Type, alloc)
		return c
	case schema.Double:
		c := &float64Col{}
		c.init(n.Type, alloc)
		return c
	case schema.Bytes:
		if n.Logical == schema.Decimal {
			return newDecimalCol(n.Type, 0, alloc)
		}
		c := &bytesCol{}
		c.init(n.Type, alloc)
		return c
	case schema.String:
		c := &stringCol{}
		c.init(n.Type, alloc)
		return c
	case schema.Fixed:
		switch n.Logical {
		case schema.Decimal:
			return newDecimalCol(n.Type, n.Size, alloc)
		case schema.UUID:
			c := &uuidFixedCol{}
			c.init(n.Type, alloc)
			return c
		case schema.Duration:
			return newDurationCol(n.Type, alloc)
		}
		c := &fixedCol{size: n.Size}
		c.init(n.Type, alloc)
		return c
	case schema.Enum:
		switch n.Type.(*arrow.DictionaryType).IndexType.ID() {
		case arrow.UINT8:
			return newEnumCol[uint8](n, alloc)
		case arrow.UINT16:
			return newEnumCol[uint16](n, alloc)
		default:
			return newEnumCol[uint32](n, alloc)
		}
	case schema.Record:
		c := &structCol{dt: n.Type}
		c.nulls.init(alloc)
		for _, ch := range n.Children {
			c.children = append(c.children, newColumn(ch, alloc))
		}
		return c
	case schema.Array:
		c := &listCol{dt: n.Type, child: newColumn(n.Children[0], alloc), minItem: minSize(n.Children[0])}
		c.nulls.init(alloc)
		c.offsets.init(alloc)
		return c
	case schema.Map:
		entryType := n.Type.(*arrow.ListType).Elem()
		key := &stringCol{}
		key.init(arrow.BinaryTypes.StringView, alloc)
		val := newColumn(n.Children[0], alloc)
		e := &mapEntryCol{key: key, val: val}
		e.dt = entryType
		e.nulls.init(alloc)
		e.children = []column{key, val}
		c := &listCol{dt: n.Type, child: e, minItem: 1 + minSize(n.Children[0])}
		c.nulls.init(alloc)
		c.offsets.init(alloc)
		return c
	case schema.Union:
		c := &unionCol{}
		c.dt = n.Type
		c.nulls.init(alloc)
		branches := len(n.Children)
		if n.NullIndex >= 0 {
			branches++
		}
		c.childOf = make([]int, branches)
		for i := range c.childOf {
			c.childOf[i] = -1
		}
		for k, ch := range n.Children {
			c.children = append(c.children, newColumn(ch, alloc))
			c.childOf[n.Branches[k]] = k
		}
		return c
	case schema.JSON:
		c := &jsonCol{avro: n.Avro}
		c.init(arrow.BinaryTypes.StringView, alloc)
		return c
	}
	panic(fmt.Sprintf("decode: no column for schema kind %d", n.Kind))
}

func newEnumCol[T uint8 | uint16 | uint32](n *schema.Node, alloc memory.Allocator) column {
	c := &enumCol[T]{symbols: n.Symbols, alloc: alloc}
	c.init(n.Type, alloc)
	return c
}

func newDurationCol(dt arrow.DataType, alloc memory.Allocator) column {
	c := &durationCol{}
	c.dt = dt
	c.nulls.init(alloc)
	parts := make([]*prim[uint32], 3)
	for i := range parts {
		parts[i] = &prim[uint32]{}
		parts[i].init(arrow.PrimitiveTypes.Uint32, alloc)
		c.children = append(c.children, uint32Col{parts[i]})
	}
	c.months, c.days, c.millis = parts[0], parts[1], parts[2]
	return c
}

// jsonCol renders a recursive value as JSON text.
type jsonCol struct {
	binaryCol
	avro    avro.Schema
	scratch []byte
}

func (c *jsonCol) decode(r *reader) {
	c.scratch = appendJSON(c.scratch[:0], r, c.avro, 0)
	if r.err == nil {
		c.put(r, c.scratch)
	}
}

// minSize is the fewest bytes one value of n can take on the wire. It bounds
// array and map counts read from possibly corrupt data.
func minSize(n *schema.Node) int {
	if n.Nullable || n.SingleUnion {
		return 1
	}
	switch n.Kind {
	case schema.Null, schema.JSON:
		return 0
	case schema.Float:
		return 4
	case schema.Double:
		return 8
	case schema.Fixed:
		return n.Size
	case schema.Record:
		total := 0
		for _, c := range n.Children {
			total += minSize(c)
		}
		return total
	}
	return 1
}

// skipperFor compiles a function that skips one value of n.
func skipperFor(n *schema.Node) func(*reader) {
	inner := plainSkipper(n)
	if n.Nullable {
		nullIdx := int64(n.NullIndex)
		return func(r *reader) {
			switch r.long() {
			case nullIdx:
			case 1 - nullIdx:
				inner(r)
			default:
				r.failf("union branch index out of range for a 2-branch union")
			}
		}
	}
	if n.SingleUnion {
		return func(r *reader) {
			if r.long() != 0 {
				r.failf("union branch index out of range for a 1-branch union")
				return
			}
			inner(r)
		}
	}
	return inner
}

func plainSkipper(n *schema.Node) func(*reader) {
	switch n.Kind {
	case schema.Null:
		return func(*reader) {}
	case schema.Boolean:
		return func(r *reader) { r.skip(1) }
	case schema.Int, schema.Long, schema.Enum:
		return func(r *reader) { r.long() }
	case schema.Float:
		return func(r *reader) { r.skip(4) }
	case schema.Double:
		return func(r *reader) { r.skip(8) }
	case schema.Bytes, schema.String:
		return func(r *reader) { r.skip(r.long()) }
	case schema.Fixed:
		size := int64(n.Size)
		return func(r *reader) { r.skip(size) }
	case schema.Record:
		return compileSkips(n.Children).run
	case schema.Array:
		item := skipperFor(n.Children[0])
		return func(r *reader) { skipBlocks(r, item) }
	case schema.Map:
		val := skipperFor(n.Children[0])
		return func(r *reader) {
			skipBlocks(r, func(r *reader) { r.skip(r.long()); val(r) })
		}
	case schema.Union:
		branch := make([]func(*reader), len(n.Children)+1)
		for k, c := range n.Children {
			branch[n.Branches[k]] = skipperFor(c)
		}
		if n.NullIndex >= 0 {
			branch[n.NullIndex] = func(*reader) {}
		} else {
			branch = branch[:len(n.Children)]
		}
		return func(r *reader) {
			i := r.long()
			if i < 0 || i >= int64(len(branch)) {
				r.failf("union branch index %d out of range", i)
				return
			}
			branch[i](r)
		}
	case schema.JSON:
		s := n.Avro
		return func(r *reader) { skipAvro(r, s, 0) }
	}
	panic(fmt.Sprintf("decode: no skipper for schema kind %d", n.Kind))
}
