package source

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// The retry loop is the stores' own, not the SDK's, so that every attempt is
// counted and a body cut midway is resumed. Reads and writes share it; which
// failures are worth another attempt is retryable's call.

// retryPolicy is the retry behaviour of s3-access.md: up to maxRetries more
// attempts after the first, for transient failures only, waiting base, 2*base,
// 4*base, ... (plus up to 10% jitter, so that parallel readers spread out).
type retryPolicy struct {
	maxRetries int
	base       time.Duration
}

// maxBackoff caps one wait, so that a large max_retries does not sleep for hours.
const maxBackoff = 30 * time.Second

func (p retryPolicy) delay(retry int) time.Duration {
	d := p.base << min(retry, 30)
	if d > maxBackoff || d <= 0 && p.base > 0 {
		d = maxBackoff
	}
	if d > 0 {
		d += rand.N(d/10 + 1)
	}
	return d
}

// do runs op until it succeeds, fails for good, or the retries are used up. op
// gets one attempt's context. A failure after the last retry is wrapped in an
// exhaustedError that says how many attempts were made.
func (p retryPolicy) do(ctx context.Context, op func(context.Context) error) error {
	for retry := 0; ; retry++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retryable(err) {
			return err
		}
		if retry >= p.maxRetries {
			return &exhaustedError{attempts: retry + 1, err: err}
		}
		t := time.NewTimer(p.delay(retry))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

type exhaustedError struct {
	attempts int
	err      error
}

func (e *exhaustedError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.attempts, e.err)
}

func (e *exhaustedError) Unwrap() error { return e.err }
