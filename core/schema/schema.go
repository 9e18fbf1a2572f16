// Package schema turns an Avro writer schema into the plan of what jetliner will
// produce: a tree of Nodes, one per Avro type, each knowing its Arrow type. The
// decode package compiles the same tree into decoders, so the type mapping of
// API.md lives in exactly one place: here.
package schema

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/hamba/avro/v2"

	"github.com/jetliner/jetliner/core/jerr"
)

// Kind is the shape of a Node.
type Kind int

// Node kinds. Logical types are a refinement of the physical kind (see Logical).
const (
	Null Kind = iota
	Boolean
	Int
	Long
	Float
	Double
	Bytes
	String
	Fixed
	Enum
	Record
	Array
	Map
	Union // a general union: a Struct with one field per non-null branch
	JSON  // a recursive named type, rendered as a JSON string
)

// Logical refines a Node's meaning.
type Logical int

// Logical types that change the Arrow type. Unknown or invalid logical types are
// ignored, as the Avro spec asks, and leave LogicalNone.
const (
	LogicalNone Logical = iota
	Date
	TimeMillis
	TimeMicros
	TimestampMillis
	TimestampMicros
	TimestampNanos
	LocalTimestampMillis
	LocalTimestampMicros
	LocalTimestampNanos
	Decimal
	UUID
	Duration
)

// MaxDecimalPrecision is the largest precision Polars' Decimal holds (128-bit).
const MaxDecimalPrecision = 38

// Node is one Avro type in the plan.
type Node struct {
	Kind    Kind
	Logical Logical
	Avro    avro.Schema // the schema this node decodes (for JSON: the recursive type)

	// Nullable is set for a [null, T] union: NullIndex is the branch that is null.
	// For a general union NullIndex is its null branch or -1.
	Nullable  bool
	NullIndex int
	// SingleUnion is set for a one-branch union [T]: T behind a branch index.
	SingleUnion bool

	// Record fields, array items (one child), map values (one child), union branches.
	Children []*Node
	// Field names for records and unions (one per child).
	Names []string
	// For a general union: the wire branch index of each child.
	Branches []int

	Size      int      // fixed size in bytes
	Precision int      // decimal
	Scale     int      // decimal
	Symbols   []string // enum

	Type arrow.DataType
	// Depth is how many levels Type nests: 0 for a leaf, one per Struct or
	// List (a map is both). See DefaultMaxDepth.
	Depth int
	// Metadata for the Arrow field holding this node (Polars reads Enum from it).
	Metadata arrow.Metadata
}

// Schema is a parsed writer schema and its top-level columns.
type Schema struct {
	Avro avro.Schema
	JSON string // the schema text as stored in the file
	// Columns are the top-level columns: the fields of a record, or a single column
	// named "value" for any other top-level type.
	Columns []*Node
	Names   []string
	// TopLevelRecord is false when the file holds bare values wrapped as "value".
	TopLevelRecord bool
}

// ValueColumn is the column name used for a schema whose top level is not a record.
const ValueColumn = "value"

// Limits on how deeply a schema may nest. Polars imports an Arrow type by
// recursing through it, on its own threads' stacks as well as the caller's: a
// column nested about 185 levels deep overflowed the stack of the thread that
// collects a scan_avro query (SIGSEGV), about 760 the main thread's, and
// importing takes time and memory that grow much faster than the depth. So a
// schema deeper than the limit is refused here, while its header is parsed and
// before any of it reaches Polars.
//
// Depth counts the levels of a column's Arrow type (see Node.Depth): a leaf is
// 0, a record, array or general union adds 1, a map 2 (a List of key/value
// Structs); a [null, T] or [T] union adds nothing, as it is T made nullable.
const (
	// DefaultMaxDepth is the limit unless the caller sets one. Real schemas
	// nest a few levels; at 32 a frame also stays within pyarrow's own limit
	// (it refuses a column deeper than 62), for those who hand frames on to it.
	DefaultMaxDepth = 32
	// MaxDepthLimit is the highest limit a caller may set: every API was run
	// on columns of this depth of every kind without failing, and it is well
	// below the depths at which Polars crashes, so raising the limit cannot
	// crash the process either.
	MaxDepthLimit = 128
	// MaxJSONNesting bounds the nesting of the schema's JSON text, checked
	// before the text reaches the Avro parser, so that parsing a hostile schema
	// cannot recurse deeply either. A level of Arrow depth takes at most four
	// of JSON (a record in a nullable union: field, union, record, fields), so
	// every schema within MaxDepthLimit fits, field defaults included; only
	// deeply nested JSON in a schema's own custom properties goes beyond.
	MaxJSONNesting = 4*MaxDepthLimit + 64
)

