package e2e

import (
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
			if out, err := runInitSecrets(t, dir, pw); err != nil {
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
		if out, err := runInitSecrets(t, dir, pw, args...); err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
	}
	run("first")
	token := readFile(t, filepath.Join(dir, "api_token"))
	run("second")
	if got := readFile(t, filepath.Join(dir, "db_password")); got != "first\n" {
		t.Fatalf("a second run replaced the password: %q", got)
	}
	if readFile(t, filepath.Join(dir, "api_token")) != token {
		t.Fatal("a second run replaced the API token")
	}
	run("third", "--force")
	if got := readFile(t, filepath.Join(dir, "db_password")); got != "third\n" {
		t.Fatalf("--force did not replace it: %q", got)
	}
	if readFile(t, filepath.Join(dir, "api_token")) == token {
		t.Fatal("--force kept the API token")
	}
}

// The API token is the one secret that can change under a running stack:
// the database keeps only its hash, which the next `migrate up` replaces.
func TestInitSecretsWritesAnAPITokenAndRotatesItAlone(t *testing.T) {
	t.Run("it sits beside the others with their modes and is never printed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "secrets")
		out, err := runInitSecrets(t, dir, "")
		if err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
		token := strings.TrimSuffix(readFile(t, filepath.Join(dir, "api_token")), "\n")
		if !tokenShape.MatchString(token) {
			t.Fatalf("api_token holds %q, not gantry_ and 49 letters and digits", token)
		}
		if strings.Contains(out, token[len("gantry_"):]) {
			t.Fatalf("init-secrets printed the token: %s", out)
		}
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "api_token"): 0o644, filepath.Join(dir, "db_password"): 0o644} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
			}
		}
	})
	t.Run("--rotate-token writes a new token and keeps the password and URL", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "secrets")
		if out, err := runInitSecrets(t, dir, Password); err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
		before := secretFiles(t, dir)
		out, err := runInitSecrets(t, dir, "ignored", "--rotate-token")
		if err != nil {
			t.Fatalf("init-secrets --rotate-token: %v\n%s", err, out)
		}
		after := secretFiles(t, dir)
		if after["db_password"] != before["db_password"] || after["database_url"] != before["database_url"] {
			t.Error("--rotate-token changed the password or the URL")
		}
		if after["api_token"] == before["api_token"] || !tokenShape.MatchString(strings.TrimSpace(after["api_token"])) {
			t.Errorf("--rotate-token wrote %q after %q", after["api_token"], before["api_token"])
		}
		if strings.Contains(out, strings.TrimSpace(after["api_token"])[len("gantry_"):]) {
			t.Fatalf("--rotate-token printed the token: %s", out)
		}
	})
	t.Run("a lost token is written anew and the password kept", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "secrets")
		if out, err := runInitSecrets(t, dir, Password); err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
		before := secretFiles(t, dir)
		if err := os.Remove(filepath.Join(dir, "api_token")); err != nil {
			t.Fatal(err)
		}
		if out, err := runInitSecrets(t, dir, "other"); err != nil {
			t.Fatalf("init-secrets: %v\n%s", err, out)
		}
		after := secretFiles(t, dir)
		if after["db_password"] != before["db_password"] || after["database_url"] != before["database_url"] {
			t.Error("the password or the URL changed")
		}
		if !tokenShape.MatchString(strings.TrimSpace(after["api_token"])) || after["api_token"] == before["api_token"] {
			t.Errorf("api_token is %q", after["api_token"])
		}
	})
	t.Run("an unknown argument or both flags are refused in one line", func(t *testing.T) {
		for _, args := range [][]string{{"--rotate"}, {"--force", "--rotate-token"}} {
			dir := filepath.Join(t.TempDir(), "secrets")
			out, err := runInitSecrets(t, dir, "", args...)
			if code := exitCode(err); code != 2 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "--rotate-token") {
				t.Errorf("init-secrets %v: exit %d, output %q; want 2 and one line naming the flags", args, code, out)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("init-secrets %v wrote %s anyway", args, dir)
			}
		}
	})
}

// tokenShape is the API token's format as far as this package can see it:
// the checksum is services/internal/auth's to check, and its test runs
// this script hundreds of times through auth.Check.
var tokenShape = regexp.MustCompile(`^gantry_[0-9A-Za-z]{49}$`)

func runInitSecrets(t *testing.T, dir, password string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "compose", "init-secrets"), args...)
	cmd.Env = append(os.Environ(), "GANTRY_SECRETS_DIR="+dir, "GANTRY_DB_PASSWORD="+password)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func secretFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{"db_password", "database_url", "api_token"} {
		files[name] = readFile(t, filepath.Join(dir, name))
	}
	return files
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestInitSecretsWithOnlyOneFileLeft(t *testing.T) {
	initSecrets := func(dir string) (string, error) { return runInitSecrets(t, dir, "") }
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
