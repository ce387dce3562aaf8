package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report collects the figures and prints them as Markdown, ready to paste
// into docs/benchmarks.md.
type report struct {
	o          options
	started    time.Time
	runs       []string
	apiRatio   []float64 // API req/s / pgbench ceiling, per run
	refRatio   []float64 // API req/s / store reference req/s, per run
	authRatio  []float64 // API req/s / unauthenticated API req/s, per run
	apiRPS     []float64 // the API's req/s and the unauthenticated build's, per run
	noauthRPS  []float64
	cpuRatio   []float64 // the same for server CPU per request
	apiCPU     []time.Duration
	noauthCPU  []time.Duration
	oneRatio   []float64 // store reference req/s / query reference req/s, per run
	apiP99     []time.Duration
	apiErrors  int
	endpoints  []string
	growthRows []string
	listP50    map[int][2]time.Duration // tasks -> first, deep p50
	foot       []string
	hooks      hookFigures
}

// hookFigures are the webhook measurements' rows and, per run, the
// figures their medians are taken of.
type hookFigures struct {
	writeRows, latencyRows, throughputRows []string
	writeP50, writeP99, writeCPU           []float64 // with the event / without
	latP50, latP99                         []time.Duration
	perSecond                              []float64
	cpuPerDelivery                         []time.Duration // the notifiers', PostgreSQL's and the receiver's
}

