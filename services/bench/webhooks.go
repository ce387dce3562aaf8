package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// What webhooks cost and how fast they go (issue 12): the write with its
// event against the same write without, at one rate; how long an event
// takes from its commit to the receiver at a steady rate; how many
// deliveries a second two notifiers make from a backlog.

// writeConns carry the paced writes: enough that one slow answer never
// holds up the next request's time.
const writeConns = 16

// hookCount is how many webhooks the delivery measurements make: each
// event is delivered once to each.
const hookCount = 3

// hooksEnv is the API's and the notifier's configuration in the delivery
// measurements: production's, with loopback allowed for the receiver.
func hooksEnv(dbURL string) []string {
	return append(apiEnv(dbURL), "WEBHOOK_ALLOW_CIDRS=127.0.0.1/32")
}

// writeCost measures POST /v1/tasks on the API and on the same API built
// with -tags gantry_noevents, both running, in interleaved turns at the
// same rate, -runs times. Each build must first show it is what it says:
// one POST adds one job to River's events queue, or none.
func (e *env) writeCost(ctx context.Context) error {
	bins := [2]string{e.api, e.noevents}
	var procs [2]*proc
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, bin := range bins {
		p, _, err := startProc(bin, []string{"serve"}, apiEnv(e.writes), "/readyz")
		if err != nil {
			return err
		}
		procs[i] = p
		if err := e.checkEvents(ctx, p.addr, 1-i); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(bin), err)
		}
	}
	auth := e.auth[e.writes]
	loads := [2]measure{
		atRate(procs[0].addr, writeConns, e.o.writeRate, create(auth)),
		atRate(procs[1].addr, writeConns, e.o.writeRate, create(auth)),
	}
	warmUp(ctx, e.o.duration/abTurns, loads)
	for run := 1; run <= e.o.runs; run++ {
		var before [2]time.Duration
		for i, p := range procs {
			var err error
			if before[i], err = p.cpuTime(); err != nil {
				return err
			}
		}
		s := interleave(ctx, e.o.duration, loads)
		var w writeRun
		for i, r := range []*result{&w.events, &w.none} {
			var err error
			if *r, err = s[i].result(); err != nil {
				return fmt.Errorf("%s: %w", filepath.Base(bins[i]), err)
			}
			after, err := procs[i].cpuTime()
			if err != nil {
				return err
			}
			w.cpu[i] = (after - before[i]) / time.Duration(r.Requests)
		}
		e.report.writes(run, w)
		fmt.Fprintf(os.Stderr, "bench: writes run %d: with the event p50 %s p99 %s, without p50 %s p99 %s (%.0f and %.0f req/s)\n",
			run, ms(w.events.P50), ms(w.events.P99), ms(w.none.P50), ms(w.none.P99), w.events.RPS(), w.none.RPS())
	}
	return nil
}

// writeRun is one interleaved run of the write comparison.
type writeRun struct {
	events, none result
	cpu          [2]time.Duration // server CPU per request: with, without
}

// checkEvents posts one task and checks that River's events queue grew by
// want jobs.
func (e *env) checkEvents(ctx context.Context, addr string, want int) error {
	const jobs = `SELECT count(*) FROM river_job WHERE queue = 'events'`
	before, err := queryInt(ctx, e.writes, jobs)
	if err != nil {
		return err
	}
	if _, err := e.call(addr, e.writes, "POST", "/v1/tasks", `{"title":"does it record its event?"}`, http.StatusCreated); err != nil {
		return err
	}
	after, err := queryInt(ctx, e.writes, jobs)
	if err != nil {
		return err
	}
	if int(after-before) != want {
		return fmt.Errorf("a POST added %d event jobs, want %d", after-before, want)
	}
	return nil
}

// deliveryLatency measures, -runs times, events made at -events-rate for
// -d, each delivered to hookCount webhooks by one notifier: from the
// event's occurred_at, taken in the API's transaction just before the
// event is inserted and the transaction commits, to its arrival. A
// warm-up at the same rate for a third of -d goes first, reported apart:
// a notifier's first seconds (connections, plans, River's first fetches)
// are its start, not its steady state.
func (e *env) deliveryLatency(ctx context.Context) error {
	db := e.latencyDB
	rc, api, err := e.hookedAPI(db)
	if err != nil {
		return err
	}
	defer api.stop()
	defer rc.close()
	n, err := startNotifier(e.notifier, hooksEnv(db))
	if err != nil {
		return err
	}
	defer n.stop()
	var last int64
	for run := 0; run <= e.o.runs; run++ {
		d := e.o.duration
		if run == 0 {
			d /= 3
		}
		if err := e.latencyRun(ctx, rc, api.addr, db, run, d); err != nil {
			return err
		}
		if last, err = stages(ctx, db, last); err != nil {
			return err
		}
	}
	return nil
}

