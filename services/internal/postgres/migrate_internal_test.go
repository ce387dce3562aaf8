package postgres

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
)

// golang-migrate answers nil both when it finished and when a shutdown
// signal stopped it between migrations, so only the schema version tells
// the two apart. The signal is delivered before the run starts, which is
// the one moment a test can choose; finishing and stopping then depend on
// whether anything was left to do.
func TestAShutdownSignalIsAFailureOnlyWhenItLeftMigrationsUndone(t *testing.T) {
	t.Parallel()
	latest := LatestVersion()
	tests := []struct {
		name     string
		migrated bool
		do       func(*Migrator) error
		stopped  bool
		version  uint
	}{
		{"a signal once every migration is applied is success", true,
			(*Migrator).Up, false, latest},
		{"a signal before the first migration stops up and says how to finish", false,
			(*Migrator).Up, true, 0},
		{"a signal before down reverts nothing and says how to finish", true,
			func(m *Migrator) error { _, err := m.Down(1); return err }, true, latest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.DB(t)
			if tt.migrated {
				if err := openForTest(t, context.Background(), url).Up(); err != nil {
					t.Fatal(err)
				}
			}
			m := signalled(t, url)
			err := tt.do(m)
			if got := err != nil && strings.Contains(err.Error(), "stopped"); got != tt.stopped {
				t.Fatalf("reported as stopped = %v, want %v: %v", got, tt.stopped, err)
			}
			if tt.stopped && !strings.Contains(err.Error(), "api migrate") {
				t.Errorf("the message does not say how to finish: %v", err)
			}
			if v, dirty, err := m.Version(); err != nil || dirty || v != tt.version {
				t.Fatalf("version %d dirty %v err %v, want %d clean", v, dirty, err, tt.version)
			}
		})
	}
}

// signalled returns a migrator whose shutdown signal has already arrived.
func signalled(t *testing.T, url string) *Migrator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := openForTest(t, ctx, url)
	cancel()
	// The signal reaches golang-migrate from another goroutine; wait for it
	// so the run cannot start first.
	for deadline := time.Now().Add(5 * time.Second); len(m.m.GracefulStop) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stop signal never reached golang-migrate")
		}
	}
	return m
}

func openForTest(t *testing.T, ctx context.Context, url string) *Migrator {
	t.Helper()
	m, err := OpenMigrator(ctx, slog.New(slog.DiscardHandler), url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}
