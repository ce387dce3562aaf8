package process

import (
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/processtest"
)

func TestLogBufferDeliversLinesWithinAFlushIntervalAndAllAtClose(t *testing.T) {
	var out processtest.Output
	b := NewLogBuffer(&out)
	if _, err := b.Write([]byte("first\n")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "" {
		t.Fatal("a line was written through at once: nothing is buffered")
	}
	deadline := time.Now().Add(5 * flushEvery)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if out.String() != "first\n" {
		t.Fatalf("after %s: %q", 5*flushEvery, out.String())
	}
	if _, err := b.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if !strings.HasSuffix(out.String(), "last\n") {
		t.Fatalf("Close lost a line: %q", out.String())
	}
}
