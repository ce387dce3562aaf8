package postgres_test

import (
	"context"
	"testing"

	"github.com/gantry-dev/gantry/services/internal/postgres"
)

func TestAPoolIsSizedByTheURLFirstThenByItsCaller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		maxConns int32
		want     int32
	}{
		{"a caller's size applies when the URL sets none", "postgres://app@db/app?sslmode=disable", 12, 12},
		{"the URL's pool_max_conns wins over the caller's", "postgres://app@db/app?sslmode=disable&pool_max_conns=3", 12, 3},
		{"so does the keyword form's", "host=db user=app dbname=app pool_max_conns=3", 12, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool, err := postgres.NewPoolSized(context.Background(), tc.url, tc.maxConns)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			if got := pool.Config().MaxConns; got != tc.want {
				t.Errorf("MaxConns %d, want %d", got, tc.want)
			}
		})
	}
}
