// Seeing Ctrl-C while Polars runs a lazy query.
//
// scan_avro's batches are produced on Polars' threads while the main thread waits
// inside collect() with the GIL released, so Python's KeyboardInterrupt cannot
// surface until the query ends. Polars has its own SIGINT hook for this, but a
// Jupyter kernel re-installs Python's handler before every cell, which removes
// it: a kernel interrupt then waited for the whole read.
//
// While a scan_avro read runs (and Python's SIGINT handler is its default one,
// which raises KeyboardInterrupt), jetliner puts a SIGINT handler in front of
// whatever handler is installed. It only counts the signal; the reading thread
// polls the count between batches and raises KeyboardInterrupt, which Polars
// hands to the caller of collect(). The signal is not passed on: had Python's
// handler seen it too, a second KeyboardInterrupt would fire inside the caller's
// `except KeyboardInterrupt:` block. Nothing else is done in signal context.
// When the last watcher leaves, the previous handler is put back, unless someone
// replaced ours in the meantime.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static atomic_uint_fast64_t jl_sigints;
static struct sigaction jl_prev;  // the handler ours stands in front of
static pthread_mutex_t jl_mu = PTHREAD_MUTEX_INITIALIZER;
static int jl_watchers;

static void jl_on_sigint(int sig, siginfo_t* info, void* ctx) {
  (void)sig;
  (void)info;
  (void)ctx;
  atomic_fetch_add(&jl_sigints, 1);
}

static int jl_installed(void) {
  struct sigaction cur;
  if (sigaction(SIGINT, NULL, &cur) != 0) return 0;
  return (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == jl_on_sigint;
}

// jl_interrupt_watch makes sure the counting handler is installed and returns
// the number of SIGINTs seen so far. Each call is paired with jl_interrupt_unwatch.
uint64_t jl_interrupt_watch(void) {
  pthread_mutex_lock(&jl_mu);
  jl_watchers++;
  if (!jl_installed()) {
    struct sigaction ours;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = jl_on_sigint;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&ours.sa_mask);
    struct sigaction prev;
    if (sigaction(SIGINT, &ours, &prev) == 0) jl_prev = prev;
  }
  pthread_mutex_unlock(&jl_mu);
  return atomic_load(&jl_sigints);
}

// jl_interrupt_count is the number of SIGINTs seen while watching.
uint64_t jl_interrupt_count(void) { return atomic_load(&jl_sigints); }

void jl_interrupt_unwatch(void) {
  pthread_mutex_lock(&jl_mu);
  if (jl_watchers > 0 && --jl_watchers == 0 && jl_installed()) {
    sigaction(SIGINT, &jl_prev, NULL);
  }
  pthread_mutex_unlock(&jl_mu);
}
