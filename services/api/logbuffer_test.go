package main

import (
	"strings"
	"testing"
	"time"
)

func TestLogBufferDeliversLinesWithinAFlushIntervalAndAllAtClose(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out)
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
