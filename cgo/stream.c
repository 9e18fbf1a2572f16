// The C side of jetliner's ArrowArrayStream: trampolines into the Go callbacks,
// which recover from panics and turn them into stream errors.
#include <errno.h>
#include <stdint.h>
#include "arrow_c.h"
#include "_cgo_export.h"

int jl_forked(void);

// In a process forked after the library was loaded, the stream refuses without
// entering Go, where it would hang (see fork.c).
static const char jl_forked_error[] =
    "jetliner cannot be used in a process forked after its engine started; "
    "start worker processes with the 'spawn' or 'forkserver' method";

static int jl_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  if (jl_forked()) return EIO;
  return jlStreamGetSchema(s, out);
}

static int jl_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  if (jl_forked()) return EIO;
  return jlStreamGetNext(s, out);
}

static const char* jl_get_last_error(struct ArrowArrayStream* s) {
  if (jl_forked()) return jl_forked_error;
  return jlStreamGetLastError(s);
}

static void jl_release(struct ArrowArrayStream* s) {
  if (jl_forked()) {
    s->release = NULL;
    return;
  }
  jlStreamRelease(s);
}

void jl_stream_init(struct ArrowArrayStream* s, uintptr_t id) {
  s->get_schema = jl_get_schema;
  s->get_next = jl_get_next;
  s->get_last_error = jl_get_last_error;
  s->release = jl_release;
  s->private_data = (void*)id;
}
