package scan

import (
	"context"
	"sync"
)

// byteSem bounds the compressed bytes held between the framer and the decoders.
// A single request larger than the whole budget is let through when nothing else
// is held, so one huge block cannot deadlock the read.
type byteSem struct {
	mu   sync.Mutex
	cond *sync.Cond
	cap  int64
	used int64
}

func newByteSem(ctx context.Context, capacity int64) *byteSem {
	s := &byteSem{cap: capacity}
	s.cond = sync.NewCond(&s.mu)
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	return s
}

// acquire waits until n bytes fit, or ctx ends (then it returns ctx's error).
func (s *byteSem) acquire(ctx context.Context, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.used > 0 && s.used+n > s.cap {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.used += n
	return nil
}

func (s *byteSem) release(n int64) {
	s.mu.Lock()
	s.used -= n
	s.cond.Broadcast()
	s.mu.Unlock()
}
