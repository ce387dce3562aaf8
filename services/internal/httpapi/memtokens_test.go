package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/services/internal/auth"
)

// memTokens is an in-memory TokenStore that counts what it is asked, so a
// test can see whether a request cost a lookup. The real one is tested
// against PostgreSQL in package postgres and end to end in services/api.
type memTokens struct {
	mu      sync.Mutex
	byHash  map[auth.Hash]auth.Token
	lookups int
	touches []int64
	failing error // when set, Lookup returns it
}

func newMemTokens() *memTokens { return &memTokens{byHash: map[auth.Hash]auth.Token{}} }

// issue stores a new token and returns its secret.
func (m *memTokens) issue(tok auth.Token) string {
	secret, err := auth.NewToken()
	if err != nil {
		panic(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tok.ID = int64(len(m.byHash) + 1)
	m.byHash[auth.HashOf(secret)] = tok
	return secret
}

func (m *memTokens) revoke(secret string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tok := m.byHash[auth.HashOf(secret)]
	now := time.Now()
	tok.RevokedAt = &now
	m.byHash[auth.HashOf(secret)] = tok
}

func (m *memTokens) Lookup(_ context.Context, h auth.Hash) (auth.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	if m.failing != nil {
		return auth.Token{}, m.failing
	}
	tok, ok := m.byHash[h]
	if !ok {
		return auth.Token{}, auth.ErrUnknownToken
	}
	return tok, nil
}

func (m *memTokens) Touch(_ context.Context, id int64, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.touches = append(m.touches, id)
	return nil
}

func (m *memTokens) counts() (lookups, touches int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookups, len(m.touches)
}
