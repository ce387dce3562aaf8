package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
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

// String renders the report in Markdown.
func (r *report) String() string {
	w := new(strings.Builder)
	mode := ""
	if r.o.smoke {
		mode = " (smoke mode: small tables and 2 s measurements; these numbers are not results)"
	}
	fmt.Fprintf(w, "Measured %s on %s, %d CPUs, %s%s.\n", r.started.Format("2006-01-02 15:04 MST"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.Version(), mode)
	fmt.Fprintf(w, "%d connections, %s per measurement, %d tasks; %d runs.\n\n", r.o.conns, r.o.duration, r.o.small, r.o.runs)
	fmt.Fprintf(w, "### Headline: GET /v1/tasks/{id}\n\n")
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
	fmt.Fprintf(w, "\n### Every endpoint (%d connections)\n\n| endpoint | req/s | p50 | p99 | errors |\n|---|---|---|---|---|\n", r.o.conns)
	fmt.Fprintln(w, strings.Join(r.endpoints, "\n"))
	fmt.Fprintf(w, "\n### Listing as the table grows (4 connections)\n\n| tasks | page | p50 | p99 |\n|---|---|---|---|\n")
	fmt.Fprintln(w, strings.Join(r.growthRows, "\n"))
	if l := r.listP50[r.o.large]; l[0] > 0 {
		fmt.Fprintf(w, "\nDeep page / first page at %d tasks (p50): **%.2f** (target <= 1.5)\n", r.o.large, float64(l[1])/float64(l[0]))
	}
	fmt.Fprintf(w, "\n### Footprint\n\n| figure | value |\n|---|---|\n%s\n", strings.Join(r.foot, "\n"))
	return w.String()
}
