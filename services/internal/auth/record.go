package auth

import "time"

// Token is a stored token: everything about it but the secret.
type Token struct {
	ID         int64
	Name       string
	Scopes     Scopes
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never
	LastUsedAt *time.Time // nil: never used; written at most once a minute
	RevokedAt  *time.Time // nil: not revoked
}

// Usable reports whether the token may authenticate a request at now.
func (t Token) Usable(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}
