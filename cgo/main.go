// Command cgo is jetliner's C ABI, built with -buildmode=c-shared. It is the only
// code that knows about C. Every exported function returns a malloc'd JSON string
// the caller frees with jl_free: {"ok": true, ...} or {"ok": false, "error": {...}}.
// No panic crosses the boundary: each entry point recovers and reports it.
package main

/*
#include <stdint.h>
#include <stdlib.h>
#include "arrow_c.h"
void jl_guard_array(struct ArrowArray* a);
void jl_guard_schema(struct ArrowSchema* s);
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/cdata"

	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/scan"
	"github.com/jetliner/jetliner/core/source"
)

func main() {}

// handle is one open scan and what the C side may ask about it.
type handle struct {
	mu      sync.Mutex
	scan    *scan.Scan
	lastErr error
}

var (
	handlesMu  sync.Mutex
	handles    = map[uint64]*handle{}
	nextHandle uint64
)

func lookup(id uint64) (*handle, error) {
	handlesMu.Lock()
	defer handlesMu.Unlock()
	h, ok := handles[id]
	if !ok {
		return nil, jerr.New(jerr.Config, "the reader is closed")
	}
	return h, nil
}

// errorJSON is the structured error the Python package turns into an exception.
type errorJSON struct {
	Kind    string `json:"kind"`
	Variant string `json:"variant"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
	Block   *int64 `json:"block_index"`
	Record  *int64 `json:"record_index"`
	Offset  *int64 `json:"file_offset"`
	Codec   string `json:"codec,omitempty"`
	Field   string `json:"schema_context,omitempty"`
}

func toErrorJSON(err error) errorJSON {
	e := jerr.As(err)
	msg := e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	opt := func(v int64) *int64 {
		if v < 0 {
			return nil
		}
		return &v
	}
	// The last net for credentials (see source.Redact): nothing leaves the
	// engine with one in it, whichever layer made the message.
	return errorJSON{Kind: string(e.Kind), Variant: e.VariantName(), Message: source.Redact(msg),
		Path: source.Redact(e.Path), Block: opt(e.Block), Record: opt(e.Record), Offset: opt(e.Offset),
		Codec: e.Codec, Field: e.Field}
}

// redactedErrors is the scan's skipped blocks as they may be shown.
func redactedErrors(bad []scan.BadBlock) []scan.BadBlock {
	for i := range bad {
		bad[i].Message, bad[i].Path = source.Redact(bad[i].Message), source.Redact(bad[i].Path)
	}
	return bad
}

// reply renders a result as a C string.
func reply(payload map[string]any, err error) *C.char {
	if payload == nil {
		payload = map[string]any{}
	}
	if err != nil {
		payload = map[string]any{"ok": false, "error": toErrorJSON(err)}
	} else {
		payload["ok"] = true
	}
	b, mErr := json.Marshal(payload)
	if mErr != nil {
		b = []byte(`{"ok": false, "error": {"kind": "InternalError", "message": "cannot encode reply"}}`)
	}
	return C.CString(string(b))
}

// guard turns a panic into an InternalError reply.
func guard(out **C.char) {
	if p := recover(); p != nil {
		*out = reply(nil, jerr.New(jerr.Internal, "internal error: %v", p))
	}
}

//export jl_free
func jl_free(p *C.char) { C.free(unsafe.Pointer(p)) }

//export jl_allocated_bytes
func jl_allocated_bytes() C.int64_t { return C.int64_t(allocator.live.Load()) }

//export jl_scan_open
func jl_scan_open(optionsJSON *C.char) (out *C.char) {
	defer guard(&out)
	syncEnviron()
	opts, err := parseOptions([]byte(C.GoString(optionsJSON)))
	if err != nil {
		return reply(nil, err)
	}
	s, err := scan.Open(context.Background(), opts, allocator)
	if err != nil {
		return reply(nil, err)
	}
	handlesMu.Lock()
	nextHandle++
	id := nextHandle
	handles[id] = &handle{scan: s}
	handlesMu.Unlock()
	return reply(map[string]any{
		"handle":      id,
		"avro_schema": s.AvroSchema(),
		"files":       s.Files(),
	}, nil)
}

//export jl_scan_schema
func jl_scan_schema(id C.uint64_t, out *C.struct_ArrowSchema) (res *C.char) {
	defer guard(&res)
	h, err := lookup(uint64(id))
	if err != nil {
		return reply(nil, err)
	}
	cdata.ExportArrowSchema(h.scan.Schema(), (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	C.jl_guard_schema(out)
	return reply(nil, nil)
}

//export jl_scan_stream
func jl_scan_stream(id C.uint64_t, out *C.struct_ArrowArrayStream) (res *C.char) {
	defer guard(&res)
	if _, err := lookup(uint64(id)); err != nil {
		return reply(nil, err)
	}
	newStream(uint64(id), out)
	return reply(nil, nil)
}

// jl_scan_next exports the scan's next batch into out, as a struct array of its
// columns (the Arrow C data interface), and replies {"end": true} after the last
// one. The Python package hands out to Polars through the PyCapsule interface:
// no pyarrow, no copy.
//
//export jl_scan_next
func jl_scan_next(id C.uint64_t, out *C.struct_ArrowArray) (res *C.char) {
	defer guard(&res)
	out.release = nil
	h, err := lookup(uint64(id))
	if err != nil {
		return reply(nil, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rec, err := h.scan.Next()
	if errors.Is(err, io.EOF) {
		return reply(map[string]any{"end": true}, nil)
	}
	if err != nil {
		h.lastErr = err
		return reply(nil, err)
	}
	defer rec.Release()
	exportRecord(rec, out)
	return reply(map[string]any{"end": false, "rows": rec.NumRows()}, nil)
}

// jl_scan_empty exports a batch of no rows with the scan's schema: how the
// Python package learns the Polars schema without reading any data.
//
//export jl_scan_empty
func jl_scan_empty(id C.uint64_t, out *C.struct_ArrowArray) (res *C.char) {
	defer guard(&res)
	out.release = nil
	h, err := lookup(uint64(id))
	if err != nil {
		return reply(nil, err)
	}
	rec := emptyRecord(h.scan.Schema())
	defer rec.Release()
	exportRecord(rec, out)
	return reply(nil, nil)
}

//export jl_scan_stats
func jl_scan_stats(id C.uint64_t) (res *C.char) {
	defer guard(&res)
	h, err := lookup(uint64(id))
	if err != nil {
		return reply(nil, err)
	}
	h.mu.Lock()
	last := h.lastErr
	h.mu.Unlock()
	payload := map[string]any{"stats": h.scan.Stats(), "errors": redactedErrors(h.scan.Errors())}
	if last != nil {
		payload["last_error"] = toErrorJSON(last)
	}
	return reply(payload, nil)
}

//export jl_scan_close
func jl_scan_close(id C.uint64_t) (res *C.char) {
	defer guard(&res)
	handlesMu.Lock()
	h, ok := handles[uint64(id)]
	delete(handles, uint64(id))
	handlesMu.Unlock()
	if ok {
		h.mu.Lock()
		h.scan.Close()
		h.mu.Unlock()
	}
	return reply(nil, nil)
}

func (h *handle) setErr(err error) {
	h.mu.Lock()
	h.lastErr = err
	h.mu.Unlock()
}

// emptyRecord is a record of no rows with the given schema.
func emptyRecord(schema *arrow.Schema) arrow.Record {
	cols := make([]arrow.Array, len(schema.Fields()))
	for i, f := range schema.Fields() {
		b := array.NewBuilder(allocator, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecord(schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	return rec
}
