package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/auth"
)

// TokenStore keeps API tokens: their hashes, never the tokens.
type TokenStore struct {
	pool *pgxpool.Pool
}

// NewTokenStore returns a TokenStore on pool; it does not own the pool.
func NewTokenStore(pool *pgxpool.Pool) *TokenStore { return &TokenStore{pool: pool} }

const tokenColumns = `id, name, scopes, created_at, expires_at, last_used_at, revoked_at` //nolint:gosec // G101: column names, not a credential

const sqlCreateToken = `
INSERT INTO api_tokens (name, hash, scopes, expires_at)
VALUES ($1, $2, $3, $4)
RETURNING ` + tokenColumns

// Create makes a token and stores its hash. The token is returned this
// once; nothing can show it again.
func (s *TokenStore) Create(ctx context.Context, name string, scopes auth.Scopes, expiresAt *time.Time) (auth.Token, string, error) {
	secret, err := auth.NewToken()
	if err != nil {
		return auth.Token{}, "", err
	}
	hash := auth.HashOf(secret)
	t, err := scanToken(s.pool.QueryRow(ctx, sqlCreateToken, name, hash[:], scopeNames(scopes), expiresAt))
	if err != nil {
		return auth.Token{}, "", tokenWriteError(err, name)
	}
	return t, secret, nil
}

// tokenWriteError says in words which rule a name broke.
func tokenWriteError(err error, name string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("a live token is already named %q; revoke it first (api token revoke %s) or choose another name", name, name)
		case "23514":
			return fmt.Errorf("token name %q is not allowed: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit, and not only digits", name)
		}
	}
	return classifyDB(err, "create token")
}

const sqlListTokens = `SELECT ` + tokenColumns + ` FROM api_tokens ORDER BY id`

// List returns every token, revoked ones included, oldest first.
func (s *TokenStore) List(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.pool.Query(ctx, sqlListTokens)
	if err != nil {
		return nil, classifyDB(err, "list tokens")
	}
	tokens, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Token, error) { return scanToken(r) })
	return tokens, classifyDB(err, "list tokens")
}

const (
	sqlRevokeByID   = `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ` + tokenColumns
	sqlRevokeByName = `UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING ` + tokenColumns
	sqlTokenByID    = `SELECT ` + tokenColumns + ` FROM api_tokens WHERE id = $1`
)

// Revoke revokes the live token whose ID (all digits) or name is ref. The
// API replicas hear of it at once (the api_tokens_changed trigger).
func (s *TokenStore) Revoke(ctx context.Context, ref string) (auth.Token, error) {
	id, err := strconv.ParseInt(ref, 10, 64)
	byID := err == nil
	var row pgx.Row
	if byID {
		row = s.pool.QueryRow(ctx, sqlRevokeByID, id)
	} else {
		row = s.pool.QueryRow(ctx, sqlRevokeByName, ref)
	}
	t, err := scanToken(row)
	switch {
	case err == nil:
		return t, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return auth.Token{}, classifyDB(err, "revoke token")
	case !byID:
		return auth.Token{}, fmt.Errorf("no live token is named %q (api token list shows them)", ref)
	}
	old, err := scanToken(s.pool.QueryRow(ctx, sqlTokenByID, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return auth.Token{}, fmt.Errorf("there is no token %d (api token list shows them)", id)
	case err != nil:
		return auth.Token{}, classifyDB(err, "revoke token")
	}
	return auth.Token{}, fmt.Errorf("token %d (%s) was already revoked at %s", id, old.Name, old.RevokedAt.UTC().Format(time.RFC3339))
}

const sqlTokenByHash = `SELECT ` + tokenColumns + ` FROM api_tokens WHERE hash = $1`

// Lookup finds the token with this hash, revoked or not, or returns
// auth.ErrUnknownToken.
func (s *TokenStore) Lookup(ctx context.Context, hash auth.Hash) (auth.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, sqlTokenByHash, hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Token{}, auth.ErrUnknownToken
	}
	return t, classifyDB(err, "look up token")
}

// The guard makes "at most once a minute per token" hold across replicas,
// not only within one.
//
//nolint:gosec // G101: a statement, not a credential
const sqlTouchToken = `
UPDATE api_tokens SET last_used_at = $2::timestamptz
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`

// Touch records that token id was used at.
func (s *TokenStore) Touch(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, sqlTouchToken, id, at)
	return classifyDB(err, "record token use")
}

func scanToken(row pgx.Row) (auth.Token, error) {
	var (
		t      auth.Token
		scopes []string
	)
	if err := row.Scan(&t.ID, &t.Name, &scopes, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
		return auth.Token{}, err
	}
	t.Scopes = make(auth.Scopes, len(scopes))
	for i, s := range scopes {
		t.Scopes[i] = auth.Scope(s)
	}
	return t, nil
}

func scopeNames(s auth.Scopes) []string {
	names := make([]string, len(s))
	for i, sc := range s {
		names[i] = string(sc)
	}
	return names
}
