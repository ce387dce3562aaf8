package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/services/internal/postgres"
	"github.com/gantry-dev/gantry/services/internal/processtest"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
	"github.com/gantry-dev/gantry/services/loopback"
)

// TestMain doubles as the real program when GANTRY_NOTIFIER_MAIN is set,
// so a test can start the binary as a child process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("GANTRY_NOTIFIER_MAIN") == "1" {
		os.Args = append([]string{"notifier"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	pgtest.Main(m)
}

// stack is a migrated database with the API's stores on it: what the API
// does to it (task changes, webhooks) the notifier delivers.
type stack struct {
	url   string
	pool  *pgxpool.Pool
	tasks *postgres.Store
	hooks *postgres.WebhookStore
}

func newStack(t *testing.T) *stack {
	t.Helper()
	url := pgtest.DB(t)
	m, err := postgres.OpenMigrator(context.Background(), slog.New(slog.DiscardHandler), url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.NewPool(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tasks, err := postgres.NewStore(pool)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{url: url, pool: pool, tasks: tasks, hooks: postgres.NewWebhookStore(pool)}
}

// subscribe creates a webhook to url for every event type, signed with secret.
func (s *stack) subscribe(t *testing.T, url, secret string) webhook.Webhook {
	t.Helper()
	w, err := s.hooks.CreateWebhook(context.Background(), webhook.Webhook{URL: url, Events: webhook.EventTypes, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (s *stack) createTask(t *testing.T, title string) task.Task {
	t.Helper()
	created, err := s.tasks.Create(context.Background(), task.New{Title: title, Status: task.StatusTodo})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// deliveries lists the webhook's deliveries, oldest first.
func (s *stack) deliveries(t *testing.T, hook webhook.Webhook) []webhook.Delivery {
	t.Helper()
	id, err := task.ParseID(hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := s.hooks.ListDeliveries(context.Background(), id, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// jobStates counts the delivery jobs by River state; the sweeps that share
// their queue are not counted.
func (s *stack) jobStates(t *testing.T) map[string]int {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT state::text, count(*) FROM river_job WHERE kind = $1 GROUP BY state`, webhook.DeliveryJob{}.Kind())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// notifierEnv is what every test's notifier runs with: loopback allowed,
// few attempts over a short horizon, short timeouts, and its own admin port.
func (s *stack) notifierEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL":          s.url,
		"ADMIN_PORT":            strconv.Itoa(port),
		"LOG_LEVEL":             "debug",
		"WEBHOOK_ALLOW_CIDRS":   "127.0.0.1/32",
		"WEBHOOK_MAX_ATTEMPTS":  "3",
		"WEBHOOK_RETRY_HORIZON": "2s",
		"WEBHOOK_TIMEOUT":       "2s",
		"SHUTDOWN_TIMEOUT":      "10s",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// notifier is the real program serving in-process.
type notifier struct {
	admin  string
	logs   *processtest.Output
	stop   context.CancelFunc // what SIGTERM does
	result chan error
}

// startNotifier runs `notifier serve` and waits until it is ready.
func (s *stack) startNotifier(t *testing.T, extra map[string]string) *notifier {
	t.Helper()
	env := s.notifierEnv(t, extra)
	ctx, cancel := context.WithCancel(context.Background())
	n := &notifier{admin: "http://127.0.0.1:" + env["ADMIN_PORT"], logs: &processtest.Output{}, stop: cancel, result: make(chan error, 1)}
	go func() { n.result <- run(ctx, []string{"notifier", "serve"}, processtest.Env(env), io.Discard, n.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-n.result:
			if err != nil {
				t.Logf("serve returned: %v", err)
			}
			n.result <- err // for a test still waiting
		case <-time.After(30 * time.Second):
			t.Error("the notifier did not stop")
		}
		if t.Failed() {
			t.Logf("notifier logs:\n%s", n.logs)
		}
	})
	n.waitStatus(t, "/readyz", http.StatusOK, 15*time.Second)
	return n
}

// get fetches path from the admin listener.
func (n *notifier) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(n.admin + path)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (n *notifier) waitStatus(t *testing.T, path string, status int, within time.Duration) {
	t.Helper()
	last := 0
	waitFor(t, within, fmt.Sprintf("%s to answer %d", path, status), func() bool {
		last, _ = n.get(t, path)
		return last == status
	})
}

// waitFor polls cond until it holds, or fails the test naming what.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
