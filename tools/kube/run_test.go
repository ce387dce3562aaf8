package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestMistakesInTheCommandLineExitWithTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command given"},
		{"an unknown command", []string{"start"}, `unknown command "start"`},
		{"validate without manifests", []string{"validate"}, "validate needs -f FILE or -k DIR"},
		{"validate with a stray argument", []string{"validate", "-f", "x.yaml", "y.yaml"}, "validate needs -f FILE or -k DIR, and nothing else"},
		{"up with arguments", []string{"up", "now"}, "up takes no arguments"},
		{"import without an image", []string{"import"}, "import needs an IMAGE"},
		{"run without a command", []string{"run", "-import", "gantry/api:latest"}, "run needs a COMMAND after --"},
		{"host without a file", []string{"host", "save"}, "host needs save FILE or diff FILE"},
		{"pin with an argument", []string{"pin", "push.log"}, "pin reads the push's output on stdin"},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"kube"}, tt.args...), func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
			if !errors.As(err, new(usageError)) || exitCode(err) != 2 || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v (exit %d), want a usage error starting %q", err, exitCode(err), tt.want)
			}
		})
	}
}
