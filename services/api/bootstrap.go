package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

// bootstrapTokenVar names a file holding a token that `migrate up` makes
// sure exists, with every scope, once the schema is current: the first
// token of a stack that has no one yet to run `api token create`
// (compose's secrets/api_token, a Kubernetes Secret). The file is read
// here and never logged; the database gets its hash only.
const bootstrapTokenVar = "BOOTSTRAP_TOKEN_FILE"

// bootstrapTokenName is the name the bootstrap token is stored under; a new
// file replaces the token of that name.
const bootstrapTokenName = "bootstrap"

// readBootstrapToken returns the token in BOOTSTRAP_TOKEN_FILE, "" when the
// variable is unset, or an error naming the variable.
func readBootstrapToken(getenv func(string) string) (string, error) {
	path := getenv(bootstrapTokenVar)
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the file; reading it is the point
	if err != nil {
		return "", &config.Error{Var: bootstrapTokenVar, Msg: "cannot read the file: " + err.Error()}
	}
	token := strings.TrimSpace(string(b))
	if err := auth.Check(token); err != nil {
		return "", &config.Error{Var: bootstrapTokenVar, Msg: "the file " + path + " holds no API token: " + err.Error() + " (compose/init-secrets writes one)"}
	}
	return token, nil
}

func ensureBootstrapToken(ctx context.Context, log *slog.Logger, url, token string) error {
	pool, err := postgres.NewPool(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	result, err := postgres.NewTokenStore(pool).Ensure(ctx, bootstrapTokenName, auth.Scopes(auth.AllScopes), auth.HashOf(token))
	if err != nil {
		return err
	}
	switch result {
	case postgres.TokenCreated:
		log.Info("bootstrap token stored; any older bootstrap token is revoked", "name", bootstrapTokenName)
	case postgres.TokenPresent:
		log.Info("bootstrap token already present", "name", bootstrapTokenName)
	case postgres.TokenRevoked:
		log.Warn("the bootstrap token in "+bootstrapTokenVar+" was revoked and stays so; write a new one (compose/init-secrets --rotate-token)", "name", bootstrapTokenName)
	}
	return nil
}
