package main

import (
	"context"
	"time"
)

// abTurns is how many turns each server gets in an interleaved
// measurement: d/abTurns each.
const abTurns = 10

// interleave loads two servers in turns, A B B A A B ..., until each has
// had d, so that whatever else the shared machine does in the meantime
// falls on both alike. Measured back to back for d each instead, the API
// and its unauthenticated build swung from 0.90 to 1.36 of each other
// across five runs here: far more than the few percent being measured.
func interleave(ctx context.Context, addrs [2]string, conns int, d time.Duration, scs [2]scenario) [2]samples {
	var out [2]samples
	turn := d / abTurns
	for i := range abTurns {
		for j := range 2 {
			k := j
			if i%2 == 1 {
				k = 1 - j
			}
			out[k].add(sample(ctx, addrs[k], conns, turn, scs[k].next, scs[k].check))
		}
	}
	return out
}
