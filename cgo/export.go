package main

/*
#include <stdint.h>
#include "arrow_c.h"
int jl_export_empty_struct(struct ArrowArray* out, int64_t rows);
void jl_guard_array(struct ArrowArray* a);
*/
import "C"

import (
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/cdata"
)

// exportRecord exports a batch into out as a struct array of its columns. A
// batch of no columns (a read of no columns: its height is the answer) is
// exported by hand, as arrow-go's export cannot: Polars takes it as a
// DataFrame of that height and no columns. (Its release is C's own, so it
// needs no fork guard; see fork.c.)
func exportRecord(rec arrow.Record, out *C.struct_ArrowArray) {
	if rec.NumCols() > 0 {
		cdata.ExportArrowRecordBatch(rec, (*cdata.CArrowArray)(unsafe.Pointer(out)), nil)
		C.jl_guard_array(out) // see fork.c
		return
	}
	if C.jl_export_empty_struct(out, C.int64_t(rec.NumRows())) != 0 {
		panic("out of memory exporting a batch")
	}
}
