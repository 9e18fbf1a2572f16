package main

/*
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "arrow_c.h"
void jl_guard_array(struct ArrowArray* a);
void jl_guard_schema(struct ArrowSchema* s);
void jl_stream_init(struct ArrowArrayStream* s, uintptr_t id);
*/
import "C"

import (
	"errors"
	"io"
	"sync"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow/cdata"

	"github.com/jetliner/jetliner/core/jerr"
)

// jetliner implements the ArrowArrayStream callbacks itself rather than with
// cdata.ExportRecordReader, so that every callback, batch export included, runs
// under recover: no panic may unwind into the C caller.
//
// The stream's private_data is a stream id, not a Go pointer, as cgo requires.

type stream struct {
	scan    uint64 // the handle of the scan it reads
	lastErr *C.char
}

var (
	streamsMu    sync.Mutex
	streams      = map[uintptr]*stream{}
	nextStreamID uintptr
)

func newStream(scan uint64, out *C.struct_ArrowArrayStream) {
	streamsMu.Lock()
	nextStreamID++
	id := nextStreamID
	streams[id] = &stream{scan: scan}
	streamsMu.Unlock()
	C.jl_stream_init(out, C.uintptr_t(id))
}

func streamOf(s *C.struct_ArrowArrayStream) *stream {
	streamsMu.Lock()
	defer streamsMu.Unlock()
	return streams[uintptr(s.private_data)]
}

// fail records err as the stream's last error and returns the errno to report.
func (st *stream) fail(err error) C.int {
	if st.lastErr != nil {
		C.free(unsafe.Pointer(st.lastErr))
	}
	st.lastErr = C.CString(toErrorJSON(err).Message)
	return C.EIO
}

// recoverTo converts a panic in a callback into a stream error.
func recoverTo(st *stream, rc *C.int) {
	if p := recover(); p != nil {
		err := jerr.New(jerr.Internal, "internal error: %v", p)
		if h, lerr := lookup(st.scan); lerr == nil {
			h.setErr(err)
		}
		*rc = st.fail(err)
	}
}

//export jlStreamGetSchema
func jlStreamGetSchema(s *C.struct_ArrowArrayStream, out *C.struct_ArrowSchema) (rc C.int) {
	st := streamOf(s)
	if st == nil {
		return C.EINVAL
	}
	defer recoverTo(st, &rc)
	h, err := lookup(st.scan)
	if err != nil {
		return st.fail(err)
	}
	cdata.ExportArrowSchema(h.scan.Schema(), (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	C.jl_guard_schema(out)
	return 0
}

//export jlStreamGetNext
func jlStreamGetNext(s *C.struct_ArrowArrayStream, out *C.struct_ArrowArray) (rc C.int) {
	st := streamOf(s)
	if st == nil {
		return C.EINVAL
	}
	defer recoverTo(st, &rc)
	h, err := lookup(st.scan)
	if err != nil {
		return st.fail(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rec, err := h.scan.Next()
	if errors.Is(err, io.EOF) {
		out.release = nil // a released array marks the end of the stream
		return 0
	}
	if err != nil {
		h.lastErr = err
		return st.fail(err)
	}
	defer rec.Release()
	exportRecord(rec, out)
	return 0
}

//export jlStreamGetLastError
func jlStreamGetLastError(s *C.struct_ArrowArrayStream) *C.char {
	if st := streamOf(s); st != nil {
		return st.lastErr
	}
	return nil
}

//export jlStreamRelease
func jlStreamRelease(s *C.struct_ArrowArrayStream) {
	streamsMu.Lock()
	st := streams[uintptr(s.private_data)]
	delete(streams, uintptr(s.private_data))
	streamsMu.Unlock()
	if st != nil && st.lastErr != nil {
		C.free(unsafe.Pointer(st.lastErr))
	}
	s.release = nil
	s.private_data = nil
}
