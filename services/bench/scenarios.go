package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// idOf is the deterministic ID of the nth seeded task, so the load
// generator and pgbench pick the same rows without a lookup table.
func idOf(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", n) }

// seedBase is the created_at of task 0; task n is n milliseconds later, so
// the listing order is the seeding order.
var seedBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func cursorAt(n int) string {
	id, _ := task.ParseID(idOf(n))
	return task.Cursor{CreatedAt: seedBase.Add(time.Duration(n) * time.Millisecond), ID: id}.String()
}

// scenario is one endpoint under load.
type scenario struct {
	name  string
	next  request
	check check
}

// bearer is the header line that authenticates a request with token. The
// load sends it to every server, the references and the unauthenticated
// build too, so all of them parse the same bytes.
func bearer(token string) string { return "Authorization: Bearer " + token + "\r\n" }

// Every scenario takes the header lines that authenticate its requests.
func get(path, auth string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\n" + auth + "\r\n")
}

func ok2xx(_, _, status int, _ []byte) bool { return status >= 200 && status < 300 }

// rngs gives each connection its own generator: no locking, and the same
// sequence of IDs in every run.
func rngs(conns int) []*rand.Rand {
	r := make([]*rand.Rand, conns)
	for c := range r {
		r[c] = rand.New(rand.NewPCG(uint64(c), 42)) //nolint:gosec // G404: seeded on purpose, for a repeatable load
	}
	return r
}

func getByID(conns, tasks int, auth string) scenario {
	r := rngs(conns)
	return scenario{"GET /v1/tasks/{id}", func(c, _ int, buf []byte) []byte {
		buf = append(buf, "GET /v1/tasks/"...)
		buf = append(buf, idOf(1+r[c].IntN(tasks))...)
		buf = append(buf, " HTTP/1.1\r\nHost: bench\r\n"...)
		buf = append(buf, auth...)
		return append(buf, "\r\n"...)
	}, ok2xx}
}

func listFirst(auth string) scenario {
	req := get("/v1/tasks?limit=20", auth)
	return scenario{"GET /v1/tasks (first page)", func(_, _ int, buf []byte) []byte { return append(buf, req...) }, ok2xx}
}

// listDeep reads the page after the task 90% of the way through.
func listDeep(tasks int, auth string) scenario {
	req := get("/v1/tasks?limit=20&cursor="+cursorAt(tasks*9/10), auth)
	return scenario{"GET /v1/tasks (page at 90%)", func(_, _ int, buf []byte) []byte { return append(buf, req...) }, ok2xx}
}

func create(auth string) scenario {
	body := `{"title":"benchmark task","description":"created under load","status":"todo"}`
	req := []byte("POST /v1/tasks HTTP/1.1\r\nHost: bench\r\n" + auth + "Content-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return scenario{"POST /v1/tasks", func(_, _ int, buf []byte) []byte { return append(buf, req...) }, ok2xx}
}

// update patches tasks with If-Match. Each connection owns its own tasks
// (n = c+1, c+1+conns, ...) and remembers their versions from the ETags it
// gets back, so a 412 would be a real lost update, counted as an error. versions[n]
// is task n's version (0: as seeded); connections write disjoint indexes.
func update(conns, tasks int, versions []int64, auth string) scenario {
	r := rngs(conns)
	last := make([]int, conns)
	owned := max(1, tasks/conns)
	body := `{"status":"doing"}`
	return scenario{"PATCH /v1/tasks/{id} (If-Match)", func(c, _ int, buf []byte) []byte {
		n := c + 1 + conns*r[c].IntN(owned)
		last[c] = n
		buf = append(buf, "PATCH /v1/tasks/"...)
		buf = append(buf, idOf(n)...)
		buf = append(buf, " HTTP/1.1\r\nHost: bench\r\n"...)
		buf = append(buf, auth...)
		buf = append(buf, "Content-Type: application/json\r\nIf-Match: \""...)
		buf = strconv.AppendInt(buf, versionOf(versions, n), 10)
		buf = append(buf, "\"\r\nContent-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(body)), 10)
		return append(append(buf, "\r\n\r\n"...), body...)
	}, func(c, _ int, status int, header []byte) bool {
		if status != 200 {
			return false
		}
		v, err := strconv.ParseInt(string(trimQuotes(headerValue(header, "ETag"))), 10, 64)
		if err == nil {
			versions[last[c]] = v
		}
		return err == nil
	}}
}

func versionOf(versions []int64, n int) int64 {
	return max(1, versions[n]) // seeded tasks are at version 1
}

func trimQuotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
