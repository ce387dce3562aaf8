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

func TestInitSecretsWithOnlyOneFileLeft(t *testing.T) {
	initSecrets := func(dir string) (string, error) {
		cmd := exec.Command(filepath.Join(repoRoot(t), "compose", "init-secrets"))
		cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir, "GANTRY_DB_PASSWORD=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Run("a missing URL is written from the password that is kept", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "db_password"), []byte(Password+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := initSecrets(dir); err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
		if got := readFile(t, filepath.Join(dir, "db_password")); got != Password+"\n" {
			t.Fatalf("db_password changed to %q", got)
		}
		u, err := url.Parse(strings.TrimSpace(readFile(t, filepath.Join(dir, "database_url"))))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := u.User.Password(); got != Password {
			t.Fatalf("the URL holds password %q, want the kept %q", got, Password)
		}
	})
	t.Run("a URL without its password file is refused, naming the way out", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "database_url"), []byte("postgres://gantry:old@db:5432/gantry\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := initSecrets(dir)
		if err == nil || !strings.Contains(out, "--force") {
			t.Fatalf("init-secrets: err %v, output %q; want a failure naming --force", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "db_password")); err == nil {
			t.Fatal("it wrote a new db_password anyway")
		}
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