func newReport(o options) *report {
	return &report{o: o, started: time.Now(), listP50: map[int][2]time.Duration{}}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
func us(d time.Duration) string { return fmt.Sprintf("%.1f us", float64(d)/1e3) }

func (r *report) run(n int, clients []int, tps []float64, ceiling float64, auth authCost, ref, one result) {
	api, noauth := auth.api, auth.noauth
	var pg []string
	for i, c := range clients {
		pg = append(pg, fmt.Sprintf("%d: %.0f", c, tps[i]))
	}
	r.runs = append(r.runs, fmt.Sprintf("| %d | %s | %.0f | %.0f (p50 %s, p99 %s, %d errors) | %.0f (p99 %s, %d errors) | %.0f (p99 %s) | %.0f (p99 %s) | **%.2f** | **%.3f** (CPU %s / %s) | **%.2f** |",
		n, strings.Join(pg, ", "), ceiling, api.RPS(), ms(api.P50), ms(api.P99), api.Errors, noauth.RPS(), ms(noauth.P99), noauth.Errors,
		ref.RPS(), ms(ref.P99), one.RPS(), ms(one.P99), api.RPS()/ceiling, api.RPS()/noauth.RPS(), us(auth.apiCPU), us(auth.noauthCPU), api.RPS()/ref.RPS()))
	r.cpuRatio = append(r.cpuRatio, float64(auth.noauthCPU)/float64(auth.apiCPU))
	r.apiCPU = append(r.apiCPU, auth.apiCPU)
	r.noauthCPU = append(r.noauthCPU, auth.noauthCPU)
	r.apiRatio = append(r.apiRatio, api.RPS()/ceiling)
	r.authRatio = append(r.authRatio, api.RPS()/noauth.RPS())
	r.apiRPS = append(r.apiRPS, api.RPS())
	r.noauthRPS = append(r.noauthRPS, noauth.RPS())
	r.apiErrors += noauth.Errors
	r.refRatio = append(r.refRatio, api.RPS()/ref.RPS())
	r.oneRatio = append(r.oneRatio, ref.RPS()/one.RPS())
	r.apiP99 = append(r.apiP99, api.P99)
	r.apiErrors += api.Errors
}

func (r *report) endpoint(name string, res result) {
	r.endpoints = append(r.endpoints, fmt.Sprintf("| %s | %.0f | %s | %s | %d |", name, res.RPS(), ms(res.P50), ms(res.P99), res.Errors))
}

func (r *report) growth(tasks int, name string, res result) {
	r.growthRows = append(r.growthRows, fmt.Sprintf("| %d | %s | %s | %s |", tasks, name, ms(res.P50), ms(res.P99)))
	v := r.listP50[tasks]
	if strings.Contains(name, "first") {
		v[0] = res.P50
	} else {
		v[1] = res.P50
	}
	r.listP50[tasks] = v
}

func (r *report) footprint(idle, peak float64, ready time.Duration, bin int64, image, up measured) {
	r.foot = []string{
		fmt.Sprintf("| RSS idle | %.1f MB |", idle),
		fmt.Sprintf("| RSS peak under %d connections | %.1f MB |", r.o.conns, peak),
		fmt.Sprintf("| process start to /readyz 200 (median of 5) | %s |", ms(ready)),
		fmt.Sprintf("| binary | %.2f MB (%.2f MiB) |", float64(bin)/1e6, float64(bin)/(1<<20)),
		fmt.Sprintf("| image (uncompressed) | %s |", image),
		fmt.Sprintf("| `docker compose up --wait` to healthy, from nothing | %s |", up),
	}
}

func (r *report) writes(n int, w writeRun) {
	h := &r.hooks
	h.writeP50 = append(h.writeP50, float64(w.events.P50)/float64(w.none.P50))
	h.writeP99 = append(h.writeP99, float64(w.events.P99)/float64(w.none.P99))
	h.writeCPU = append(h.writeCPU, float64(w.cpu[0])/float64(w.cpu[1]))
	h.writeRows = append(h.writeRows, fmt.Sprintf("| %d | %.0f req/s: p50 %s, p99 %s, %d errors, CPU %s | %.0f req/s: p50 %s, p99 %s, %d errors, CPU %s | **%.2f** | **%.2f** |",
		n, w.events.RPS(), ms(w.events.P50), ms(w.events.P99), w.events.Errors, us(w.cpu[0]),
		w.none.RPS(), ms(w.none.P50), ms(w.none.P99), w.none.Errors, us(w.cpu[1]), h.writeP50[len(h.writeP50)-1], h.writeP99[len(h.writeP99)-1]))
}

// latency adds run n's row; run 0, the warm-up, stays out of the medians.
func (r *report) latency(n int, posts result, st deliveryStats, want, bad int) {
	h := &r.hooks
	run := strconv.Itoa(n)
	if n == 0 {
		run = "warm-up, not counted"
	} else {
		h.latP50, h.latP99 = append(h.latP50, st.p50), append(h.latP99, st.p99)
	}
	h.latencyRows = append(h.latencyRows, fmt.Sprintf("| %s | %d at %.0f/s (POST p99 %s) | %d of %d | %s | %s | %s | %s | %d | %d |",
		run, posts.Requests, posts.RPS(), ms(posts.P99), st.deliveries, want, ms(st.p50), ms(st.p90), ms(st.p99), ms(st.max), st.repeats, bad))
}

func (r *report) throughput(n int, st deliveryStats, want int, started time.Time, use cpuUse) {
	h := &r.hooks
	window := st.last.Sub(st.first)
	h.perSecond = append(h.perSecond, perSecond(st.deliveries, window))
	pg := us(per(use.postgres, st.deliveries))
	if use.postgresWhy != "" {
		pg = "not measured: " + use.postgresWhy
	}
	total := per(use.notifiers+use.postgres+use.receiver, st.deliveries)
	h.cpuPerDelivery = append(h.cpuPerDelivery, total)
	h.throughputRows = append(h.throughputRows, fmt.Sprintf("| %d | %d of %d | %s | **%.0f** | %s (%.0f/s) | %d | %s | %s | %s | %s |",
		n, st.deliveries, want, window.Round(time.Millisecond), perSecond(st.deliveries, window),
		st.last.Sub(started).Round(time.Millisecond), perSecond(st.deliveries, st.last.Sub(started)), st.repeats,
		us(per(use.notifiers, st.deliveries)), pg, us(per(use.receiver, st.deliveries)), us(total)))
}

func median[T float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// write prints the report and, given a path, writes it there as well.
func (r *report) write(path string) error {
	text := r.String()
	if path != "" {
		if err := os.WriteFile(path, []byte(text), 0o666); err != nil {
			return err
		}
	}
	_, err := os.Stdout.WriteString(text)
	return err
}

// String renders the report in Markdown: the sections measured.
func (r *report) String() string {
	w := new(strings.Builder)
	mode := ""
	if r.o.smoke {
		mode = " (smoke mode: small tables and 2 s measurements; these numbers are not results)"
	}
	fmt.Fprintf(w, "Measured %s on %s, %d CPUs, %s%s.\n", r.started.Format("2006-01-02 15:04 MST"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.Version(), mode)
	fmt.Fprintf(w, "%d connections, %s per measurement, %d tasks; %d runs.\n\n", r.o.conns, r.o.duration, r.o.small, r.o.runs)
	if len(r.runs) > 0 {
		r.headline(w)
	}
	if len(r.endpoints) > 0 {
		fmt.Fprintf(w, "\n### Every endpoint (%d connections)\n\n| endpoint | req/s | p50 | p99 | errors |\n|---|---|---|---|---|\n", r.o.conns)
		fmt.Fprintln(w, strings.Join(r.endpoints, "\n"))
	}
	if len(r.growthRows) > 0 {
		fmt.Fprintf(w, "\n### Listing as the table grows (4 connections)\n\n| tasks | page | p50 | p99 |\n|---|---|---|---|\n")
		fmt.Fprintln(w, strings.Join(r.growthRows, "\n"))
		if l := r.listP50[r.o.large]; l[0] > 0 {
			fmt.Fprintf(w, "\nDeep page / first page at %d tasks (p50): **%.2f** (target <= 1.5)\n", r.o.large, float64(l[1])/float64(l[0]))
		}
	}
	if len(r.foot) > 0 {
		fmt.Fprintf(w, "\n### Footprint\n\n| figure | value |\n|---|---|\n%s\n", strings.Join(r.foot, "\n"))
	}
	if len(r.hooks.writeRows) > 0 {
		r.webhooks(w)
	}
	return w.String()
}

func (r *report) headline(w *strings.Builder) {
	fmt.Fprintf(w, "### Headline: GET /v1/tasks/{id}\n\n")
	if r.o.control {
		fmt.Fprintf(w, "**A control run (`-control`)**: every figure called unauthenticated below is a second copy of the authenticated API, so its ratios show the method's noise, not what authentication costs.\n\n")
	}
	fmt.Fprintf(w, "| figure | median | target |\n|---|---|---|\n")
	fmt.Fprintf(w, "| API / pgbench ceiling | %.2f | >= 0.40 |\n", median(r.apiRatio))
	fmt.Fprintf(w, "| API / bare reference (the same store) | %.2f | >= 0.90 |\n", median(r.refRatio))
	fmt.Fprintf(w, "| API req/s, authenticated | %.0f | |\n", median(r.apiRPS))
	fmt.Fprintf(w, "| the same API built with `-tags gantry_noauth`, req/s | %.0f | |\n", median(r.noauthRPS))
	fmt.Fprintf(w, "| authenticated / unauthenticated req/s (what auth costs) | %.3f | >= 0.95 |\n", median(r.authRatio))
	fmt.Fprintf(w, "| server CPU per request, authenticated and unauthenticated | %s, %s | |\n", us(median(r.apiCPU)), us(median(r.noauthCPU)))
	fmt.Fprintf(w, "| unauthenticated / authenticated CPU per request | %.3f | >= 0.95 |\n", median(r.cpuRatio))
	fmt.Fprintf(w, "| API p99 | %s | < 10 ms |\n", ms(median(r.apiP99)))
	fmt.Fprintf(w, "| API errors, all runs (both builds) | %d | 0 |\n", r.apiErrors)
	fmt.Fprintf(w, "| store reference / one query per request (what shared queries buy) | %.2f | |\n\n", median(r.oneRatio))
	fmt.Fprintf(w, "| run | pgbench tps by clients | ceiling | API req/s | unauthenticated API req/s | store reference req/s | one-query reference req/s | API/ceiling | API/unauthenticated (server CPU per request) | API/store reference |\n|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintln(w, strings.Join(r.runs, "\n"))
}

func (r *report) webhooks(w *strings.Builder) {
	h := r.hooks
	fmt.Fprintf(w, "\n### Webhooks\n\n| figure | median | target |\n|---|---|---|\n")
	fmt.Fprintf(w, "| POST /v1/tasks at %.0f req/s, with its event / without (`-tags gantry_noevents`): p50 | %.2f | <= 1.3 |\n", r.o.writeRate, median(h.writeP50))
	fmt.Fprintf(w, "| ... p99 | %.2f | <= 1.3 |\n", median(h.writeP99))
	fmt.Fprintf(w, "| ... server CPU per request | %.2f | |\n", median(h.writeCPU))
	if len(h.latP50) > 0 {
		fmt.Fprintf(w, "| delivery latency at %.0f events/s, %d webhooks, one notifier: p50 | %s | |\n", r.o.eventsRate, hookCount, ms(median(h.latP50)))
		fmt.Fprintf(w, "| ... p99 | %s | < 250 ms |\n", ms(median(h.latP99)))
	}
	if len(h.perSecond) > 0 {
		fmt.Fprintf(w, "| deliveries a second, two notifiers, from a backlog of %d events x %d webhooks | %.0f | >= 1000 |\n", r.o.backlog, hookCount, median(h.perSecond))
		c := median(h.cpuPerDelivery)
		fmt.Fprintf(w, "| ... CPU per delivery: notifiers, PostgreSQL, receiver (what two cores allow at best) | %s (%.0f/s) | |\n", us(c), perSecond(2, c))
	}
	fmt.Fprintf(w, "\nThe write, both builds in interleaved turns at the same rate (%d connections; latency from each request's scheduled time):\n\n", writeConns)
	fmt.Fprintf(w, "| run | with the event | without | p50 ratio | p99 ratio |\n|---|---|---|---|---|\n%s\n", strings.Join(h.writeRows, "\n"))
	if len(h.latencyRows) > 0 {
		fmt.Fprintf(w, "\nDelivery latency, from the event's occurred_at (in the API's transaction, just before the commit) to its arrival at the receiver:\n\n")
		fmt.Fprintf(w, "| run | events | deliveries | p50 | p90 | p99 | max | repeats | badly signed |\n|---|---|---|---|---|---|---|---|---|\n%s\n", strings.Join(h.latencyRows, "\n"))
	}
	if len(h.throughputRows) > 0 {
		fmt.Fprintf(w, "\nDelivery throughput, two notifiers started on the backlog together:\n\n")
		fmt.Fprintf(w, "| run | deliveries | first to last | per second | from starting the notifiers | repeats | CPU per delivery: notifiers | PostgreSQL | receiver | all |\n|---|---|---|---|---|---|---|---|---|---|\n%s\n", strings.Join(h.throughputRows, "\n"))
	}
}
