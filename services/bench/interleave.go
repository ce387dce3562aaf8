package main

import (
	"context"
	"time"
)

// abTurns is how many turns each server gets in an interleaved
// measurement: d/abTurns each.
const abTurns = 10

// measure loads one server for a turn of d.
type measure func(ctx context.Context, d time.Duration) samples

// interleave loads two servers in turns, A B B A A B ..., until each has
// had d, so that whatever else the shared machine does in the meantime
// falls on both alike. Measured back to back for d each instead, the API
// and its unauthenticated build swung from 0.90 to 1.36 of each other
// across five runs here: far more than the few percent being measured.
func interleave(ctx context.Context, d time.Duration, m [2]measure) [2]samples {
	var out [2]samples
	turn := d / abTurns
	for i := range abTurns {
		for j := range 2 {
			k := j
			if i%2 == 1 {
				k = 1 - j
			}
			out[k].add(m[k](ctx, turn))
		}
	}
	return out
}

// warmUp gives each server one untimed turn of d before a measurement:
// its pool's connections opened, its heap grown, PostgreSQL's caches
// filled, so that none of that falls on whichever server goes first.
func warmUp(ctx context.Context, d time.Duration, m [2]measure) {
	for _, f := range m {
		f(ctx, d)
	}
}

// closedLoop is a measure at full concurrency: conns connections, each
// sending as soon as it has its answer.
func closedLoop(addr string, conns int, sc scenario) measure {
	return func(ctx context.Context, d time.Duration) samples {
		return sample(ctx, addr, conns, d, sc.next, sc.check)
	}
}

// atRate is a measure at a fixed rate (see paced).
func atRate(addr string, conns int, rate float64, sc scenario) measure {
	return func(ctx context.Context, d time.Duration) samples {
		return paced(ctx, addr, conns, rate, d, sc.next, sc.check)
	}
}
