// Command bench measures Gantry's API side by side with what bounds it: the
// same primary-key lookup sent to PostgreSQL by pgbench (the ceiling), and
// a bare net/http + pgx server answering the same GET (the reference). The
// ratios, taken within one run and reported as medians over several, are
// what hold on a noisy two-core machine where the load generator, the
// server and PostgreSQL share the CPU. See BENCHMARKS.md.
//
//	go run ./services/bench            # the full suite, about 10 minutes
//	go run ./services/bench -smoke     # seconds: it starts, measures, prints
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
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
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "reference" { // the bare server, as a child process
		if err := reference(os.Getenv("BENCH_ADDR"), os.Getenv("DATABASE_URL")); err != nil {
			fmt.Fprintln(os.Stderr, "reference:", err)
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
	flag.Parse()
	if o.smoke {
		o.runs, o.duration, o.small, o.large = 1, 2*time.Second, 1_000, 20_000
	}
	// One thread, like wrk -t1: the load generator is most of this
	// process's work, and a second thread mostly spun looking for some,
	// taking CPU from the servers being measured.
	runtime.GOMAXPROCS(1)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := suite(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
