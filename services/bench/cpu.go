package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cpuUse is the CPU the processes of a delivery measurement used: the
// notifiers, PostgreSQL's processes and this one, whose only work then is
// the receiver. Other work on the machine moves it much less than it moves
// a rate, so per delivery it says what a delivery costs, and so what two
// cores could deliver at best.
type cpuUse struct {
	notifiers, postgres, receiver time.Duration
	postgresWhy                   string // why PostgreSQL's share is not known, if it is not
}

// pgSnapshot is the CPU used so far by each of PostgreSQL's processes that
// pg_stat_activity lists (its backends and background processes), by PID.
type pgSnapshot map[int]time.Duration

// postgresCPU takes a snapshot. It needs the server's processes in this
// machine's /proc: a server in a container has PIDs of its own.
func postgresCPU(ctx context.Context, dbURL string) (pgSnapshot, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity`)
	if err != nil {
		return nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	snap := pgSnapshot{}
	for _, pid := range pids {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || !strings.HasPrefix(string(comm), "postgres") {
			return nil, fmt.Errorf("PostgreSQL's process %d is not in this machine's /proc (a server in a container?)", pid)
		}
		if snap[int(pid)], err = cpuTimeOf(int(pid)); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// since is the CPU used from before to s: a process that started meanwhile
// counts whole; one that ended meanwhile is lost, which the long-lived
// connection pools of the measured processes make rare.
func (s pgSnapshot) since(before pgSnapshot) time.Duration {
	var d time.Duration
	for pid, t := range s {
		d += t - before[pid]
	}
	return d
}

// selfCPU is the CPU this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// per is d per one of n.
func per(d time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}
