// A struct array with no children, exported by hand: arrow-go's cdata export
// indexes the first child of every struct, and panics on a batch of no columns.
#include <stdlib.h>
#include "arrow_c.h"

static void jl_release_empty_struct(struct ArrowArray* a) {
  free((void*)a->buffers);
  a->buffers = NULL;
  a->release = NULL;
}

// jl_export_empty_struct fills out with a struct array of length rows and no
// children: one buffer, the validity bitmap, absent (no nulls). It returns 0, or
// -1 when out of memory.
int jl_export_empty_struct(struct ArrowArray* out, int64_t rows) {
  const void** buffers = calloc(1, sizeof(void*));
  if (buffers == NULL) {
    return -1;
  }
  out->length = rows;
  out->null_count = 0;
  out->offset = 0;
  out->n_buffers = 1;
  out->n_children = 0;
  out->buffers = buffers;
  out->children = NULL;
  out->dictionary = NULL;
  out->release = jl_release_empty_struct;
  out->private_data = NULL;
  return 0;
}
