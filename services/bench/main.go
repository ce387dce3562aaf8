// Command bench measures Gantry's API side by side with what bounds it: the
// same primary-key lookup sent to PostgreSQL by pgbench (the ceiling), and
// a bare net/http + pgx server answering the same GET (the reference). The
// ratios, taken within one run and reported as medians over several, are
// what hold on a noisy two-core machine where the load generator, the
// server and PostgreSQL share the CPU. See docs/benchmarks.md.
//
//	go run ./services/bench            # the full suite (-runs 5: about 7 minutes here)
//	go run ./services/bench -smoke     # seconds: it starts, measures, prints
//	go run ./services/bench -webhooks  # the webhook figures alone
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"time"
)

type options struct {
	smoke    bool
	runs     int
	duration time.Duration
	conns    int
	small    int
	large    int
	out      string
	headline bool
	control  bool // the headline measures the API against a copy of itself
	webhooks bool
	// The webhook measurements: the rate of the write comparison, the
	// event rate of the latency measurement, the events of the backlog.
	writeRate, eventsRate float64
	backlog               int
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "reference" || os.Args[1] == "seed") {
		if err := helper(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, os.Args[1]+":", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.BoolVar(&o.smoke, "smoke", false, "a quick pass (2 s measurements, small tables) that checks the suite works; its numbers mean little")
	flag.IntVar(&o.runs, "runs", 3, "runs of the side-by-side measurements; ratios are reported as medians")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each load or pgbench measurement")
	flag.IntVar(&o.conns, "c", 64, "concurrent connections of the HTTP load")
	flag.IntVar(&o.small, "tasks", 10_000, "tasks in the main database")
	flag.IntVar(&o.large, "large", 1_000_000, "tasks in the database of the growth measurement")
	flag.StringVar(&o.out, "o", "", "also write the report to this file")
	flag.BoolVar(&o.headline, "headline", false, "measure only the side-by-side GET by id")
	flag.BoolVar(&o.control, "control", false, "in the headline, measure the API against a second copy of itself instead of its unauthenticated build: what the ratio reads when nothing differs, the method's noise")
	flag.BoolVar(&o.webhooks, "webhooks", false, "measure only the webhook figures: the write with and without its event, delivery latency and throughput")
	flag.Float64Var(&o.writeRate, "write-rate", 500, "POSTs a second to each build in the write comparison")
	flag.Float64Var(&o.eventsRate, "events-rate", 200, "events a second in the delivery latency measurement (each to 3 webhooks)")
	flag.IntVar(&o.backlog, "backlog", 5000, "events in the backlog of the delivery throughput measurement (each to 3 webhooks)")
	flag.Parse()
	if o.smoke {
		o.runs, o.duration, o.small, o.large, o.backlog = 1, 2*time.Second, 1_000, 20_000, 300
	}
	if o.headline && o.webhooks {
		fmt.Fprintln(os.Stderr, "bench: -headline and -webhooks each measure only their part; give one")
		os.Exit(2)
	}
	// One thread, like wrk -t1: the load generator is most of this
	// process's work, and a second thread mostly spun looking for some,
	// taking CPU from the servers being measured.
	runtime.GOMAXPROCS(1)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := suite(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// helper runs the suite's pieces on their own, for A/B comparisons with
// wrk (services/bench/ab): "reference [store|query]" serves a bare server
// (reference.go; store by default) on BENCH_ADDR, "seed" fills the
// migrated database at DATABASE_URL with BENCH_TASKS tasks (default 10000)
// as the suite does.
func helper(name string, args []string) error {
	dbURL := os.Getenv("DATABASE_URL")
	if name == "reference" {
		kind := refStore
		if len(args) > 0 {
			kind = args[0]
		}
		return reference(os.Getenv("BENCH_ADDR"), dbURL, kind)
	}
	n := 10_000
	if v := os.Getenv("BENCH_TASKS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("BENCH_TASKS: %w", err)
		}
	}
	return seed(context.Background(), dbURL, n)
}
