package processtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestOutputKeepsEveryLineOfWritersRunningAtOnce(t *testing.T) {
	var out Output
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				if _, err := fmt.Fprintf(&out, "writer %d line %d\n", i, j); err != nil {
					t.Error(err)
				}
				_ = out.String() // a test reading while the program writes
			}
		})
	}
	wg.Wait()
	if lines := strings.Count(out.String(), "\n"); lines != 800 {
		t.Fatalf("%d lines, want 800", lines)
	}
}

func TestEnvReadsOnlyItsMap(t *testing.T) {
	t.Setenv("PORT", "from the process")
	getenv := Env(map[string]string{"DATABASE_URL": "postgres://x"})
	if got := getenv("DATABASE_URL"); got != "postgres://x" {
		t.Errorf("DATABASE_URL = %q", got)
	}
	if got := getenv("PORT"); got != "" {
		t.Errorf("PORT = %q, want nothing: the process's environment is not read", got)
	}
}
