// The C side of jetliner's ArrowArrayStream: plain trampolines into the Go
// callbacks, which recover from panics and turn them into stream errors.
#include <errno.h>
#include <stdint.h>
#include "arrow_c.h"
#include "_cgo_export.h"

static int jl_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  return jlStreamGetSchema(s, out);
}

static int jl_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  return jlStreamGetNext(s, out);
}

static const char* jl_get_last_error(struct ArrowArrayStream* s) {
  return jlStreamGetLastError(s);
}

static void jl_release(struct ArrowArrayStream* s) { jlStreamRelease(s); }

void jl_stream_init(struct ArrowArrayStream* s, uintptr_t id) {
  s->get_schema = jl_get_schema;
  s->get_next = jl_get_next;
  s->get_last_error = jl_get_last_error;
  s->release = jl_release;
  s->private_data = (void*)id;
}