// Parse parses a writer schema, refusing one nested deeper than DefaultMaxDepth.
// Every parse uses its own name cache: two files may define different types
// under the same name.
func Parse(text []byte) (*Schema, error) {
	return ParseDepth(text, DefaultMaxDepth)
}

// ParseDepth is Parse with a limit of maxDepth levels of nesting per column,
// which must be between 1 and MaxDepthLimit.
func ParseDepth(text []byte, maxDepth int) (*Schema, error) {
	if maxDepth < 1 || maxDepth > MaxDepthLimit {
		return nil, jerr.New(jerr.Config, "max_schema_depth must be between 1 and %d, got %d", MaxDepthLimit, maxDepth)
	}
	if n := jsonNesting(text); n > MaxJSONNesting {
		return nil, jerr.New(jerr.Schema, "the schema's JSON text nests %d levels deep, more than the limit of %d, "+
			"which every schema within the highest max_schema_depth (%d) keeps to", n, MaxJSONNesting, MaxDepthLimit).
			WithVariant(jerr.SchemaTooDeep)
	}
	s, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
	if err != nil {
		return nil, jerr.Wrap(jerr.Schema, err, "invalid Avro schema").WithVariant(jerr.InvalidSchema)
	}
	out := &Schema{Avro: s, JSON: string(text)}
	p := planner{}
	if rec, ok := deref(s).(*avro.RecordSchema); ok {
		// A record with no fields is valid Avro: it reads as a frame of the
		// file's height and no columns.
		out.TopLevelRecord = true
		p.stack = append(p.stack, rec.FullName())
		for _, f := range rec.Fields() {
			n, err := p.plan(f.Type())
			if err != nil {
				return nil, jerr.Wrap(jerr.Schema, err, "unsupported schema at field %q", f.Name()).
					WithVariant(jerr.UnsupportedType).WithField(f.Name())
			}
			if err := checkDepth(f.Name(), n, maxDepth); err != nil {
				return nil, err
			}
			out.Columns = append(out.Columns, n)
			out.Names = append(out.Names, f.Name())
		}
		return out, nil
	}
	n, err := p.plan(s)
	if err != nil {
		return nil, jerr.Wrap(jerr.Schema, err, "unsupported schema").WithVariant(jerr.UnsupportedType)
	}
	if err := checkDepth(ValueColumn, n, maxDepth); err != nil {
		return nil, err
	}
	out.Columns, out.Names = []*Node{n}, []string{ValueColumn}
	return out, nil
}

func checkDepth(column string, n *Node, maxDepth int) error {
	if n.Depth <= maxDepth {
		return nil
	}
	return jerr.New(jerr.Schema, "column %q nests %d levels deep, more than the limit of %d (max_schema_depth, "+
		"which may be raised to %d); a record, an array or a union of several types is one level, a map two",
		column, n.Depth, maxDepth, MaxDepthLimit).WithVariant(jerr.SchemaTooDeep).WithField(column)
}

// jsonNesting returns how deeply text's arrays and objects nest. It is a plain
// scan, not a parse: it counts brackets outside strings, without recursing.
func jsonNesting(text []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped character, which may be a quote
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
	}
	return deepest
}

// Field returns the Arrow field of column i.
func (s *Schema) Field(i int) arrow.Field {
	n := s.Columns[i]
	return arrow.Field{Name: s.Names[i], Type: n.Type, Nullable: true, Metadata: n.Metadata}
}

