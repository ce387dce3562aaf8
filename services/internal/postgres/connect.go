package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultConnectTimeout bounds one connection attempt when the URL sets no
// connect_timeout; pgx would otherwise wait two minutes on a black-holed host.
const defaultConnectTimeout = 5 * time.Second

// ParseConfig parses a libpq URL or keyword string, pool_* settings included.
// Its errors never repeat the password.
func ParseConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	return cfg, nil
}

// NewPool returns a pool that has not connected yet: pgxpool connects lazily,
// so callers wait for the database with Retry and the pool's Ping.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	return NewPoolSized(ctx, url, 0)
}

// NewPoolSized is NewPool with at most maxConns connections, unless the
// URL sets pool_max_conns itself (either form of it) or maxConns is 0,
// which leaves pgx's default: the larger of 4 and the number of CPUs.
func NewPoolSized(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 && !strings.Contains(url, "pool_max_conns=") {
		cfg.MaxConns = maxConns
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}
