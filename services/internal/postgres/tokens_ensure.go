package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/services/internal/auth"
)

// EnsureResult says what Ensure found and did.
type EnsureResult int

// What Ensure can report.
const (
	TokenPresent EnsureResult = iota // the token exists and is live: nothing to do
	TokenCreated                     // it was stored; an older token of that name was revoked
	TokenRevoked                     // it exists but was revoked: left so, a person did that
)

// Serialises Ensure across replicas: the check and the insert must not
// interleave.
const ensureLockKey = "gantry.api_tokens.ensure"

const (
	sqlEnsureLock     = `SELECT pg_advisory_xact_lock(hashtext($1))`
	sqlTokenRevokedAt = `SELECT revoked_at IS NOT NULL FROM api_tokens WHERE hash = $1`
	sqlRevokeLive     = `UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`
	sqlInsertToken    = `INSERT INTO api_tokens (name, hash, scopes) VALUES ($1, $2, $3)` //nolint:gosec // G101: a statement, not a credential
)

// Ensure makes sure a live token with this hash exists under name, for a
// stack whose first token arrives as a file (compose's secrets/api_token).
// It is idempotent and safe to run from many replicas at once. A new hash
// replaces the live token of that name (the file was rotated); a revoked
// one stays revoked.
func (s *TokenStore) Ensure(ctx context.Context, name string, scopes auth.Scopes, hash auth.Hash) (EnsureResult, error) {
	var result EnsureResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sqlEnsureLock, ensureLockKey); err != nil {
			return err
		}
		var revoked bool
		err := tx.QueryRow(ctx, sqlTokenRevokedAt, hash[:]).Scan(&revoked)
		switch {
		case err == nil && revoked:
			result = TokenRevoked
			return nil
		case err == nil:
			result = TokenPresent
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := tx.Exec(ctx, sqlRevokeLive, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlInsertToken, name, hash[:], scopeNames(scopes)); err != nil {
			return tokenWriteError(err, name)
		}
		result = TokenCreated
		return nil
	})
	return result, classifyDB(err, "ensure token")
}
