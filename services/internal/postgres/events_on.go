//go:build !gantry_noevents

package postgres

// emitEvents: every task change records its event. Only a binary built
// with -tags gantry_noevents, which the benchmark builds to measure what
// the event costs a write, does not; no setting can turn it off.
const emitEvents = true
