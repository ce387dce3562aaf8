package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/services/loopback"
)

// proc is a server under test, in a process of its own like in production.
type proc struct {
	cmd   *exec.Cmd
	addr  string // PORT
	admin string // ADMIN_PORT
	log   string // the file its output goes to, removed when it stops
}

// startProc starts bin with env and waits until path answers 200. It
// returns how long that took from the start of the process.
func startProc(bin string, args, env []string, path string) (*proc, time.Duration, error) {
	return start(bin, args, env, path, false)
}

// startNotifier starts `notifier serve` and waits until it works the
// queues: its /readyz, on the admin listener, its only one.
func startNotifier(bin string, env []string) (*proc, error) {
	p, _, err := start(bin, []string{"serve"}, env, "/readyz", true)
	return p, err
}

// start starts bin and waits until path answers 200 on its PORT, or on its
// ADMIN_PORT if admin.
func start(bin string, args, env []string, path string, admin bool) (*proc, time.Duration, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, 0, err
	}
	// The API's admin listener needs a port of its own too: two servers
	// run at once, and something else may hold the default 9090.
	adminPort, err := loopback.FreePort()
	if err != nil {
		return nil, 0, err
	}
	p := &proc{addr: "127.0.0.1:" + strconv.Itoa(port), admin: "127.0.0.1:" + strconv.Itoa(adminPort)}
	p.cmd = exec.Command(bin, args...) //nolint:noctx // the server outlives this call; stop ends it with SIGINT, as in production
	p.cmd.Env = append(append(os.Environ(), env...), "PORT="+strconv.Itoa(port), "ADMIN_PORT="+strconv.Itoa(adminPort), "BENCH_ADDR="+p.addr)
	logs, err := os.CreateTemp("", "bench-server-*.log") // the logs go somewhere real, as in production
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = logs.Close() }() // the server writes through descriptors of its own
	p.log = logs.Name()
	p.cmd.Stdout, p.cmd.Stderr = logs, logs
	begun := time.Now()
	if err := p.cmd.Start(); err != nil {
		_ = os.Remove(p.log)
		return nil, 0, err
	}
	probe := p.addr
	if admin {
		probe = p.admin
	}
	ready, err := waitFor200(probe, path, begun, 20*time.Second)
	if err != nil {
		out, _ := os.ReadFile(p.log)
		p.stop()
		return nil, 0, fmt.Errorf("%s: %w\n%s", bin, err, tail(string(out), 2000))
	}
	return p, ready, nil
}

// waitFor200 polls every half millisecond: the resolution the ready-time
// figure needs.
func waitFor200(addr, path string, start time.Time, within time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second}
	for time.Since(start) < within {
		resp, err := client.Get("http://" + addr + path) //nolint:noctx // the client's Timeout bounds each poll, within bounds the wait
		if err == nil {
			_ = resp.Body.Close() // the status is the answer
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	return 0, fmt.Errorf("%s did not answer 200 within %s", path, within)
}

// statusOf is the status a plain GET of url gets, 0 if none.
func statusOf(url string) int {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url) //nolint:noctx // the client's Timeout bounds it
	if err != nil {
		return 0
	}
	_ = resp.Body.Close() // the status is the answer
	return resp.StatusCode
}

// stop ends the server whatever state it is in, so it ignores what cannot
// matter: Signal and Kill fail on a process that has exited already, and
// Wait reports the exit status a signal leaves.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	_ = os.Remove(p.log) // a measurement's logs run to tens of megabytes
}

// cpuTime is the CPU the process has used so far.
func (p *proc) cpuTime() (time.Duration, error) { return cpuTimeOf(p.cmd.Process.Pid) }

// cpuTimeOf is the CPU process pid has used so far, user and system, from
// /proc/PID/stat, whose clock ticks are USER_HZ: 100 a second on Linux.
func cpuTimeOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces; the fields after
	// it start with the state (field 3), so utime (14) and stime (15) are
	// the 12th and 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// rssMB is the resident set size now; peakRSSMB the most it has been.
func (p *proc) rssMB() float64     { return p.status("VmRSS:") }
func (p *proc) peakRSSMB() float64 { return p.status("VmHWM:") }

func (p *proc) status(field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			return float64(kb) / 1024
		}
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// runEnv runs a command to its end and returns its stdout (such as the
// token `api token create` prints there alone); a failure shows stderr too.
func runEnv(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, tail(stderr.String(), 2000), tail(string(out), 2000))
	}
	return string(out), nil
}
