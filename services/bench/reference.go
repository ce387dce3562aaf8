package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/task"
)

// The references are bare servers the API is measured against: the same
// GET by id and JSON on net/http and pgx alone, with no request IDs, logs,
// metrics, ETags, deadlines, body limits or problem details.
//
//   - "store" reads through the API's own postgres.Store, so it runs the
//     same SQL and shares queries between concurrent Gets as the API does:
//     API / store reference is the price of the production features.
//   - "query" runs the store's single-row SELECT once per request, as
//     pgbench does: store / query reference is what sharing queries buys.
const (
	refStore = "store"
	refQuery = "query"
)

// reference serves the reference of the given kind on addr.
func reference(addr, dbURL, kind string) error {
	pool, err := postgres.NewPool(context.Background(), dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var get func(context.Context, task.ID) (refTask, error)
	switch kind {
	case refStore:
		store, err := postgres.NewStore(pool)
		if err != nil {
			return err
		}
		get = func(ctx context.Context, id task.ID) (refTask, error) {
			t, err := store.Get(ctx, id)
			return fromTask(t), err
		}
	case refQuery:
		get = func(ctx context.Context, id task.ID) (refTask, error) { return queryOne(ctx, pool, id) }
	default:
		return fmt.Errorf("reference %q: want %q or %q", kind, refStore, refQuery)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := task.ParseID(r.PathValue("id"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		t, err := get(r.Context(), id)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(t) // a client that hung up needs no answer
	})
	// A baseline on loopback for one measurement, as bare as a server gets.
	return http.ListenAndServe(addr, mux) //nolint:gosec // G114: no timeouts on purpose: see above

}

// queryOne is the store's SELECT, written out here so that nothing but
// pgx stands between the handler and the database.
func queryOne(ctx context.Context, pool *pgxpool.Pool, id task.ID) (refTask, error) {
	var t refTask
	var due pgtype.Date
	var uuid pgtype.UUID
	err := pool.QueryRow(ctx, `SELECT id, title, description, status, due_date, version, created_at, updated_at FROM tasks WHERE id = $1`,
		pgtype.UUID{Bytes: id, Valid: true}).Scan(&uuid, &t.Title, &t.Description, &t.Status, &due, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	t.ID = task.ID(uuid.Bytes).String()
	if due.Valid {
		d := due.Time.Format("2006-01-02")
		t.DueDate = &d
	}
	return t, nil
}

func fromTask(t task.Task) refTask {
	r := refTask{ID: t.ID.String(), Title: t.Title, Description: t.Description, Status: string(t.Status),
		Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.DueDate != nil {
		d := t.DueDate.String()
		r.DueDate = &d
	}
	return r
}

type refTask struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	DueDate     *string   `json:"due_date"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}
