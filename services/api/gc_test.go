package main

import (
	"runtime/debug"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/processtest"
)

func TestServeRaisesGOGCOnlyWhenTheEnvironmentLeavesItUnset(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	tuneGC(processtest.Env(map[string]string{}))
	if got := debug.SetGCPercent(100); got != defaultGOGC {
		t.Errorf("GOGC unset: the collector's target is %d, want %d", got, defaultGOGC)
	}
	tuneGC(processtest.Env(map[string]string{"GOGC": "50"}))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: tuneGC changed the target to %d", got)
	}
}
