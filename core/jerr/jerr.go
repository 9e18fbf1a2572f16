// Package jerr defines the typed errors that jetliner reports to its callers.
//
// Every failure that crosses the C boundary is an *Error with a Kind. The kinds are
// the names of the Python exception classes, so the binding layer maps them one to
// one. Errors carry where they happened (path, block, record, file offset) because a
// user debugging a bad file needs to find the bytes.
package jerr

import (
	"errors"
	"fmt"
	"strings"
)

// Kind names a class of failure. Callers branch on it.
type Kind string

// The kinds, named after the Python exceptions they become.
const (
	Source     Kind = "SourceError"         // cannot reach or read the source
	Auth       Kind = "AuthenticationError" // bad or missing credentials
	NotFound   Kind = "FileNotFoundError"   // missing file, object or bucket; glob matched nothing
	Permission Kind = "PermissionError"     // access denied
	Parse      Kind = "ParseError"          // not an Avro object container file
	Schema     Kind = "SchemaError"         // invalid or unsupported schema, or schemas differ
	Codec      Kind = "CodecError"          // unknown codec or a block that does not decompress
	Decode     Kind = "DecodeError"         // bad record data
	Encode     Kind = "EncodeError"         // a value that the writer schema cannot hold
	Config     Kind = "ConfigurationError"  // bad options
	Internal   Kind = "InternalError"       // a bug in jetliner (e.g. a recovered panic)
	Cancelled  Kind = "CancelledError"      // the read was closed or interrupted
)

// The variants: what exactly went wrong within a kind, for callers that branch on
// more than the kind (a bad magic is not a bad sync marker, though both are Parse).
// The names are those of the jetliner 0.2 package where it has one, so code written
// against it keeps working. An error without one reports its kind's default
// (see Error.VariantName).
const (
	InvalidMagic        = "InvalidMagic"        // Parse: not "Obj\x01" (or the file is too short to hold it)
	InvalidSyncMarker   = "InvalidSyncMarker"   // Parse: a block does not end with the header's sync marker
	InvalidHeader       = "InvalidHeader"       // Parse: the header's metadata is malformed
	InvalidBlock        = "InvalidBlock"        // Parse: a block's count or size is impossible
	UnexpectedEOF       = "UnexpectedEof"       // Parse: the file ends inside its header or a block
	UnsupportedCodec    = "UnsupportedCodec"    // Codec: the header names a codec jetliner cannot read
	DecompressionError  = "DecompressionError"  // Codec: a block does not decompress
	OversizedOutput     = "OversizedOutput"     // Codec: a block is larger than max_block_size
	InvalidData         = "InvalidData"         // Decode: a record's bytes do not match the schema
	InvalidSchema       = "InvalidSchema"       // Schema: the schema JSON is not a valid Avro schema
	UnsupportedType     = "UnsupportedType"     // Schema: valid Avro jetliner cannot map to Polars
	IncompatibleSchemas = "IncompatibleSchemas" // Schema: the files of one read differ
	ColumnNotFound      = "ColumnNotFound"      // Schema: a selected column is not in the file
	SchemaTooDeep       = "SchemaTooDeep"       // Schema: nested deeper than max_schema_depth allows
	S3Error             = "S3Error"             // Source: S3 failed in a way that is not one of the kinds
	InvalidValue        = "InvalidValue"        // Encode: a value does not fit the column's Avro type
	SchemaMismatch      = "SchemaMismatch"      // Encode: a batch's columns differ from the first batch's
)

// defaultVariants is the variant of an error created without one.
var defaultVariants = map[Kind]string{
	Source:     "Io",
	Auth:       "AuthenticationFailed",
	NotFound:   "NotFound",
	Permission: "PermissionDenied",
	Parse:      "Parse",
	Schema:     "Schema",
	Codec:      "Codec",
	Decode:     InvalidData,
	Encode:     InvalidValue,
	Config:     "Configuration",
	Internal:   "Internal",
	Cancelled:  "Cancelled",
}

// Error is a failure with a kind and its location. Fields that do not apply are -1
// (numbers) or "" (strings).
type Error struct {
	Kind    Kind
	Variant string // one of the variants above, or "" for the kind's default
	Message string
	Path    string
	Block   int64  // 0-based index of the block in its file
	Record  int64  // 0-based index of the record within its block (a write: the row of the frame)
	Offset  int64  // byte offset in the file where the bad data starts
	Codec   string // the file's codec, on Codec errors
	Field   string // the column concerned, on Schema and Encode errors about one
	Err     error  // the underlying cause, if any
}

// New returns an error of the given kind with no location.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Block: -1, Record: -1, Offset: -1}
}

// Wrap returns an error of the given kind whose message is msg plus the cause.
func Wrap(kind Kind, cause error, format string, args ...any) *Error {
	e := New(kind, format, args...)
	e.Err = cause
	return e
}

// WithPath sets the path and returns e, for chaining.
func (e *Error) WithPath(path string) *Error { e.Path = path; return e }

// WithVariant sets the variant and returns e, for chaining.
func (e *Error) WithVariant(variant string) *Error { e.Variant = variant; return e }

// WithCodec sets the codec name and returns e, for chaining.
func (e *Error) WithCodec(name string) *Error { e.Codec = name; return e }

// WithField sets the column concerned and returns e, for chaining.
func (e *Error) WithField(name string) *Error { e.Field = name; return e }

// VariantName is e's variant, or its kind's default when it has none.
func (e *Error) VariantName() string {
	if e.Variant != "" {
		return e.Variant
	}
	if v, ok := defaultVariants[e.Kind]; ok {
		return v
	}
	return string(e.Kind)
}

// At sets the block, record and offset and returns e, for chaining.
func (e *Error) At(block, record, offset int64) *Error {
	e.Block, e.Record, e.Offset = block, record, offset
	return e
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	var where []string
	if e.Path != "" {
		where = append(where, "path "+e.Path)
	}
	if e.Block >= 0 {
		where = append(where, fmt.Sprintf("block %d", e.Block))
	}
	if e.Record >= 0 {
		where = append(where, fmt.Sprintf("record %d", e.Record))
	}
	if e.Offset >= 0 {
		where = append(where, fmt.Sprintf("offset %d", e.Offset))
	}
	if len(where) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(where, ", "))
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// As returns err as an *Error if it is one (anywhere in its chain), or wraps it as
// an Internal error otherwise, so every error leaving the library has a kind.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(Internal, err, "unexpected error")
}

// KindOf returns the kind of err, or "" if err is nil or has no kind.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}
