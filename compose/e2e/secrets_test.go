package e2e

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// compose/init-secrets needs no Docker, so these run in every `go test`.

func TestInitSecretsWritesThePasswordAndAnEncodedURLThatDecodesToIt(t *testing.T) {
	for _, pw := range []string{"", Password, `ünï $(id) ` + "`x`", "plain"} {
		name := pw
		if pw == "" {
			name = "a random password"
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "secrets")
			cmd := exec.Command(filepath.Join(repoRoot(t), "compose", "init-secrets"))
			cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir, "GANTRY_DB_PASSWORD="+pw)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("init-secrets: %v\n%s", err, out)
			}
			raw := strings.TrimSuffix(readFile(t, filepath.Join(dir, "db_password")), "\n")
			if pw != "" && raw != pw {
				t.Fatalf("db_password holds %q, want %q", raw, pw)
			}
			if pw == "" && len(raw) != 24 {
				t.Fatalf("the random password %q is not 24 characters", raw)
			}
			u, err := url.Parse(strings.TrimSpace(readFile(t, filepath.Join(dir, "database_url"))))
			if err != nil {
				t.Fatalf("database_url does not parse: %v", err)
			}
			if got, _ := u.User.Password(); got != raw || u.Host != "db:5432" || u.User.Username() != "gantry" {
				t.Fatalf("the URL decodes to user %q password %q host %q", u.User.Username(), got, u.Host)
			}
		})
	}
}

func TestInitSecretsKeepsExistingSecretsUnlessForced(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	run := func(pw string, args ...string) {
		cmd := exec.Command(filepath.Join(repoRoot(t), "compose", "init-secrets"), args...)
		cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir, "GANTRY_DB_PASSWORD="+pw)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
	}
	run("first")
	run("second")
	if got := readFile(t, filepath.Join(dir, "db_password")); got != "first\n" {
		t.Fatalf("a second run replaced the password: %q", got)
	}
	run("third", "--force")
	if got := readFile(t, filepath.Join(dir, "db_password")); got != "third\n" {
		t.Fatalf("--force did not replace it: %q", got)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
