package config

import (
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// Secret is a connection string that holds a password. It prints and logs
// with the password masked, so passing it to a logger by mistake is safe.
type Secret string

// Reveal returns the connection string itself, for the database driver only.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string { return Redact(string(s)) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var keywordPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(\\.|[^'])*'|\S+)`)

// Redact masks the password of a URL (in the user info or a password query
// parameter) or of a keyword/value string. What it cannot parse it hides
// entirely: better an unhelpful log line than a leaked password.
func Redact(conn string) string {
	if !isURL(conn) {
		return keywordPassword.ReplaceAllString(conn, "${1}xxxxx")
	}
	u, err := url.Parse(conn)
	if err != nil {
		return "(unparsable connection URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// validURL catches the usual mistake early: a password with special
// characters that were not percent-encoded. The message never quotes s.
func validURL(s string) error {
	if !isURL(s) {
		if !strings.Contains(s, "=") {
			return errors.New("must be a postgres:// URL or a keyword/value string such as \"host=db user=app\"")
		}
		return nil
	}
	if _, err := url.Parse(s); err != nil {
		return errors.New("is not a valid URL; percent-encode special characters in the user name and password (@ as %40, # as %23, / as %2F, space as %20)")
	}
	return nil
}
