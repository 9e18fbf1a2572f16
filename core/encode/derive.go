package encode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/schema"
)

// DeriveOptions says how Derive names and shapes the schema.
type DeriveOptions struct {
	Name      string // the top-level record's name; "" means "Record"
	Namespace string // its namespace, "" for none
	// MangleNames makes column and field names that are not valid Avro names
	// valid (invalid characters become '_', a leading digit gets a '_' before it,
	// and duplicates a numeric suffix) instead of refusing them.
	MangleNames bool
	// Maps writes List(Struct{key: String, value: T}) columns as Avro maps, the
	// shape reads give maps, instead of arrays of records.
	Maps bool
}

// Derive returns the Avro schema (JSON) for frames of Arrow schema sc, the
// inverse of the mapping reads use (see the schema package): a record of one
// field per column, nullable columns as ["null", T] with a null default,
// Struct as record, List and Array as array, Enum as enum, Categorical as
// string, Decimal as bytes+decimal, Datetime as timestamp-* (with a zone) or
// local-timestamp-* (without), Date as date, Time as time-micros, Duration as
// long microseconds, unsigned and small integers as the smallest of int and
// long that holds them (UInt64 as long: values past its range are refused).
func Derive(sc *arrow.Schema, opts DeriveOptions) ([]byte, error) {
	name := opts.Name
	if name == "" {
		name = "Record"
	}
	if !validName(name) {
		return nil, jerr.New(jerr.Config, "record name %q is not a valid Avro name (letters, digits and '_', not starting with a digit)", name)
	}
	for _, part := range strings.Split(opts.Namespace, ".") {
		if opts.Namespace != "" && !validName(part) {
			return nil, jerr.New(jerr.Config, "namespace %q is not a valid Avro namespace (valid names separated by dots)", opts.Namespace)
		}
	}
	if opts.MangleNames {
		sc = Mangle(sc)
	}
	d := &deriver{opts: opts, used: map[string]int{}}
	d.used[name] = 1
	fields, err := d.fields(sc.Fields(), name, "")
	if err != nil {
		return nil, err
	}
	top := obj{{"type", "record"}, {"name", name}}
	if opts.Namespace != "" {
		top = append(top, kv{"namespace", opts.Namespace})
	}
	top = append(top, kv{"fields", fields})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(top); err != nil {
		return nil, jerr.Wrap(jerr.Internal, err, "cannot render the derived schema")
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// obj is a JSON object that keeps its keys in order, as a schema reads best
// with "type" and "name" first.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type deriver struct {
	opts DeriveOptions
	used map[string]int // named types' names, which must be unique in a schema
}

// validName reports whether s is an Avro name: [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// mangle makes s a valid Avro name.
func mangle(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if i == 0 && c >= '0' && c <= '9' {
			b.WriteByte('_')
		}
		if ok {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// Mangle returns sc with every column and Struct field name made a valid Avro
// name (invalid characters become '_', a leading digit gets a '_' before it,
// duplicates within a Struct a numeric suffix). Derive uses it with
// MangleNames, and the Writer compiles against it: names are matched, and
// arrays are found by position, so the data needs no renaming.
func Mangle(sc *arrow.Schema) *arrow.Schema {
	md := sc.Metadata()
	return arrow.NewSchema(mangleFields(sc.Fields()), &md)
}

func mangleFields(fs []arrow.Field) []arrow.Field {
	out := make([]arrow.Field, len(fs))
	seen := map[string]bool{}
	for k, f := range fs {
		name := f.Name
		if !validName(name) {
			name = mangle(name)
		}
		for i, base := 2, name; seen[name]; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		seen[name] = true
		f.Name, f.Type = name, mangleType(f.Type)
		out[k] = f
	}
	return out
}

func mangleType(dt arrow.DataType) arrow.DataType {
	switch t := dt.(type) {
	case *arrow.StructType:
		return arrow.StructOf(mangleFields(t.Fields())...)
	case *arrow.ListType:
		return arrow.ListOfField(mangleFields([]arrow.Field{t.ElemField()})[0])
	case *arrow.LargeListType:
		return arrow.LargeListOfField(mangleFields([]arrow.Field{t.ElemField()})[0])
	case *arrow.FixedSizeListType:
		return arrow.FixedSizeListOfField(t.Len(), mangleFields([]arrow.Field{t.ElemField()})[0])
	}
	return dt
}

// typeName returns a name for a named type at path that no other type of the
// schema has.
func (d *deriver) typeName(path string) string {
	base := mangle(path)
	name := base
	for d.used[name] > 0 {
		d.used[base]++
		name = fmt.Sprintf("%s_%d", base, d.used[base])
	}
	d.used[name] = 1
	return name
}

// fields derives the fields of a record whose type is named parent. where is the
// column path for messages ("" at the top level).
func (d *deriver) fields(fs []arrow.Field, parent, where string) ([]obj, error) {
	out := make([]obj, 0, len(fs))
	seen := map[string]bool{}
	for _, f := range fs {
		path := f.Name
		if where != "" {
			path = where + "." + f.Name
		}
		name := f.Name
		if !validName(name) {
			return nil, jerr.New(jerr.Schema, "column %q is not a valid Avro name (letters, digits and '_', not starting with a digit): "+
				"rename it, or pass mangle_names=True to have it made valid", path).WithVariant(jerr.InvalidSchema).WithField(path)
		}
		if seen[name] {
			return nil, jerr.New(jerr.Schema, "field name %q appears twice in %s", name, orTop(where)).WithVariant(jerr.InvalidSchema).WithField(path)
		}
		seen[name] = true
		t, err := d.typ(f.Type, f.Nullable, f.Metadata, parent+"_"+name, path)
		if err != nil {
			return nil, err
		}
		field := obj{{"name", name}, {"type", t}}
		if isNullable(t) {
			field = append(field, kv{"default", nil})
		}
		out = append(out, field)
	}
	return out, nil
}

func orTop(where string) string {
	if where == "" {
		return "the frame"
	}
	return fmt.Sprintf("%q", where)
}

func isNullable(t any) bool {
	u, ok := t.([]any)
	return ok && len(u) == 2 && u[0] == "null"
}

// typ derives the Avro type of an Arrow type; nullable wraps it as ["null", T].
func (d *deriver) typ(dt arrow.DataType, nullable bool, md arrow.Metadata, name, path string) (any, error) {
	t, err := d.base(dt, md, name, path)
	if err != nil {
		return nil, err
	}
	if nullable && t != "null" {
		return []any{"null", t}, nil
	}
	return t, nil
}

func logical(base, name string) obj { return obj{{"type", base}, {"logicalType", name}} }

var timeUnitNames = map[arrow.TimeUnit]string{arrow.Millisecond: "millis", arrow.Microsecond: "micros", arrow.Nanosecond: "nanos"}

func (d *deriver) base(dt arrow.DataType, md arrow.Metadata, name, path string) (any, error) {
	switch t := dt.(type) {
	case *arrow.NullType:
		return "null", nil
	case *arrow.BooleanType:
		return "boolean", nil
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Uint8Type, *arrow.Uint16Type:
		return "int", nil
	case *arrow.Int64Type, *arrow.Uint32Type, *arrow.Uint64Type:
		return "long", nil
	case *arrow.Float16Type, *arrow.Float32Type:
		return "float", nil
	case *arrow.Float64Type:
		return "double", nil
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return "string", nil
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		return "bytes", nil
	case *arrow.FixedSizeBinaryType:
		return obj{{"type", "fixed"}, {"name", d.typeName(name)}, {"size", t.ByteWidth}}, nil
	case *arrow.Date32Type, *arrow.Date64Type:
		return logical("int", "date"), nil
	case *arrow.Time32Type, *arrow.Time64Type:
		return logical("long", "time-micros"), nil
	case *arrow.TimestampType:
		if t.TimeZone == "" {
			return logical("long", "local-timestamp-"+timeUnitNames[t.Unit]), nil
		}
		if t.Unit == arrow.Second {
			return logical("long", "timestamp-millis"), nil
		}
		o := logical("long", "timestamp-"+timeUnitNames[t.Unit])
		if t.TimeZone != "UTC" {
			o = append(o, kv{schema.TimezoneProp, t.TimeZone})
		}
		return o, nil
	case *arrow.DurationType:
		return "long", nil
	case *arrow.Decimal128Type:
		return obj{{"type", "bytes"}, {"logicalType", "decimal"}, {"precision", t.Precision}, {"scale", t.Scale}}, nil
	case *arrow.DictionaryType:
		syms, isEnum := enumSymbols(md)
		if !isEnum {
			return "string", nil // Categorical: its categories belong to the frame, not the type
		}
		for _, s := range syms {
			if !validName(s) {
				return nil, jerr.New(jerr.Schema, "column %q: the Enum category %q is not a valid Avro enum symbol "+
					"(letters, digits and '_', not starting with a digit): cast the column to pl.String, "+
					"or pass a schema with a string field", path, s).WithVariant(jerr.UnsupportedType).WithField(path)
			}
		}
		return obj{{"type", "enum"}, {"name", d.typeName(name)}, {"symbols", syms}}, nil
	case *arrow.StructType:
		if t.NumFields() == 0 {
			return nil, jerr.New(jerr.Schema, "column %q is a Struct with no fields, which Avro records cannot be", path).
				WithVariant(jerr.UnsupportedType).WithField(path)
		}
		recName := d.typeName(name)
		fields, err := d.fields(t.Fields(), recName, path)
		if err != nil {
			return nil, err
		}
		return obj{{"type", "record"}, {"name", recName}, {"fields", fields}}, nil
	case arrow.ListLikeType:
		elem := t.ElemField()
		if d.opts.Maps {
			if st, ok := elem.Type.(*arrow.StructType); ok && isMapEntry(st) {
				v, _ := st.FieldByName("value")
				vt, err := d.typ(v.Type, v.Nullable, v.Metadata, name+"_value", path+".value")
				if err != nil {
					return nil, err
				}
				return obj{{"type", "map"}, {"values", vt}}, nil
			}
		}
		it, err := d.typ(elem.Type, elem.Nullable, elem.Metadata, name+"_item", path+"[]")
		if err != nil {
			return nil, err
		}
		return obj{{"type", "array"}, {"items", it}}, nil
	}
	return nil, jerr.New(jerr.Schema, "column %q has type %s, which has no Avro counterpart", path, dt).
		WithVariant(jerr.UnsupportedType).WithField(path)
}

// isMapEntry reports whether a Struct is a map entry as reads produce it:
// exactly the fields key (a string) and value.
func isMapEntry(st *arrow.StructType) bool {
	if st.NumFields() != 2 {
		return false
	}
	k, v := st.Field(0), st.Field(1)
	if k.Name != "key" || v.Name != "value" {
		return false
	}
	switch k.Type.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	return false
}

// enumSymbols reads the categories of a Polars Enum from its Arrow field
// metadata ("len;text" repeated), the same encoding the reader writes.
func enumSymbols(md arrow.Metadata) ([]string, bool) {
	i := md.FindKey(schema.EnumMetadataKey)
	if i < 0 {
		return nil, false
	}
	s := md.Values()[i]
	syms := []string{}
	for s != "" {
		semi := strings.IndexByte(s, ';')
		if semi < 0 {
			return nil, false
		}
		var n int
		if _, err := fmt.Sscanf(s[:semi], "%d", &n); err != nil || n < 0 || semi+1+n > len(s) {
			return nil, false
		}
		syms = append(syms, s[semi+1:semi+1+n])
		s = s[semi+1+n:]
	}
	return syms, true
}
