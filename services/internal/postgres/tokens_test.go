package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/postgres"
)

func tokenStore(t *testing.T) *postgres.TokenStore {
	t.Helper()
	_, pool := migratedStore(t)
	return postgres.NewTokenStore(pool)
}

func mustScopes(t *testing.T, list string) auth.Scopes {
	t.Helper()
	s, err := auth.ParseScopes(list)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenCreateStoresTheHashAndLookupFindsIt(t *testing.T) {
	t.Parallel()
	s := tokenStore(t)
	ctx := context.Background()
	expires := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	created, secret, err := s.Create(ctx, "ci", mustScopes(t, "tasks:read"), &expires)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Check(secret); err != nil {
		t.Fatalf("Create returned %q: %v", secret, err)
	}
	got, err := s.Lookup(ctx, auth.HashOf(secret))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Name != "ci" || got.Scopes.String() != "tasks:read" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) {
		t.Errorf("Lookup = %+v, want the created token %+v", got, created)
	}
	if _, err := s.Lookup(ctx, auth.HashOf(secret+"x")); !errors.Is(err, auth.ErrUnknownToken) {
		t.Errorf("Lookup of another hash = %v, want ErrUnknownToken", err)
	}
}

func TestTokenNamesAreChecked(t *testing.T) {
	t.Parallel()
	s := tokenStore(t)
	ctx := context.Background()
	if _, _, err := s.Create(ctx, "deploy", mustScopes(t, "all"), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, want string
	}{
		{"a second live token of one name is refused", "deploy", `a live token is already named "deploy"`},
		{"a name with a space is refused", "my token", "is not allowed"},
		{"a name of digits only is refused, so revoke by ID stays unambiguous", "42", "not only digits"},
		{"an empty name is refused", "", "is not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Create(ctx, tc.token, mustScopes(t, "tasks:read"), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create(%q) = %v, want an error with %q", tc.token, err, tc.want)
			}
		})
	}
}

func TestTokenRevoke(t *testing.T) {
	t.Parallel()
	s := tokenStore(t)
	ctx := context.Background()
	if _, _, err := s.Create(ctx, "a", mustScopes(t, "tasks:read"), nil); err != nil {
		t.Fatal(err)
	}
	b, secretB, err := s.Create(ctx, "b", mustScopes(t, "tasks:read"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Revoke(ctx, "b"); err != nil || got.ID != b.ID || got.RevokedAt == nil {
		t.Fatalf("Revoke(b) = %+v, %v", got, err)
	}
	if got, err := s.Lookup(ctx, auth.HashOf(secretB)); err != nil || got.Usable(time.Now()) {
		t.Errorf("a revoked token looks up as %+v, %v; want it found and unusable", got, err)
	}
	tests := []struct {
		name, ref, want string
	}{
		{"a token revoked by ID", "1", ""},
		{"the same ID again says when it was revoked", "1", "token 1 (a) was already revoked at"},
		{"an unknown ID says there is none", "999", "there is no token 999"},
		{"a revoked name is no live token", "b", `no live token is named "b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Revoke(ctx, tc.ref)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Revoke(%s) = %v", tc.ref, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Revoke(%s) = %v, want an error with %q", tc.ref, err, tc.want)
			}
		})
	}
	if _, _, err := s.Create(ctx, "b", mustScopes(t, "tasks:read"), nil); err != nil {
		t.Errorf("a revoked token's name cannot be used again: %v", err)
	}
}

func TestTokenTouchWritesAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	s := tokenStore(t)
	ctx := context.Background()
	_, secret, err := s.Create(ctx, "busy", mustScopes(t, "tasks:read"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.Lookup(ctx, auth.HashOf(secret))
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Time
		want time.Time
	}{
		{t0, t0},
		{t0.Add(30 * time.Second), t0},
		{t0.Add(59 * time.Second), t0},
		{t0.Add(time.Minute), t0.Add(time.Minute)},
		{t0.Add(90 * time.Second), t0.Add(time.Minute)},
	}
	for _, st := range steps {
		if err := s.Touch(ctx, tok.ID, st.at); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Lookup(ctx, auth.HashOf(secret))
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(st.want) {
			t.Errorf("after a use at %s, last_used_at = %v, want %s", st.at.Format(time.TimeOnly), got.LastUsedAt, st.want.Format(time.TimeOnly))
		}
	}
}

func TestTokenEnsureIsIdempotentAndReplacesARotatedToken(t *testing.T) {
	t.Parallel()
	s := tokenStore(t)
	ctx := context.Background()
	first, _ := auth.NewToken()
	all := mustScopes(t, "all")

	// Five replicas at once: one stores it, the others find it.
	results := make([]postgres.EnsureResult, 5)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			r, err := s.Ensure(ctx, "bootstrap", all, auth.HashOf(first))
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		if r == postgres.TokenCreated {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("five concurrent Ensures created %d tokens, want 1 (%v)", created, results)
	}

	rotated, _ := auth.NewToken()
	if r, err := s.Ensure(ctx, "bootstrap", all, auth.HashOf(rotated)); err != nil || r != postgres.TokenCreated {
		t.Fatalf("Ensure of a rotated token = %v, %v; want TokenCreated", r, err)
	}
	if old, _ := s.Lookup(ctx, auth.HashOf(first)); old.RevokedAt == nil {
		t.Error("the token the rotation replaced is still live")
	}
	if _, err := s.Revoke(ctx, "bootstrap"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Ensure(ctx, "bootstrap", all, auth.HashOf(rotated)); err != nil || r != postgres.TokenRevoked {
		t.Errorf("Ensure of a revoked token = %v, %v; want TokenRevoked (a person revoked it: it stays so)", r, err)
	}
	if tok, _ := s.Lookup(ctx, auth.HashOf(rotated)); tok.Usable(time.Now()) {
		t.Error("Ensure brought a revoked token back")
	}
}
