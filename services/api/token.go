package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/config"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/process"
)

//nolint:gosec // G101: the usage text, not a credential
const tokenUsage = `usage:
  api token create --name NAME --scopes SCOPE[,SCOPE...] [--expires-in DURATION]
  api token list [-json]
  api token revoke ID|NAME
scopes: tasks:read, tasks:write, webhooks:manage, or all`

// tokenCmd manages API tokens. There is no HTTP endpoint for this on
// purpose: whoever holds the database URL may mint tokens, nobody else.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return tokenUsageError("token needs a subcommand: create, list or revoke")
	}
	run, err := parseTokenArgs(args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr).With("component", "token")
	pool, err := postgres.NewPool(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return &config.Error{Var: cfg.DatabaseURLVar, Msg: "is not a valid PostgreSQL connection string: " + err.Error()}
	}
	defer pool.Close()
	if err := process.Retry(ctx, log, cfg.DBConnectTimeout, "connect to database", pool.Ping); err != nil {
		return err
	}
	return run(ctx, postgres.NewTokenStore(pool), stdout, stderr)
}

func tokenUsageError(msg string) error { return process.UsageError{Msg: msg, Usage: tokenUsage} }

type tokenOp func(ctx context.Context, s *postgres.TokenStore, stdout, stderr io.Writer) error

func parseTokenArgs(args []string) (tokenOp, error) {
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bad := func(err error) error { return tokenUsageError(fmt.Sprintf("token %s: %v", args[0], err)) }
	switch args[0] {
	case "create":
		name := fs.String("name", "", "")
		scopes := fs.String("scopes", "", "")
		expiresIn := fs.Duration("expires-in", 0, "")
		if err := fs.Parse(args[1:]); err != nil {
			return nil, bad(err)
		}
		return parseCreate(*name, *scopes, *expiresIn, fs.Args(), bad)
	case "list":
		asJSON := fs.Bool("json", false, "")
		if err := fs.Parse(args[1:]); err != nil {
			return nil, bad(err)
		}
		if fs.NArg() > 0 {
			return nil, bad(errors.New("takes no arguments"))
		}
		return tokenList(*asJSON), nil
	case "revoke":
		if len(args) != 2 || strings.HasPrefix(args[1], "-") {
			return nil, bad(errors.New("takes one token ID or name"))
		}
		return tokenRevoke(args[1]), nil
	}
	return nil, tokenUsageError(fmt.Sprintf("unknown token subcommand %q", args[0]))
}

func parseCreate(name, scopeList string, expiresIn time.Duration, rest []string, bad func(error) error) (tokenOp, error) {
	switch {
	case len(rest) > 0:
		return nil, bad(fmt.Errorf("unexpected argument %q", rest[0]))
	case name == "":
		return nil, bad(errors.New("--name is required"))
	case expiresIn < 0:
		return nil, bad(errors.New("--expires-in must be positive, such as 720h"))
	}
	scopes, err := auth.ParseScopes(scopeList)
	if err != nil {
		return nil, bad(fmt.Errorf("--scopes: %w", err))
	}
	return func(ctx context.Context, s *postgres.TokenStore, stdout, stderr io.Writer) error {
		var expires *time.Time
		if expiresIn > 0 {
			at := time.Now().Add(expiresIn)
			expires = &at
		}
		tok, secret, err := s.Create(ctx, name, scopes, expires)
		if err != nil {
			return err
		}
		// stdout holds the token alone, so $(api token create ...) is it.
		if _, err := fmt.Fprintln(stdout, secret); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stderr, "created token %d %q with %s, %s; it is shown this once and stored only as a hash\n",
			tok.ID, tok.Name, tok.Scopes, expiry(tok))
		return err
	}, nil
}

func expiry(t auth.Token) string {
	if t.ExpiresAt == nil {
		return "never expiring"
	}
	return "expiring " + t.ExpiresAt.UTC().Format(time.RFC3339)
}

// tokenJSON is a token in `api token list -json`: never the secret, which
// the database does not have.
type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func tokenList(asJSON bool) tokenOp {
	return func(ctx context.Context, s *postgres.TokenStore, stdout, _ io.Writer) error {
		tokens, err := s.List(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]tokenJSON, len(tokens))
			for i, t := range tokens {
				out[i] = tokenJSON{t.ID, t.Name, strings.Split(t.Scopes.String(), ","), t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		return writeTokenTable(stdout, tokens, time.Now())
	}
}

func writeTokenTable(w io.Writer, tokens []auth.Token, now time.Time) error {
	// The tabwriter buffers until Flush, whose error is returned; its
	// writes before that fail only with it.
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, t := range tokens {
		status := "live"
		switch {
		case t.RevokedAt != nil:
			status = "revoked " + day(t.RevokedAt)
		case !t.Usable(now):
			status = "expired"
		}
		_, _ = fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scopes, day(&t.CreatedAt), day(t.ExpiresAt), day(t.LastUsedAt), status)
	}
	return tw.Flush()
}

func day(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func tokenRevoke(ref string) tokenOp {
	return func(ctx context.Context, s *postgres.TokenStore, stdout, _ io.Writer) error {
		t, err := s.Revoke(ctx, ref)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "revoked token %d %q; every API replica refuses it within a second\n", t.ID, t.Name)
		return err
	}
}
