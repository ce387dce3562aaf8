package delivery

import (
	"fmt"
	"hash/fnv"
	"math"
	"time"
)

// Backoff spreads a delivery's retries over a horizon: the wait doubles
// from one retry to the next, the Attempts-1 waits adding up to Horizon,
// and each is "equal jitter" (between half and all of its share), so
// deliveries that failed together do not all retry together. A delivery
// that keeps failing therefore ends between half the horizon and the
// horizon after its first attempt, plus the attempts' own time.
type Backoff struct {
	Attempts int           // WEBHOOK_MAX_ATTEMPTS
	Horizon  time.Duration // WEBHOOK_RETRY_HORIZON
}

// Delay is the wait after failed attempt number attempt (from 1) of job
// id. It is a function of (id, attempt) alone, so every caller computes the
// same wait for the same failure.
func (b Backoff) Delay(id int64, attempt int) time.Duration {
	retries := b.Attempts - 1
	if retries < 1 {
		return 0
	}
	attempt = min(max(attempt, 1), retries)
	base := float64(b.Horizon) / (math.Exp2(float64(retries)) - 1)
	full := base * math.Exp2(float64(attempt-1))
	return time.Duration(full/2 + full/2*unitHash(id, attempt))
}

// unitHash is a number in [0, 1) that (id, attempt) decides.
func unitHash(id int64, attempt int) float64 {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%d/%d", id, attempt) // a hash.Hash never fails to write
	return float64(h.Sum64()>>11) / (1 << 53)
}
