// Fork safety of the callbacks other code makes into the library.
//
// The Go runtime starts its threads when the library is loaded, and fork() copies
// only the thread that calls it: in a child forked after that, a call into Go can
// wait forever for a thread that is not there. The Python package refuses every
// call in such a child before it reaches the engine (python/jetliner/_native.py).
// What it cannot guard are the callbacks other code makes into Go on its own:
// Polars releasing a batch it imported (when the child drops a DataFrame read in
// the parent), and a C caller's ArrowArrayStream. Those pass through here and, in
// a forked child, return without entering Go. A batch's buffers are then left to
// the child's exit: they are the child's copy of the parent's memory.
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

#include "arrow_c.h"

static pid_t jl_pid;

// Runs when the library is loaded, in the process whose Go runtime it starts.
__attribute__((constructor)) static void jl_note_pid(void) { jl_pid = getpid(); }

// jl_forked tells whether this process was forked after the library was loaded.
int jl_forked(void) { return getpid() != jl_pid; }

typedef void (*jl_array_release_fn)(struct ArrowArray*);
typedef void (*jl_schema_release_fn)(struct ArrowSchema*);

// The Go release callbacks that the guards below stand in front of (Arrow's cdata
// package uses one function for every array and one for every schema).
static _Atomic(jl_array_release_fn) jl_go_release_array;
static _Atomic(jl_schema_release_fn) jl_go_release_schema;

static void jl_release_array(struct ArrowArray* a) {
  if (jl_forked()) {
    a->release = NULL;
    return;
  }
  atomic_load(&jl_go_release_array)(a);
}

static void jl_release_schema(struct ArrowSchema* s) {
  if (jl_forked()) {
    s->release = NULL;
    return;
  }
  atomic_load(&jl_go_release_schema)(s);
}

// jl_guard_array puts the fork check in front of an exported array's release.
// Only the top-level release is replaced: by the Arrow C data interface, a
// consumer releases the top level, which releases the children from Go.
void jl_guard_array(struct ArrowArray* a) {
  if (a->release == NULL || a->release == jl_release_array) return;
  atomic_store(&jl_go_release_array, a->release);
  a->release = jl_release_array;
}

void jl_guard_schema(struct ArrowSchema* s) {
  if (s->release == NULL || s->release == jl_release_schema) return;
  atomic_store(&jl_go_release_schema, s->release);
  s->release = jl_release_schema;
}
