package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/services/internal/pgtest"
	"github.com/gantry-dev/gantry/tools/gobuild"
)

// env is what every measurement needs: the binaries and the databases.
type env struct {
	o         options
	api, self string // the API binary, and this one (for the reference)
	noauth    string // the API built with -tags gantry_noauth
	noevents  string // the API built with -tags gantry_noevents
	notifier  string
	pgbench   string
	small     string // database URLs
	large     string
	writes    string // the write comparison's, and the two delivery measurements'
	latencyDB string
	backlogDB string
	tokens    map[string]string // database URL -> a token stored there, with every scope
	auth      map[string]string // database URL -> the header line of that token
	versions  []int64
	report    *report
}

// removeAll deletes a scratch directory, and says so when it cannot: the
// suite's hold databases and binaries, worth reclaiming by hand.
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
}

func suite(ctx context.Context, o options) error {
	e := &env{o: o, report: newReport(o)}
	dir, err := os.MkdirTemp("", "gantry-bench-")
	if err != nil {
		return err
	}
	defer removeAll(dir)
	if err := e.build(ctx, dir); err != nil {
		return err
	}
	bin, err := pgtest.FindBinaries()
	if err != nil {
		return err
	}
	e.pgbench = bin.Tool("pgbench")
	cluster, err := pgtest.StartCluster(bin)
	if err != nil {
		return err
	}
	defer cluster.Remove()
	type step struct {
		name string
		do   func(context.Context) error
	}
	databases := step{"create, migrate and seed the databases", func(ctx context.Context) error { return e.databases(ctx, cluster) }}
	headline := []step{{"side by side: pgbench, the API, the reference", e.sideBySideRuns}}
	rest := []step{
		{"every endpoint", e.endpoints},
		{"listing at two sizes", e.growth},
		{"footprint", e.footprint},
	}
	hooks := []step{
		{"webhooks: POST /v1/tasks with and without its event, at one rate", e.writeCost},
		{"webhooks: delivery latency at a steady rate", e.deliveryLatency},
		{"webhooks: delivery throughput from a backlog, two notifiers", e.deliveryThroughput},
	}
	steps := append(append(append([]step{databases}, headline...), rest...), hooks...)
	switch {
	case o.headline:
		steps = append([]step{databases}, headline...)
	case o.webhooks:
		steps = append([]step{databases}, hooks...)
	}
	for _, s := range steps {
		start := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s\n", s.name)
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(os.Stderr, "bench: %s: %s\n", s.name, time.Since(start).Round(time.Millisecond))
	}
	return e.report.write(o.out)
}

