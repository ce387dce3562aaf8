package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one program the cluster runs, logging to DIR/logs/NAME.log.
// Its pid file holds the pid and the kernel's start time of the process,
// so that a later `down`, perhaps after a crash and a reboot, never signals
// a stranger that reuses the pid.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd.Wait returns
	log  string
}

// startProcess starts bin with args under dir. detach puts it in a session
// of its own, so that it outlives the command that ran `up` and a Ctrl-C in
// that terminal does not reach it; otherwise it dies with this process.
func startProcess(dir, name, bin string, args []string, detach bool) (*process, error) {
	for _, d := range []string{"logs", "pids"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) //nolint:gosec // G302: logs for whoever debugs the cluster, root or not
	if err != nil {
		return nil, err
	}
	defer func() { _ = logFile.Close() }() // the process writes through descriptors of its own
	// The process outlives this call, and with detach this program;
	// stopRecorded ends it, not a context.
	cmd := exec.Command(bin, args...) //nolint:noctx // see above
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if !detach {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(p.done) }() // exited reports cmd.ProcessState
	start, err := startTime(cmd.Process.Pid)
	if err == nil {
		err = os.WriteFile(pidFile(dir, name), fmt.Appendf(nil, "%d %d\n", cmd.Process.Pid, start), 0o644)
	}
	if err != nil {
		_ = cmd.Process.Kill() // fails only if it has exited already
		return nil, err
	}
	return p, nil
}

func pidFile(dir, name string) string { return filepath.Join(dir, "pids", name+".pid") }

// exited reports whether the process has ended, with the end of its log.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); the end of %s:\n%s", p.name, p.cmd.ProcessState, p.log, tail(p.log, 15))
	default:
		return nil
	}
}

// stopRecorded stops the process DIR/pids/NAME.pid names, if it still runs:
// SIGTERM, then SIGKILL after grace. It polls rather than waits, since
// after a crash the process is no child of ours.
func stopRecorded(dir, name string, grace time.Duration) error {
	data, err := os.ReadFile(pidFile(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscan(string(data), &pid, &start); err != nil {
		return fmt.Errorf("%s: %q is not \"PID START\": %w", pidFile(dir, name), data, err)
	}
	if err := signalIfSame(pid, start, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s (pid %d): %w", name, pid, err)
	}
	if !waitGone(pid, start, grace) {
		_ = signalIfSame(pid, start, syscall.SIGKILL) // waitGone tells whether it worked
		if !waitGone(pid, start, 10*time.Second) {
			return fmt.Errorf("%s (pid %d) survived SIGKILL", name, pid)
		}
	}
	return os.Remove(pidFile(dir, name))
}

func waitGone(pid int, start uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(pid, start) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func signalIfSame(pid int, start uint64, sig syscall.Signal) error {
	if !alive(pid, start) {
		return nil
	}
	err := syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// alive is true while pid is the process that started at start and is
// not a zombie.
func alive(pid int, start uint64) bool {
	fields, err := statFields(pid)
	if err != nil || fields[0] == "Z" {
		return false
	}
	got, err := strconv.ParseUint(fields[19], 10, 64)
	return err == nil && got == start
}

func startTime(pid int) (uint64, error) {
	fields, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// statFields are /proc/PID/stat's fields after the command name: the
// state first, the start time (field 22 of proc(5)) at index 19.
func statFields(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	return fields, nil
}

// tail is the last n lines of a log, for an error message.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Memory is the resident memory of each process the cluster started, in
// bytes, from /proc/PID/status; the pods' memory is the kubepods cgroup's.
func (cp *ControlPlane) Memory() map[string]int64 {
	m := map[string]int64{}
	for _, p := range cp.procs {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				m[p.name] = kb << 10
			}
		}
	}
	if data, err := os.ReadFile("/sys/fs/cgroup/memory/kubepods/memory.usage_in_bytes"); err == nil {
		m["pods (kubepods cgroup)"], _ = strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	}
	return m
}
