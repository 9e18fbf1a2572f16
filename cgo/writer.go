package main

/*
#include <stdint.h>
#include <stdlib.h>
#include "arrow_c.h"

// jl_write_fn is the Python callback that takes the bytes of a write to a file
// object; it returns 0, or -1 when the file object raised (Python keeps the
// exception and raises it when the engine's call returns).
typedef int (*jl_write_fn)(const char* data, int64_t len);

static int jl_call_write(uintptr_t fn, const char* data, int64_t len) {
	return ((jl_write_fn)fn)(data, len);
}

static void jl_release_stream(struct ArrowArrayStream* s) {
	s->release(s);
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/cdata"

	"github.com/jetliner/jetliner/core/codec"
	"github.com/jetliner/jetliner/core/encode"
	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/source"
)

// writerHandle is one file being written. Its runtime/cgo.Handle is what the
// Python package holds; jl_writer_free deletes it, once.
type writerHandle struct {
	mu     sync.Mutex // one call at a time, except jl_writer_cancel
	w      *encode.Writer
	sink   source.Sink // nil when writing to a Python file object
	ctx    context.Context
	cancel context.CancelFunc
	done   bool // closed or aborted
}

// wireWriteOptions is the JSON of jl_writer_open.
type wireWriteOptions struct {
	Dest           *string           `json:"dest"`     // a path or URI; null: the write callback
	WriteFn        uint64            `json:"write_fn"` // the callback's address, for a file object
	Codec          string            `json:"codec"`
	Level          *int              `json:"compression_level"`
	Schema         *string           `json:"schema"`
	Name           string            `json:"name"`
	Namespace      string            `json:"namespace"`
	SyncInterval   int               `json:"sync_interval"`
	Metadata       map[string][]byte `json:"metadata"` // values base64, as encoding/json does bytes
	StorageOptions map[string]string `json:"storage_options"`
	PartSize       int               `json:"part_size"` // S3 multipart part size; 0: the default
	MangleNames    bool              `json:"mangle_names"`
	Maps           bool              `json:"maps"`
}

// callbackWriter hands the bytes to the Python file object's write callback.
type callbackWriter struct{ fn uintptr }

// errCallback is a write the file object refused; the Python side has the
// exception it raised.
var errCallback = errors.New("the file object's write raised an exception")

func (c callbackWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	// p may be Go memory: the callback only reads it during the call, which the
	// cgo rules allow for a pointer to memory without Go pointers.
	if C.jl_call_write(C.uintptr_t(c.fn), (*C.char)(unsafe.Pointer(&p[0])), C.int64_t(len(p))) != 0 {
		return 0, jerr.Wrap(jerr.Source, errCallback, "cannot write to the file object")
	}
	return len(p), nil
}

//export jl_writer_open
func jl_writer_open(optionsJSON *C.char) (out *C.char) {
	defer guard(&out)
	syncEnviron()
	var o wireWriteOptions
	dec := json.NewDecoder(strings.NewReader(C.GoString(optionsJSON)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return reply(nil, jerr.Wrap(jerr.Config, err, "bad write options"))
	}
	if err := checkStorage(o.StorageOptions); err != nil {
		return reply(nil, err)
	}
	opts := encode.Options{
		Codec: o.Codec, Level: codec.NoLevel, SyncInterval: o.SyncInterval, Meta: o.Metadata,
		DeriveOptions: encode.DeriveOptions{Name: o.Name, Namespace: o.Namespace, MangleNames: o.MangleNames, Maps: o.Maps},
	}
	if o.Level != nil {
		opts.Level = *o.Level
	}
	if o.Schema != nil {
		opts.Schema = []byte(*o.Schema)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &writerHandle{ctx: ctx, cancel: cancel}
	var dest io.Writer
	if o.Dest != nil {
		// Options first, so a bad option leaves nothing behind at the destination.
		if _, err := encode.NewWriter(io.Discard, opts); err != nil {
			cancel()
			return reply(nil, err)
		}
		sink, err := source.Create(ctx, *o.Dest, &source.Options{Storage: o.StorageOptions, PartSize: o.PartSize})
		if err != nil {
			cancel()
			return reply(nil, err)
		}
		h.sink, dest = sink, sink
	} else {
		if o.WriteFn == 0 {
			cancel()
			return reply(nil, jerr.New(jerr.Config, "a write needs a destination or a file object"))
		}
		dest = callbackWriter{fn: uintptr(o.WriteFn)}
	}
	w, err := encode.NewWriter(dest, opts)
	if err != nil {
		h.abortSink()
		cancel()
		return reply(nil, err)
	}
	h.w = w
	return reply(map[string]any{"handle": uint64(cgo.NewHandle(h))}, nil)
}

func writerOf(id C.uint64_t) (*writerHandle, error) {
	if id == 0 {
		return nil, jerr.New(jerr.Config, "the writer is closed")
	}
	h, ok := cgo.Handle(id).Value().(*writerHandle)
	if !ok {
		return nil, jerr.New(jerr.Internal, "not a writer handle")
	}
	return h, nil
}

// abortSink discards the destination; the first error of the write stays the one
// reported.
func (h *writerHandle) abortSink() {
	if h.sink != nil {
		_ = h.sink.Abort()
	}
}

// fail ends a write that went wrong: the encoder stops, the destination is
// discarded.
func (h *writerHandle) fail(err error) *C.char {
	h.w.Abort()
	h.abortSink()
	h.done = true
	return reply(nil, err)
}

// jl_writer_write writes every batch of an Arrow C stream (a Polars DataFrame's
// __arrow_c_stream__), taking ownership of the stream. A stream with no batches
// still fixes the schema, so that a frame of no rows writes a file of no rows.
//
//export jl_writer_write
func jl_writer_write(id C.uint64_t, stream *C.struct_ArrowArrayStream) (out *C.char) {
	defer guard(&out)
	h, err := writerOf(id)
	if err != nil {
		return reply(nil, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		if stream.release != nil {
			C.jl_release_stream(stream)
		}
		return reply(nil, jerr.New(jerr.Config, "the writer is closed"))
	}
	rd, err := cdata.ImportCRecordReader((*cdata.CArrowArrayStream)(unsafe.Pointer(stream)), nil)
	if err != nil {
		return h.fail(jerr.Wrap(jerr.Encode, err, "cannot import the frame's Arrow data"))
	}
	for {
		// The reader owns each record and releases it at the next Read: the
		// encoder retains what it keeps.
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return h.fail(jerr.Wrap(jerr.Encode, err, "cannot import the frame's Arrow data"))
		}
		if err = h.w.Write(h.ctx, rec); err != nil {
			return h.fail(err)
		}
	}
	// A stream of no batches still has a schema (read with the first Read).
	if withSchema, ok := rd.(interface{ Schema() *arrow.Schema }); ok && withSchema.Schema() != nil {
		if err := h.w.Start(withSchema.Schema()); err != nil {
			return h.fail(err)
		}
	}
	return reply(map[string]any{"rows": h.w.Rows()}, nil)
}

// jl_writer_close writes what is pending and commits the destination.
//
//export jl_writer_close
func jl_writer_close(id C.uint64_t) (out *C.char) {
	defer guard(&out)
	h, err := writerOf(id)
	if err != nil {
		return reply(nil, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return reply(nil, nil)
	}
	if err := h.w.Close(h.ctx); err != nil {
		return h.fail(err)
	}
	if h.sink != nil {
		if err := h.sink.Commit(); err != nil {
			return h.fail(err)
		}
	}
	h.done = true
	return reply(map[string]any{"rows": h.w.Rows(), "schema": string(h.w.SchemaJSON())}, nil)
}

// jl_writer_cancel stops a write in progress on another thread (Ctrl-C): the
// call in progress returns a CancelledError and the destination is discarded.
//
//export jl_writer_cancel
func jl_writer_cancel(id C.uint64_t) (out *C.char) {
	defer guard(&out)
	h, err := writerOf(id)
	if err != nil {
		return reply(nil, err)
	}
	h.cancel()
	return reply(nil, nil)
}

// jl_writer_abort discards the write: nothing is left at the destination.
//
//export jl_writer_abort
func jl_writer_abort(id C.uint64_t) (out *C.char) {
	defer guard(&out)
	h, err := writerOf(id)
	if err != nil {
		return reply(nil, err)
	}
	h.cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.done {
		h.w.Abort()
		h.abortSink()
		h.done = true
	}
	return reply(nil, nil)
}

// jl_writer_free releases the handle; the Python package calls it exactly once,
// after close or abort.
//
//export jl_writer_free
func jl_writer_free(id C.uint64_t) (out *C.char) {
	defer guard(&out)
	h, err := writerOf(id)
	if err != nil {
		return reply(nil, err)
	}
	h.cancel()
	h.mu.Lock()
	if !h.done {
		h.w.Abort()
		h.abortSink()
		h.done = true
	}
	h.mu.Unlock()
	cgo.Handle(id).Delete()
	return reply(nil, nil)
}
