package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
)

// TokenStore is what authentication needs from the database.
type TokenStore interface {
	Lookup(ctx context.Context, hash auth.Hash) (auth.Token, error)
	Touch(ctx context.Context, id int64, at time.Time) error
}

// touchEvery is how often a token's last_used_at may be written: a busy
// client must not turn every request into a database write.
const touchEvery = time.Minute

// authenticator turns an Authorization header into a token, from the
// cache when it can and the database when it must.
type authenticator struct {
	store TokenStore
	cache *auth.Cache
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	touched map[int64]time.Time // when this replica last wrote each token's use
}

// errNoCredentials is a request without a bearer token at all, which RFC
// 6750 (3.1) answers without an error code; errInvalidToken any token that
// does not authenticate. Which of those it was stays in the log.
var (
	errNoCredentials = errors.New("no bearer token")
	errInvalidToken  = errors.New("invalid token")
)

// authenticate returns the token the request carries if it may be used
// now, or errNoCredentials, or an error wrapping errInvalidToken, or the
// store's error (the database is down: 503, not 401).
func (a *authenticator) authenticate(ctx context.Context, header string) (auth.Token, error) {
	scheme, token, found := strings.Cut(header, " ")
	if header == "" || !found || !strings.EqualFold(scheme, "Bearer") {
		return auth.Token{}, errNoCredentials
	}
	token = strings.TrimSpace(token)
	if err := auth.Check(token); err != nil {
		return auth.Token{}, errors.Join(errInvalidToken, err)
	}
	hash := auth.HashOf(token)
	tok, gen, ok := a.cache.Get(hash)
	if !ok {
		var err error
		if tok, err = a.store.Lookup(ctx, hash); errors.Is(err, auth.ErrUnknownToken) {
			return auth.Token{}, errors.Join(errInvalidToken, err)
		} else if err != nil {
			return auth.Token{}, err
		}
		a.cache.Put(hash, tok, gen)
	}
	now := a.now()
	if !tok.Usable(now) {
		return auth.Token{}, errors.Join(errInvalidToken, errors.New("revoked or expired"))
	}
	a.noteUse(tok.ID, now)
	return tok, nil
}

// noteUse records a use in the database at most once a minute per token,
// in the background: a request never waits for it.
func (a *authenticator) noteUse(id int64, now time.Time) {
	a.mu.Lock()
	due := now.Sub(a.touched[id]) >= touchEvery
	if due {
		a.touched[id] = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.store.Touch(ctx, id, now); err != nil {
			a.log.Warn("could not record a token's use", "token_id", id, "err", err)
		}
	}()
}

// requireScope lets a request through to h only with a usable token that
// grants scope, and names the token in the access log.
func (a *api) requireScope(scope auth.Scope, h http.HandlerFunc) http.HandlerFunc {
	if !authRequired {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := a.auth.authenticate(r.Context(), r.Header.Get("Authorization"))
		switch {
		case errors.Is(err, errNoCredentials):
			challenge(w, r, http.StatusUnauthorized, `Bearer realm="gantry"`, msgUnauthorized)
			return
		case errors.Is(err, errInvalidToken):
			a.log.Debug("token refused", "request_id", w.Header().Get(requestIDKey), "why", err)
			challenge(w, r, http.StatusUnauthorized, `Bearer realm="gantry", error="invalid_token"`, msgUnauthorized)
			return
		case err != nil:
			a.writeError(w, r, err)
			return
		}
		if ex, ok := w.(*exchange); ok {
			ex.tokenID = tok.ID
		}
		if !tok.Scopes.Has(scope) {
			challenge(w, r, http.StatusForbidden, `Bearer realm="gantry", error="insufficient_scope", scope="`+string(scope)+`"`,
				"this token lacks the scope "+string(scope)+" that this request needs")
			return
		}
		h(w, r)
	}
}

const msgUnauthorized = "this request needs a valid API token: send Authorization: Bearer <token>"

// challenge answers with a problem and the RFC 6750 WWW-Authenticate
// header that tells the client what to do about it.
func challenge(w http.ResponseWriter, r *http.Request, status int, header, msg string) {
	w.Header().Set("WWW-Authenticate", header)
	writeProblem(w, r, status, msg)
}
