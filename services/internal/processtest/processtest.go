// Package processtest helps a test run a service's program in-process, as
// each main's run(ctx, args, getenv, stdout, stderr) allows: output the
// test reads while the program still writes, and an environment of the
// test's own.
package processtest

import (
	"bytes"
	"sync"
)

// Output is a bytes.Buffer that the program and the test may use at the
// same time.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Env is a getenv that reads m instead of the process's environment.
func Env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
