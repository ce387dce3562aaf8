package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

const goodURL = "postgres://app:secret@db:5432/app?sslmode=disable"

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env("DATABASE_URL", goodURL))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{DatabaseURL: goodURL, DatabaseURLVar: "DATABASE_URL", Port: 8080, AdminPort: 9090, LogLevel: slog.LevelInfo, LogFormat: "json",
		ShutdownTimeout: 20 * time.Second, DBConnectTimeout: 60 * time.Second, RequestTimeout: 10 * time.Second}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		vars []string
	}{
		{"no database URL at all", nil, []string{"DATABASE_URL"}},
		{"a port that is not a number", []string{"DATABASE_URL", goodURL, "PORT", "http"}, []string{"PORT"}},
		{"a port out of range", []string{"DATABASE_URL", goodURL, "PORT", "70000"}, []string{"PORT"}},
		{"an admin port that is not a number", []string{"DATABASE_URL", goodURL, "ADMIN_PORT", "metrics"}, []string{"ADMIN_PORT"}},
		{"an admin port equal to the port, which would publish the metrics", []string{"DATABASE_URL", goodURL, "PORT", "9000", "ADMIN_PORT", "9000"}, []string{"ADMIN_PORT"}},
		{"an unknown log level", []string{"DATABASE_URL", goodURL, "LOG_LEVEL", "verbose"}, []string{"LOG_LEVEL"}},
		{"an unknown log format", []string{"DATABASE_URL", goodURL, "LOG_FORMAT", "xml"}, []string{"LOG_FORMAT"}},
		{"a duration without a unit", []string{"DATABASE_URL", goodURL, "SHUTDOWN_TIMEOUT", "30"}, []string{"SHUTDOWN_TIMEOUT"}},
		{"a negative duration", []string{"DATABASE_URL", goodURL, "DB_CONNECT_TIMEOUT", "-1s"}, []string{"DB_CONNECT_TIMEOUT"}},
		{"a zero request timeout", []string{"DATABASE_URL", goodURL, "REQUEST_TIMEOUT", "0s"}, []string{"REQUEST_TIMEOUT"}},
		{"a negative shutdown delay", []string{"DATABASE_URL", goodURL, "SHUTDOWN_DELAY", "-5s"}, []string{"SHUTDOWN_DELAY"}},
		{"a shutdown delay without a unit", []string{"DATABASE_URL", goodURL, "SHUTDOWN_DELAY", "5"}, []string{"SHUTDOWN_DELAY"}},
		{"an unencoded # in the password", []string{"DATABASE_URL", "postgres://app:pa#ss@db/app"}, []string{"DATABASE_URL"}},
		{"a missing URL file", []string{"DATABASE_URL_FILE", "/nonexistent/db_url"}, []string{"DATABASE_URL_FILE"}},
		{"two bad variables at once", []string{"PORT", "x", "LOG_LEVEL", "loud"}, []string{"DATABASE_URL", "PORT", "LOG_LEVEL"}},
	}
	for _, tt := range tests {
		t.Run("reports "+tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env...))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			for _, v := range tt.vars {
				if !strings.Contains(msg, v+":") {
					t.Errorf("message %q does not name %s", msg, v)
				}
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("errors.As cannot find a *config.Error")
			}
			if strings.Contains(msg, "pa#ss") || strings.Contains(msg, "secret") {
				t.Errorf("message leaks the password: %q", msg)
			}
		})
	}
}

func TestTheURLFileWinsAndItsTrailingNewlineIsIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db_url")
	fromFile := `postgres://app:p%40ss%20w0rd%24%21%23%27%22@db/app`
	if err := os.WriteFile(path, []byte(fromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env("DATABASE_URL", goodURL, "DATABASE_URL_FILE", path))
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL.Reveal() != fromFile {
		t.Fatalf("got %q", c.DatabaseURL.Reveal())
	}
	if c.DatabaseURLVar != "DATABASE_URL_FILE" {
		t.Errorf("DatabaseURLVar = %q, want DATABASE_URL_FILE", c.DatabaseURLVar)
	}
}

func TestAShutdownDelayOfZeroOrMoreIsAccepted(t *testing.T) {
	for _, v := range []string{"0s", "5s"} {
		t.Run("accepts "+v, func(t *testing.T) {
			c, err := Load(env("DATABASE_URL", goodURL, "SHUTDOWN_DELAY", v))
			want, _ := time.ParseDuration(v)
			if err != nil || c.ShutdownDelay != want {
				t.Fatalf("ShutdownDelay = %v, %v; want %v", c.ShutdownDelay, err, want)
			}
		})
	}
}

func TestAnEmptyURLFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db_url")
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(env("DATABASE_URL_FILE", path)); err == nil || !strings.Contains(err.Error(), "DATABASE_URL_FILE: the file") {
		t.Fatalf("err %v", err)
	}
}

func TestRedactHidesEveryFormOfPassword(t *testing.T) {
	tests := []struct{ name, in, secret string }{
		{"URL user info", "postgres://app:hunter2@db/app", "hunter2"},
		{"percent-encoded specials", "postgres://app:p%40ss%20w%24rd@db/app", "p%40ss"},
		{"a password query parameter", "postgres://app@db/app?password=hunter2&sslmode=disable", "hunter2"},
		{"keyword form", "host=db user=app password=hunter2 dbname=app", "hunter2"},
		{"quoted keyword form", `host=db password='hun ter2' dbname=app`, "hun ter2"},
		{"an unparsable URL", "postgres://app:pa ss@db:x/app", "pa ss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if strings.Contains(got, tt.secret) {
				t.Fatalf("Redact(%q) = %q still shows the password", tt.in, got)
			}
			s := Secret(tt.in)
			if strings.Contains(s.String(), tt.secret) || strings.Contains(s.LogValue().String(), tt.secret) {
				t.Fatal("Secret prints its password")
			}
		})
	}
}

func TestLoadPortIgnoresTheDatabaseSettings(t *testing.T) {
	p, err := LoadPort(env("PORT", "9090"))
	if err != nil || p != 9090 {
		t.Fatalf("%d %v", p, err)
	}
}
