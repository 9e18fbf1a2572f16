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
//
// The main thread is not always waiting for the query: it runs the caller's code
// between the batches of collect_batches(), while the read is paused. A signal
// that no reading thread takes up is then handed to the main thread by the
// Python side (InterruptWatch in python/jetliner/_native.py) through
// jl_interrupt_forward: the next SIGINT goes past the counter to the previous
// handler, so Python raises KeyboardInterrupt there as if jetliner were not
// reading (it also wakes the main thread from a sleep or a blocking read).
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static atomic_uint_fast64_t jl_sigints;
static struct sigaction jl_prev;  // the handler ours stands in front of
static pthread_mutex_t jl_mu = PTHREAD_MUTEX_INITIALIZER;
static int jl_watchers;

static atomic_int jl_passes;  // SIGINTs to hand on rather than count

// jl_pass_on calls the handler ours stands in front of, as the kernel would have.
static void jl_pass_on(int sig, siginfo_t* info, void* ctx) {
  if (jl_prev.sa_flags & SA_SIGINFO) {
    if (jl_prev.sa_sigaction != NULL) jl_prev.sa_sigaction(sig, info, ctx);
  } else if (jl_prev.sa_handler != SIG_DFL && jl_prev.sa_handler != SIG_IGN) {
    jl_prev.sa_handler(sig);
  }
}

static void jl_on_sigint(int sig, siginfo_t* info, void* ctx) {
  int passes = atomic_load(&jl_passes);
  while (passes > 0) {
    if (atomic_compare_exchange_weak(&jl_passes, &passes, passes - 1)) {
      jl_pass_on(sig, info, ctx);
      return;
    }
  }
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
    atomic_store(&jl_passes, 0);  // one left from a forward that missed ours
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

// jl_interrupt_forward sends a SIGINT to the thread `thread` (a pthread_t) that
// the counting handler hands on to the previous one instead of counting. Returns
// 0, or -1 if the signal could not be sent.
int jl_interrupt_forward(uint64_t thread) {
  pthread_mutex_lock(&jl_mu);
  int rc = -1;
  if (jl_watchers > 0 && jl_installed()) {
    atomic_fetch_add(&jl_passes, 1);
    rc = pthread_kill((pthread_t)thread, SIGINT) == 0 ? 0 : -1;
    if (rc != 0) atomic_fetch_sub(&jl_passes, 1);
  }
  pthread_mutex_unlock(&jl_mu);
  return rc;
}