func (e *env) sideBySideRuns(ctx context.Context) error {
	for run := 1; run <= e.o.runs; run++ {
		if err := e.sideBySide(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) build(ctx context.Context, dir string) error {
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return err
	}
	e.api, e.noauth, e.noevents, e.notifier = filepath.Join(dir, "api"), filepath.Join(dir, "api-noauth"), filepath.Join(dir, "api-noevents"), filepath.Join(dir, "notifier")
	for _, b := range []struct {
		out, pkg string
		tags     []string
	}{{e.api, "", nil}, {e.noauth, "", []string{"gantry_noauth"}}, {e.noevents, "", []string{"gantry_noevents"}}, {e.notifier, "./services/notifier", nil}} {
		if err := gobuild.Build(ctx, gobuild.Options{Dir: root, Package: b.pkg, GOARCH: runtime.GOARCH, Out: b.out, Version: "bench", ExtraTags: b.tags}); err != nil {
			return err
		}
	}
	e.self, err = os.Executable()
	return err
}

// databases creates, migrates (with the API's own migrate command) and
// seeds the databases, and stores a token in each with `api token
// create`, as an operator would: the two of the GET and listing
// measurements, seeded, and one empty one for each webhook measurement.
func (e *env) databases(ctx context.Context, c *pgtest.Cluster) error {
	e.auth, e.tokens = map[string]string{}, map[string]string{}
	type database struct {
		name string
		n    int
		url  *string
	}
	seeded := []database{{"bench_small", e.o.small, &e.small}, {"bench_large", e.o.large, &e.large}}
	empty := []database{{"bench_writes", 0, &e.writes}, {"bench_latency", 0, &e.latencyDB}, {"bench_backlog", 0, &e.backlogDB}}
	dbs := slices.Concat(seeded, empty)
	switch {
	case e.o.headline:
		dbs = seeded[:1]
	case e.o.webhooks:
		dbs = empty
	}
	for _, db := range dbs {
		if err := execSQL(ctx, c.URL("postgres"), "CREATE DATABASE "+db.name); err != nil {
			return err
		}
		*db.url = c.URL(db.name)
		if _, err := runEnv(ctx, []string{"DATABASE_URL=" + *db.url}, e.api, "migrate", "up"); err != nil {
			return err
		}
		if err := seed(ctx, *db.url, db.n); err != nil {
			return err
		}
		token, err := runEnv(ctx, []string{"DATABASE_URL=" + *db.url}, e.api, "token", "create", "--name", "bench", "--scopes", "all")
		if err != nil {
			return err
		}
		e.tokens[*db.url] = strings.TrimSpace(token)
		e.auth[*db.url] = bearer(e.tokens[*db.url])
	}
	e.versions = make([]int64, e.o.small+1)
	return nil
}

// apiEnv is production's configuration: JSON access logs at info, every
// feature on, and the default pool, as the reference has.
func apiEnv(dbURL string) []string {
	return []string{"DATABASE_URL=" + dbURL, "LOG_LEVEL=info", "LOG_FORMAT=json"}
}

// sideBySide is one run of the headline: the ceiling, the API, the same
// API built without authentication, and the two references (reference.go),
// one after the other on the same database.
func (e *env) sideBySide(ctx context.Context, run int) error {
	var ceiling float64
	clientCounts := []int{4, 8, 16, 64}
	tps := make([]float64, len(clientCounts))
	for i, c := range clientCounts {
		var err error
		if tps[i], err = pgbench(ctx, e.pgbench, e.small, e.o.small, c, e.o.duration); err != nil {
			return err
		}
		ceiling = max(ceiling, tps[i])
	}
	auth, err := e.measureAuth(ctx)
	if err != nil {
		return err
	}
	api, noauth := auth.api, auth.noauth
	ref, err := e.measureGet(ctx, e.self, []string{"reference", refStore}, []string{"DATABASE_URL=" + e.small}, "/v1/tasks/"+idOf(1))
	if err != nil {
		return err
	}
	one, err := e.measureGet(ctx, e.self, []string{"reference", refQuery}, []string{"DATABASE_URL=" + e.small}, "/v1/tasks/"+idOf(1))
	if err != nil {
		return err
	}
	e.report.run(run, clientCounts, tps, ceiling, auth, ref, one)
	fmt.Fprintf(os.Stderr, "bench: run %d: ceiling %.0f tps, api %.0f req/s (%.2f), unauthenticated %.0f req/s (auth/noauth %.3f; CPU per request %s/%s), reference %.0f req/s (api/ref %.2f), one query per request %.0f req/s\n",
		run, ceiling, api.RPS(), api.RPS()/ceiling, noauth.RPS(), api.RPS()/noauth.RPS(), us(auth.apiCPU), us(auth.noauthCPU), ref.RPS(), api.RPS()/ref.RPS(), one.RPS())
	return nil
}

// authCost is the API measured against its unauthenticated build.
type authCost struct {
	api, noauth       result
	apiCPU, noauthCPU time.Duration // server CPU per request
}

// measureAuth measures the API and the same API built without
// authentication (with -control, a second copy of the API), both running,
// in interleaved turns with the same requests (token included). Each build
// must first answer a request without a token as it should (401, 200), or
// the two would be the same server and the comparison would measure
// nothing. Beside req/s, it takes each server's CPU time per request,
// which other work on the machine moves much less.
func (e *env) measureAuth(ctx context.Context) (authCost, error) {
	builds := [2]struct {
		bin  string
		bare int // the status of a GET by id without a token
	}{{e.api, http.StatusUnauthorized}, {e.noauth, http.StatusOK}}
	if e.o.control {
		builds[1] = builds[0]
	}
	var procs [2]*proc
	var loads [2]measure
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, b := range builds {
		p, _, err := startProc(b.bin, []string{"serve"}, apiEnv(e.small), "/readyz")
		if err != nil {
			return authCost{}, err
		}
		procs[i] = p
		if got := statusOf("http://" + p.addr + "/v1/tasks/" + idOf(1)); got != b.bare {
			return authCost{}, fmt.Errorf("%s answers %d to a request without a token, want %d", filepath.Base(b.bin), got, b.bare)
		}
		loads[i] = closedLoop(p.addr, e.o.conns, getByID(e.o.conns, e.o.small, e.auth[e.small]))
	}
	warmUp(ctx, e.o.duration/abTurns, loads)
	var cpu [2]time.Duration
	for i, p := range procs {
		var err error
		if cpu[i], err = p.cpuTime(); err != nil {
			return authCost{}, err
		}
	}
	s := interleave(ctx, e.o.duration, loads)
	var c authCost
	for i, r := range []*result{&c.api, &c.noauth} {
		var err error
		if *r, err = s[i].result(); err != nil {
			return authCost{}, fmt.Errorf("%s: %w", filepath.Base(builds[i].bin), err)
		}
		after, err := procs[i].cpuTime()
		if err != nil {
			return authCost{}, err
		}
		cpu[i] = (after - cpu[i]) / time.Duration(r.Requests)
	}
	c.apiCPU, c.noauthCPU = cpu[0], cpu[1]
	return c, nil
}

func (e *env) measureGet(ctx context.Context, bin string, args, env []string, ready string) (result, error) {
	p, _, err := startProc(bin, args, env, ready)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	return e.loadGet(ctx, p.addr)
}

// loadGet is the headline's load: GET by id, with the token, at full
// concurrency.
func (e *env) loadGet(ctx context.Context, addr string) (result, error) {
	sc := getByID(e.o.conns, e.o.small, e.auth[e.small])
	return load(ctx, addr, e.o.conns, e.o.duration, sc.next, sc.check)
}

// endpoints measures every endpoint of the API once at full concurrency.
func (e *env) endpoints(ctx context.Context) error {
	p, _, err := startProc(e.api, []string{"serve"}, apiEnv(e.small), "/readyz")
	if err != nil {
		return err
	}
	defer p.stop()
	auth := e.auth[e.small]
	for _, sc := range []scenario{getByID(e.o.conns, e.o.small, auth), listFirst(auth), listDeep(e.o.small, auth), create(auth), update(e.o.conns, e.o.small, e.versions, auth)} {
		r, err := load(ctx, p.addr, e.o.conns, e.o.duration, sc.next, sc.check)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		e.report.endpoint(sc.name, r)
	}
	return nil
}

// growth compares listing latency at the two sizes, at a concurrency low
// enough that it measures the query, not the queue.
func (e *env) growth(ctx context.Context) error {
	const conns = 4
	for _, db := range []struct {
		url string
		n   int
	}{{e.small, e.o.small}, {e.large, e.o.large}} {
		p, _, err := startProc(e.api, []string{"serve"}, apiEnv(db.url), "/readyz")
		if err != nil {
			return err
		}
		for _, sc := range []scenario{listFirst(e.auth[db.url]), listDeep(db.n, e.auth[db.url])} {
			r, err := load(ctx, p.addr, conns, e.o.duration, sc.next, sc.check)
			if err != nil {
				p.stop()
				return err
			}
			e.report.growth(db.n, sc.name, r)
		}
		p.stop()
	}
	return nil
}

// footprint: memory idle and under load, start-up to ready, sizes.
func (e *env) footprint(ctx context.Context) error {
	var readies []time.Duration
	for range 5 {
		p, ready, err := startProc(e.api, []string{"serve"}, apiEnv(e.small), "/readyz")
		if err != nil {
			return err
		}
		readies = append(readies, ready)
		p.stop()
	}
	slices.Sort(readies)
	p, _, err := startProc(e.api, []string{"serve"}, apiEnv(e.small), "/readyz")
	if err != nil {
		return err
	}
	defer p.stop()
	time.Sleep(time.Second)
	idle := p.rssMB()
	sc := getByID(e.o.conns, e.o.small, e.auth[e.small])
	if _, err := load(ctx, p.addr, e.o.conns, e.o.duration, sc.next, sc.check); err != nil {
		return err
	}
	peak := p.peakRSSMB()
	binSize, _ := fileSize(e.api)
	e.report.footprint(idle, peak, readies[len(readies)/2], binSize, imageSize(ctx), composeUp(ctx))
	return nil
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
