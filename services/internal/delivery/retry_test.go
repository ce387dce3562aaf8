package delivery

import (
	"testing"
	"time"
)

func TestBackoffSpreadsTheRetriesOverTheHorizon(t *testing.T) {
	b := Backoff{Attempts: 8, Horizon: time.Hour}
	var least, most time.Duration
	prev := time.Duration(0)
	for attempt := 1; attempt < b.Attempts; attempt++ {
		d := b.Delay(42, attempt)
		full := time.Hour / 127 * time.Duration(1<<(attempt-1)) // base = horizon / (2^7 - 1)
		if d < full/2-time.Millisecond || d > full+time.Millisecond {
			t.Errorf("after attempt %d: %s, want between %s and %s", attempt, d, full/2, full)
		}
		if d <= prev/2 {
			t.Errorf("after attempt %d: %s does not grow from %s", attempt, d, prev)
		}
		prev = d
		least += full / 2
		most += full
	}
	if least < 29*time.Minute || most > 61*time.Minute {
		t.Errorf("the waits add up to between %s and %s, want half the horizon to the horizon", least, most)
	}
}

func TestBackoffIsDecidedByTheJobAndTheAttempt(t *testing.T) {
	b := Backoff{Attempts: 5, Horizon: 10 * time.Minute}
	if first, again := b.Delay(7, 2), b.Delay(7, 2); first != again {
		t.Fatal("the same job and attempt gave two waits")
	}
	seen := map[time.Duration]bool{}
	for id := range int64(20) {
		seen[b.Delay(id, 2)] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 jobs failing together wait only %d different times: the jitter does not spread them", len(seen))
	}
}

func TestBackoffWithOneAttemptHasNoRetry(t *testing.T) {
	if d := (Backoff{Attempts: 1, Horizon: time.Hour}).Delay(1, 1); d != 0 {
		t.Errorf("Delay = %s, want 0", d)
	}
}