// latencyRun makes events for d and waits for their deliveries; run 0 is
// the warm-up.
func (e *env) latencyRun(ctx context.Context, rc *hookReceiver, addr, db string, run int, d time.Duration) error {
	rc.take()
	s := paced(ctx, addr, writeConns, e.o.eventsRate, d, create(e.auth[db]).next, ok2xx)
	posts, err := s.result()
	if err != nil {
		return err
	}
	want := (posts.Requests - posts.Errors) * hookCount
	werr := rc.waitCount(ctx, want, 60*time.Second)
	got, bad := rc.take()
	st := summarize(got)
	e.report.latency(run, posts, st, want, bad)
	name := "run " + strconv.Itoa(run)
	if run == 0 {
		name = "warm-up"
	}
	fmt.Fprintf(os.Stderr, "bench: latency %s: %d events at %.0f/s, %d of %d deliveries, p50 %s p99 %s max %s, %d repeats\n",
		name, posts.Requests, posts.RPS(), st.deliveries, want, ms(st.p50), ms(st.p99), ms(st.max), st.repeats)
	if werr != nil || bad > 0 {
		return fmt.Errorf("latency %s: %d badly signed; %w", name, bad, werr)
	}
	return nil
}

// deliveryThroughput measures, -runs times, how fast two notifiers deliver
// a backlog: -backlog events made while no notifier runs, each for
// hookCount webhooks, then both notifiers started together.
func (e *env) deliveryThroughput(ctx context.Context) error {
	db := e.backlogDB
	rc, api, err := e.hookedAPI(db)
	if err != nil {
		return err
	}
	defer api.stop()
	defer rc.close()
	for run := 1; run <= e.o.runs; run++ {
		rc.take()
		if err := e.postTasks(api.addr, db, e.o.backlog); err != nil {
			return err
		}
		want := e.o.backlog * hookCount
		pgBefore, pgErr := postgresCPU(ctx, db)
		selfBefore := selfCPU()
		started := time.Now()
		var notifiers []*proc
		for range 2 {
			n, err := startNotifier(e.notifier, hooksEnv(db))
			if err != nil {
				return err
			}
			notifiers = append(notifiers, n)
		}
		werr := rc.waitCount(ctx, want, 5*time.Minute)
		use := cpuUse{receiver: selfCPU() - selfBefore}
		if pgErr == nil {
			var pgAfter pgSnapshot
			if pgAfter, pgErr = postgresCPU(ctx, db); pgErr == nil {
				use.postgres = pgAfter.since(pgBefore)
			}
		}
		if pgErr != nil {
			use.postgresWhy = pgErr.Error()
		}
		for _, n := range notifiers {
			if t, err := n.cpuTime(); err == nil {
				use.notifiers += t
			}
			n.stop()
		}
		got, bad := rc.take()
		st := summarize(got)
		e.report.throughput(run, st, want, started, use)
		fmt.Fprintf(os.Stderr, "bench: throughput run %d: %d of %d deliveries in %s from the first, %.0f/s; %s from starting the notifiers; %d repeats; CPU per delivery: notifiers %s, PostgreSQL %s, receiver %s\n",
			run, st.deliveries, want, st.last.Sub(st.first).Round(time.Millisecond), perSecond(st.deliveries, st.last.Sub(st.first)),
			st.last.Sub(started).Round(time.Millisecond), st.repeats, us(per(use.notifiers, st.deliveries)), us(per(use.postgres, st.deliveries)), us(per(use.receiver, st.deliveries)))
		if werr != nil || bad > 0 {
			return fmt.Errorf("run %d: %d badly signed; %w", run, bad, werr)
		}
	}
	return nil
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// hookedAPI starts the API on the database at dbURL and a receiver, and
// makes hookCount webhooks to the receiver for task.created. A database
// serves one measurement: its webhooks stay for every run of it, and
// would be left pointing at a receiver that is gone for the next.
func (e *env) hookedAPI(dbURL string) (*hookReceiver, *proc, error) {
	rc, err := newHookReceiver()
	if err != nil {
		return nil, nil, err
	}
	api, _, err := startProc(e.api, []string{"serve"}, hooksEnv(dbURL), "/readyz")
	if err != nil {
		rc.close()
		return nil, nil, err
	}
	for i := range hookCount {
		name := strconv.Itoa(i + 1)
		body, _ := json.Marshal(map[string]any{"url": rc.url(name), "events": []string{"task.created"}}) // strings marshal
		out, err := e.call(api.addr, dbURL, "POST", "/v1/webhooks", string(body), http.StatusCreated)
		if err == nil {
			var made struct{ Secret string }
			if err = json.Unmarshal(out, &made); err == nil {
				err = rc.add(name, made.Secret)
			}
		}
		if err != nil {
			api.stop()
			rc.close()
			return nil, nil, fmt.Errorf("webhook %s: %w", name, err)
		}
	}
	return rc, api, nil
}

// postTasks creates n tasks as fast as writeConns connections can.
func (e *env) postTasks(addr, dbURL string, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, writeConns)
	for c := range writeConns {
		wg.Go(func() {
			for i := c; i < n && errs[c] == nil; i += writeConns {
				_, errs[c] = e.call(addr, dbURL, "POST", "/v1/tasks", `{"title":"one of a backlog"}`, http.StatusCreated)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var apiClient = &http.Client{Timeout: 10 * time.Second}

// call sends one request with the token of the database at dbURL and
// returns the body of an answer with status want.
func (e *env) call(addr, dbURL, method, path, body string, want int) ([]byte, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewBufferString(body)) //nolint:noctx // the client's Timeout bounds it
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[dbURL])
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, tail(out.String(), 500))
	}
	return out.Bytes(), nil
}
