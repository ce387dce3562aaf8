package auth

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// compose/init-secrets mints the bootstrap token in bash (the stack has no
// Go on the host to ask): every token it writes must be one Check accepts,
// and its characters must be drawn as NewToken draws them.
func TestComposeInitSecretsWritesTokensThatCheck(t *testing.T) {
	script := filepath.Join(checkoutRoot(t), "compose", "init-secrets")
	dir := filepath.Join(t.TempDir(), "secrets")
	const runs = 300
	seen := map[string]bool{}
	low := 0 // characters '0' to '7', which a plain byte % 62 would favour
	for i := range runs {
		args := []string{"--rotate-token"}
		if i == 0 {
			args = nil // the first run writes every secret, as a fresh clone does
		}
		cmd := exec.Command(script, args...)
		cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("init-secrets %v: %v\n%s", args, err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "api_token"))
		if err != nil {
			t.Fatal(err)
		}
		tok := strings.TrimSuffix(string(b), "\n")
		if err := Check(tok); err != nil {
			t.Fatalf("run %d wrote %q: %v", i, tok, err)
		}
		if strings.Contains(string(out), tok[len(Prefix):]) {
			t.Fatalf("run %d printed the token: %s", i, out)
		}
		if seen[tok] {
			t.Fatalf("run %d wrote a token written before", i)
		}
		seen[tok] = true
		for _, c := range tok[len(Prefix) : len(Prefix)+secretLen] {
			if c >= '0' && c <= '7' {
				low++
			}
		}
	}
	// Without rejection sampling, '0' to '7' would come 5/256 of the time
	// each instead of 1/62: 21% too often. The 12% allowed is five
	// standard deviations of 300 tokens' worth of honest draws.
	want := float64(runs*secretLen) * 8 / 62
	if r := float64(low) / want; r < 0.88 || r > 1.12 {
		t.Errorf("'0' to '7' came %d times, %.2f of the %.0f a uniform draw gives", low, r, want)
	}
}

// checkoutRoot is the repository this test runs in. Under `bazel test`
// there is none, only the test's runfiles, so the test skips saying why.
func checkoutRoot(t *testing.T) string {
	t.Helper()
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("SKIPPING under bazel test: compose/init-secrets is outside the sandbox; `go test ./services/internal/auth/` runs it")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
