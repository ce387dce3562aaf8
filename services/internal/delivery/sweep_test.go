package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

func TestASweep(t *testing.T) {
	for _, tc := range []struct {
		name       string
		abandoned  int
		err        error
		wantFailed float64
		wantLog    bool
	}{
		{"that finds two counts them failed and says so once", 2, nil, 2, true},
		{"that finds none counts and says nothing", 0, nil, 0, false},
		{"whose query fails is an error for River to retry", 0, errors.New("connection refused"), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{abandoned: tc.abandoned, sweepErr: tc.err}
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			w := newSweepWorker(Options{Store: store, Timeout: 10 * time.Second, Metrics: NewMetrics(reg), Log: slog.New(slog.NewJSONHandler(&logs, nil))})

			err := w.Work(context.Background(), &river.Job[webhook.SweepJob]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}})
			if (err != nil) != (tc.err != nil) {
				t.Fatalf("Work: %v, want an error: %v", err, tc.err != nil)
			}
			if got := counterValue(t, reg, "webhook_deliveries_total", outcomeFailed); got != tc.wantFailed {
				t.Errorf("failed outcomes %v, want %v", got, tc.wantFailed)
			}
			if said := strings.Contains(logs.String(), "never reported"); said != tc.wantLog {
				t.Errorf("logs %q, want the sweep's line: %v", logs.String(), tc.wantLog)
			}
			// The rescuer discards a job no sooner than RescueAfter (25 s
			// for a 10 s attempt); a sweep every as often looks back ten.
			if want := []time.Duration{250 * time.Second}; len(store.swept) != 1 || store.swept[0] != want[0] {
				t.Errorf("swept windows %v, want %v", store.swept, want)
			}
		})
	}
}
