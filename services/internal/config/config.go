// Package config reads a Gantry service's settings from its environment.
// Every value is checked at start-up, and every error names the variable to
// fix, because a service that starts with a bad setting fails later and
// further from the cause.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the serve and migrate configuration.
type Config struct {
	DatabaseURL      Secret
	DatabaseURLVar   string // DATABASE_URL or DATABASE_URL_FILE: where DatabaseURL came from
	Port             int
	AdminPort        int // metrics and probes, for the platform only
	LogLevel         slog.Level
	LogFormat        string // "json" or "text"
	ShutdownTimeout  time.Duration
	ShutdownDelay    time.Duration
	DBConnectTimeout time.Duration
	RequestTimeout   time.Duration
}

// Defaults, chosen for a container: JSON logs for collectors, a shutdown
// that fits inside Docker's and Kubernetes' default grace periods, and a
// start-up wait long enough for a database that boots alongside.
const (
	DefaultPort             = 8080
	DefaultAdminPort        = 9090
	DefaultShutdownTimeout  = 20 * time.Second
	DefaultDBConnectTimeout = 60 * time.Second
	DefaultRequestTimeout   = 10 * time.Second
)

// Error is a configuration error about one variable.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// Load reads every setting and reports every bad one, joined on one line.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	url, urlVar := p.databaseURL()
	c := Config{
		DatabaseURL:      url,
		DatabaseURLVar:   urlVar,
		Port:             p.port("PORT", DefaultPort),
		AdminPort:        p.port("ADMIN_PORT", DefaultAdminPort),
		LogLevel:         p.logLevel(),
		LogFormat:        p.oneOf("LOG_FORMAT", "json", "json", "text"),
		ShutdownTimeout:  p.duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, false),
		ShutdownDelay:    p.duration("SHUTDOWN_DELAY", 0, true),
		DBConnectTimeout: p.duration("DB_CONNECT_TIMEOUT", DefaultDBConnectTimeout, false),
		RequestTimeout:   p.duration("REQUEST_TIMEOUT", DefaultRequestTimeout, false),
	}
	if c.Port != 0 && c.Port == c.AdminPort {
		p.fail("ADMIN_PORT", "must differ from PORT (both are %d): metrics stay off the port users are given", c.Port)
	}
	return c, p.err()
}

// LoadAdminPort reads ADMIN_PORT alone, for a healthcheck of the admin
// listener.
func LoadAdminPort(getenv func(string) string) (int, error) {
	p := parser{getenv: getenv}
	port := p.port("ADMIN_PORT", DefaultAdminPort)
	return port, p.err()
}

// LoadPort reads PORT alone, for the healthcheck, which must not need the
// database secret.
func LoadPort(getenv func(string) string) (int, error) {
	p := parser{getenv: getenv}
	port := p.port("PORT", DefaultPort)
	return port, p.err()
}

// parser collects errors so one run reports every bad variable.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, &Error{Var: name, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(p.errs))
	for i, e := range p.errs {
		msgs[i] = e.Error()
	}
	return &joined{errs: p.errs, msg: "invalid configuration: " + strings.Join(msgs, "; ")}
}

// joined keeps the one-line message while errors.As still finds each *Error.
type joined struct {
	errs []error
	msg  string
}

func (j *joined) Error() string   { return j.msg }
func (j *joined) Unwrap() []error { return j.errs }

func (p *parser) port(name string, def int) int {
	s := p.getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		p.fail(name, "must be a port number from 1 to 65535, got %q", s)
		return 0
	}
	return n
}

func (p *parser) logLevel() slog.Level {
	s := p.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	var l slog.Level
	_ = l.UnmarshalText([]byte(s)) // oneOf has already vetted s
	return l
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	s := strings.ToLower(strings.TrimSpace(p.getenv(name)))
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), p.getenv(name))
	return def
}

// duration reads a positive duration, or with zeroOK also 0s: a pause
// that is off by default.
func (p *parser) duration(name string, def time.Duration, zeroOK bool) time.Duration {
	s := p.getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	switch {
	case zeroOK && (err != nil || d < 0):
		p.fail(name, "must be a duration such as 5s, or 0s for none, got %q", s)
		return def
	case !zeroOK && (err != nil || d <= 0):
		p.fail(name, "must be a positive duration such as 30s or 1m, got %q", s)
		return def
	}
	return d
}

// databaseURL prefers DATABASE_URL_FILE, the way Docker and Kubernetes hand
// over secrets, and strips the trailing newline editors add. It returns the
// URL and the variable it came from, so later errors can name that one.
func (p *parser) databaseURL() (Secret, string) {
	if path := p.getenv("DATABASE_URL_FILE"); path != "" {
		const name = "DATABASE_URL_FILE"
		b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the file; reading it is the point
		if err != nil {
			p.fail(name, "cannot read the file: %v", err)
			return "", name
		}
		s := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(s) == "" {
			p.fail(name, "the file %s is empty", path)
			return "", name
		}
		return p.checkURL(name, s), name
	}
	const name = "DATABASE_URL"
	s := p.getenv(name)
	if s == "" {
		p.fail(name, "is not set; set DATABASE_URL, or DATABASE_URL_FILE to a file holding it")
		return "", name
	}
	return p.checkURL(name, s), name
}

func (p *parser) checkURL(name, s string) Secret {
	if err := validURL(s); err != nil {
		p.fail(name, "%v", err)
		return ""
	}
	return Secret(s)
}
