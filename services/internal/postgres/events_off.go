//go:build gantry_noevents

package postgres

// emitEvents is false in this build, for the benchmark's measure of what
// recording events costs (see events_on.go). Never ship it.
const emitEvents = false
