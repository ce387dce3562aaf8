package main

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// reference is the bare server the API is measured against: the same GET
// by id, the same SQL and JSON, on net/http and pgx alone. No request IDs,
// logs, metrics, ETags, deadlines or body limits: the difference between
// the two is the price of those features.
func reference(addr, dbURL string) error {
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := task.ParseID(r.PathValue("id"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var t refTask
		var due pgtype.Date
		err = pool.QueryRow(r.Context(), `SELECT id, title, description, status, due_date, version, created_at, updated_at FROM tasks WHERE id = $1`,
			pgtype.UUID{Bytes: id, Valid: true}).Scan(&t.ID, &t.Title, &t.Description, &t.Status, &due, &t.Version, &t.CreatedAt, &t.UpdatedAt)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if due.Valid {
			d := due.Time.Format("2006-01-02")
			t.DueDate = &d
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(t)
	})
	return http.ListenAndServe(addr, mux)
}

type refTask struct {
	ID          pgtype.UUID `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Status      string      `json:"status"`
	DueDate     *string     `json:"due_date"`
	Version     int64       `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}