// Index returns the position of the column called name, or -1.
func (s *Schema) Index(name string) int {
	for i, n := range s.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// Resolve maps requested column names to positions, in the requested order.
// A nil request selects every column.
func (s *Schema) Resolve(names []string) ([]int, error) {
	if names == nil {
		idx := make([]int, len(s.Names))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	seen := map[string]bool{}
	idx := make([]int, 0, len(names))
	for _, name := range names {
		i := s.Index(name)
		if i < 0 {
			return nil, jerr.New(jerr.Schema, "column %q not found; the file has columns %s", name, quoteList(s.Names)).
				WithVariant(jerr.ColumnNotFound).WithField(name)
		}
		if seen[name] {
			return nil, jerr.New(jerr.Config, "column %q is selected more than once", name)
		}
		seen[name] = true
		idx = append(idx, i)
	}
	return idx, nil
}

func quoteList(names []string) string {
	const show = 20
	q := make([]string, 0, min(len(names), show)+1)
	for i, n := range names {
		if i == show {
			q = append(q, fmt.Sprintf("... (%d more)", len(names)-show))
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// planner walks an Avro schema; stack holds the full names of the named types
// being expanded, so a reference back to one of them is recognised as recursion.
type planner struct {
	stack []string
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func (p *planner) plan(s avro.Schema) (*Node, error) {
	s = deref(s)
	if named, ok := s.(avro.NamedSchema); ok {
		for _, name := range p.stack {
			if name == named.FullName() {
				return &Node{Kind: JSON, Avro: s, Type: arrow.BinaryTypes.StringView}, nil
			}
		}
	}
	switch t := s.(type) {
	case *avro.NullSchema:
		return &Node{Kind: Null, Avro: s, Type: arrow.Null}, nil
	case *avro.PrimitiveSchema:
		return planPrimitive(t)
	case *avro.FixedSchema:
		return planFixed(t)
	case *avro.EnumSchema:
		return planEnum(t), nil
	case *avro.RecordSchema:
		if len(t.Fields()) == 0 {
			// A nested record with no fields would be an Arrow struct with no
			// children, which the Arrow C export (arrow-go cdata) cannot hand over:
			// it panicked and took the Python process down. Refuse it like a
			// top-level record with no fields.
			return nil, fmt.Errorf("record %q has no fields, which cannot be represented as a Polars Struct", t.FullName())
		}
		p.stack = append(p.stack, t.FullName())
		defer func() { p.stack = p.stack[:len(p.stack)-1] }()
		n := &Node{Kind: Record, Avro: s}
		fields := make([]arrow.Field, 0, len(t.Fields()))
		for _, f := range t.Fields() {
			c, err := p.plan(f.Type())
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name(), err)
			}
			n.Children = append(n.Children, c)
			n.Names = append(n.Names, f.Name())
			n.Depth = max(n.Depth, 1+c.Depth)
			fields = append(fields, arrow.Field{Name: f.Name(), Type: c.Type, Nullable: true, Metadata: c.Metadata})
		}
		n.Type = arrow.StructOf(fields...)
		return n, nil
	case *avro.ArraySchema:
		item, err := p.plan(t.Items())
		if err != nil {
			return nil, fmt.Errorf("array items: %w", err)
		}
		return &Node{Kind: Array, Avro: s, Children: []*Node{item}, Depth: 1 + item.Depth,
			Type: arrow.ListOfField(arrow.Field{Name: "item", Type: item.Type, Nullable: true, Metadata: item.Metadata})}, nil
	case *avro.MapSchema:
		val, err := p.plan(t.Values())
		if err != nil {
			return nil, fmt.Errorf("map values: %w", err)
		}
		entry := arrow.StructOf(
			arrow.Field{Name: "key", Type: arrow.BinaryTypes.StringView},
			arrow.Field{Name: "value", Type: val.Type, Nullable: true, Metadata: val.Metadata},
		)
		return &Node{Kind: Map, Avro: s, Children: []*Node{val}, Depth: 2 + val.Depth,
			Type: arrow.ListOfField(arrow.Field{Name: "item", Type: entry, Nullable: true})}, nil
	case *avro.UnionSchema:
		return p.planUnion(t)
	}
	return nil, fmt.Errorf("unsupported Avro type %s", s.Type())
}

func planPrimitive(s *avro.PrimitiveSchema) (*Node, error) {
	n := &Node{Avro: s}
	switch s.Type() {
	case avro.Boolean:
		n.Kind, n.Type = Boolean, arrow.FixedWidthTypes.Boolean
	case avro.Int:
		n.Kind, n.Type = Int, arrow.PrimitiveTypes.Int32
	case avro.Long:
		n.Kind, n.Type = Long, arrow.PrimitiveTypes.Int64
	case avro.Float:
		n.Kind, n.Type = Float, arrow.PrimitiveTypes.Float32
	case avro.Double:
		n.Kind, n.Type = Double, arrow.PrimitiveTypes.Float64
	case avro.Bytes:
		n.Kind, n.Type = Bytes, arrow.BinaryTypes.BinaryView
	case avro.String:
		n.Kind, n.Type = String, arrow.BinaryTypes.StringView
	default:
		return nil, fmt.Errorf("unsupported primitive type %s", s.Type())
	}
	applyLogical(n, logicalName(s))
	return n, nil
}

// logicalName reads the logical type hamba recognised, or the raw "logicalType"
// property for the ones it does not know (timestamp-nanos, uuid on fixed, ...).
func logicalName(s avro.Schema) string {
	type logicalHaver interface{ Logical() avro.LogicalSchema }
	if lh, ok := s.(logicalHaver); ok {
		if ls := lh.Logical(); ls != nil {
			return string(ls.Type())
		}
	}
	type propHaver interface{ Prop(string) any }
	if ph, ok := s.(propHaver); ok {
		if v, ok := ph.Prop("logicalType").(string); ok {
			return v
		}
	}
	return ""
}

// TimezoneProp is the property with which jetliner's writer keeps a Polars
// column's time zone on a timestamp schema: the logical type only says the
// instants are UTC-based, so without it a Datetime("us", "Europe/Paris") would
// read back in UTC. Other readers ignore it.
const TimezoneProp = "jetliner.timezone"

func applyLogical(n *Node, name string) {
	utc := "UTC"
	type propHaver interface{ Prop(string) any }
	if ph, ok := n.Avro.(propHaver); ok {
		if tz, ok := ph.Prop(TimezoneProp).(string); ok && tz != "" {
			utc = tz
		}
	}
	switch {
	case n.Kind == Int && name == "date":
		n.Logical, n.Type = Date, arrow.FixedWidthTypes.Date32
	case n.Kind == Int && name == "time-millis":
		n.Logical, n.Type = TimeMillis, arrow.FixedWidthTypes.Time64ns
	case n.Kind == Long && name == "time-micros":
		n.Logical, n.Type = TimeMicros, arrow.FixedWidthTypes.Time64ns
	case n.Kind == Long && name == "timestamp-millis":
		n.Logical, n.Type = TimestampMillis, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: utc}
	case n.Kind == Long && name == "timestamp-micros":
		n.Logical, n.Type = TimestampMicros, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: utc}
	case n.Kind == Long && name == "timestamp-nanos":
		n.Logical, n.Type = TimestampNanos, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: utc}
	case n.Kind == Long && name == "local-timestamp-millis":
		n.Logical, n.Type = LocalTimestampMillis, &arrow.TimestampType{Unit: arrow.Millisecond}
	case n.Kind == Long && name == "local-timestamp-micros":
		n.Logical, n.Type = LocalTimestampMicros, &arrow.TimestampType{Unit: arrow.Microsecond}
	case n.Kind == Long && name == "local-timestamp-nanos":
		n.Logical, n.Type = LocalTimestampNanos, &arrow.TimestampType{Unit: arrow.Nanosecond}
	case n.Kind == String && name == "uuid":
		n.Logical = UUID
	case n.Kind == Fixed && name == "uuid" && n.Size == 16:
		n.Logical, n.Type = UUID, arrow.BinaryTypes.StringView
	case (n.Kind == Bytes || n.Kind == Fixed) && name == "decimal":
		applyDecimal(n)
	case n.Kind == Fixed && name == "duration" && n.Size == 12:
		n.Logical, n.Depth = Duration, 1
		n.Type = arrow.StructOf(
			arrow.Field{Name: "months", Type: arrow.PrimitiveTypes.Uint32},
			arrow.Field{Name: "days", Type: arrow.PrimitiveTypes.Uint32},
			arrow.Field{Name: "millis", Type: arrow.PrimitiveTypes.Uint32},
		)
	}
}

// applyDecimal reads precision and scale. An invalid decimal is ignored and the node
// stays plain bytes/fixed, as the spec asks of invalid logical types.
func applyDecimal(n *Node) {
	var prec, scale int
	type decimalLogical interface {
		Precision() int
		Scale() int
	}
	type logicalHaver interface{ Logical() avro.LogicalSchema }
	if lh, ok := n.Avro.(logicalHaver); ok {
		if d, ok := lh.Logical().(decimalLogical); ok {
			prec, scale = d.Precision(), d.Scale()
		}
	}
	if prec <= 0 || scale < 0 || scale > prec {
		return
	}
	if n.Kind == Fixed && n.Size > 16 && prec > MaxDecimalPrecision {
		return
	}
	n.Logical, n.Precision, n.Scale = Decimal, prec, scale
	if prec > MaxDecimalPrecision {
		// Polars' Decimal is 128-bit; keep the raw bytes rather than lose digits.
		n.Logical, n.Precision, n.Scale = LogicalNone, 0, 0
		return
	}
	n.Type = &arrow.Decimal128Type{Precision: int32(prec), Scale: int32(scale)}
}

func planFixed(s *avro.FixedSchema) (*Node, error) {
	n := &Node{Kind: Fixed, Avro: s, Size: s.Size(), Type: arrow.BinaryTypes.BinaryView}
	applyLogical(n, logicalName(s))
	return n, nil
}

// EnumMetadataKey is the Arrow field metadata Polars reads to import a dictionary
// column as pl.Enum rather than pl.Categorical.
const EnumMetadataKey = "_PL_ENUM_VALUES2"

func planEnum(s *avro.EnumSchema) *Node {
	syms := s.Symbols()
	var idx arrow.DataType
	switch {
	case len(syms) <= 1<<8:
		idx = arrow.PrimitiveTypes.Uint8
	case len(syms) <= 1<<16:
		idx = arrow.PrimitiveTypes.Uint16
	default:
		idx = arrow.PrimitiveTypes.Uint32
	}
	var enc strings.Builder
	for _, sym := range syms {
		fmt.Fprintf(&enc, "%d;%s", len(sym), sym)
	}
	return &Node{
		Kind: Enum, Avro: s, Symbols: syms,
		Type:     &arrow.DictionaryType{IndexType: idx, ValueType: arrow.BinaryTypes.String, Ordered: true},
		Metadata: arrow.NewMetadata([]string{EnumMetadataKey}, []string{enc.String()}),
	}
}

func (p *planner) planUnion(u *avro.UnionSchema) (*Node, error) {
	types := u.Types()
	nullIdx := -1
	for i, t := range types {
		if t.Type() == avro.Null {
			nullIdx = i
		}
	}
	switch {
	case len(types) == 0:
		return nil, fmt.Errorf("empty union")
	case len(types) == 1:
		// A one-branch union is the branch, plus a branch index on the wire.
		n, err := p.plan(types[0])
		if err != nil {
			return nil, err
		}
		if n.Nullable || n.SingleUnion {
			return nil, fmt.Errorf("a union may not contain a union")
		}
		out := *n
		out.SingleUnion = true
		return &out, nil
	case len(types) == 2 && nullIdx >= 0:
		n, err := p.plan(types[1-nullIdx])
		if err != nil {
			return nil, err
		}
		if n.Nullable || n.SingleUnion {
			return nil, fmt.Errorf("a union may not contain a union")
		}
		out := *n
		out.Nullable, out.NullIndex = true, nullIdx
		return &out, nil
	}
	n := &Node{Kind: Union, Avro: u, NullIndex: nullIdx}
	names := map[string]int{}
	for i, t := range types {
		if i == nullIdx {
			continue
		}
		names[branchName(t)]++
	}
	fields := []arrow.Field{}
	for i, t := range types {
		if i == nullIdx {
			continue
		}
		c, err := p.plan(t)
		if err != nil {
			return nil, fmt.Errorf("union branch %d: %w", i, err)
		}
		name := branchName(t)
		if names[name] > 1 {
			name = deref(t).(avro.NamedSchema).FullName()
		}
		n.Children = append(n.Children, c)
		n.Names = append(n.Names, name)
		n.Branches = append(n.Branches, i)
		n.Depth = max(n.Depth, 1+c.Depth)
		fields = append(fields, arrow.Field{Name: name, Type: c.Type, Nullable: true, Metadata: c.Metadata})
	}
	n.Type = arrow.StructOf(fields...)
	return n, nil
}

// branchName names a union branch's struct field: the type name for unnamed types,
// the short name for named ones.
func branchName(s avro.Schema) string {
	s = deref(s)
	if named, ok := s.(avro.NamedSchema); ok {
		return named.Name()
	}
	return string(s.Type())
}

// Describe renders a node's Avro schema as compact JSON, for error messages.
func Describe(n *Node) string {
	b, err := json.Marshal(n.Avro)
	if err != nil {
		return string(n.Avro.Type())
	}
	return string(b)
}
