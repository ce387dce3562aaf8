package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/tools/gobuild"
)

// RepoRoot is the repository's root, for tests anywhere in it.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := gobuild.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// NewTestControlPlane starts a validating control plane for t, stopped
// when t ends; t skips when the binaries are not built.
func NewTestControlPlane(t testing.TB, root string) *ControlPlane {
	t.Helper()
	bin := NeedBinaries(t, root)
	start := time.Now()
	cp, err := StartControlPlane(t.Context(), root, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("control plane ready in %.1fs", time.Since(start).Seconds())
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
	})
	return cp
}

// NewTestCluster starts a single-node cluster for t and tears it down when
// t ends, failing t if the host is not as it was. t skips unless asked
// (NodeEnv), without the binaries, root or containerd, and waits while
// another test's cluster runs on this machine.
func NewTestCluster(t testing.TB, root string) *Cluster {
	t.Helper()
	if os.Getenv(NodeEnv) != "1" && os.Getenv(RequireEnv) == "" {
		t.Skipf("SKIPPING: a node changes this host's iptables, sysctls and mounts (and restores them); set %s=1 to run it", NodeEnv)
	}
	bin := NeedBinaries(t, root)
	if os.Geteuid() != 0 {
		Unavailable(t, fmt.Errorf("a node needs root"))
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		Unavailable(t, fmt.Errorf("containerd is not installed (apt-get install -y containerd)"))
	}
	lockHost(t)
	// The host as this test found it, once no other cluster runs: checked
	// again after the teardown, whatever else the test cleans up.
	before, err := SnapshotHost()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostUnchanged(t, before) })
	tmp, err := os.MkdirTemp("", "gkube-")
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tmp, "state")
	log := testLog{t}
	c, err := Up(t.Context(), Options{Root: root, Bin: bin, State: state, Log: log})
	if err != nil {
		if rerr := os.RemoveAll(tmp); rerr != nil {
			t.Log(rerr)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		start := time.Now()
		if err := Down(state, log); err != nil {
			t.Error(err)
		}
		t.Logf("down in %.1fs", time.Since(start).Seconds())
		// Empty once Down removed the state; if Down failed, it said so
		// above, and the state stays for a look.
		_ = os.Remove(tmp)
	})
	return c
}

// hostLock is held by the test process whose cluster runs on this machine.
const hostLock = "/var/tmp/gantry-kube.lock"

// lockHost waits until no other test process on this machine runs a
// cluster, and keeps it so until t's cleanup (after the cluster's
// teardown, registered later): a node's names and addresses are fixed,
// so two at once would fail, as `go test ./...` would start them, one per
// package.
func lockHost(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(hostLock, os.O_CREATE|os.O_RDWR, 0o644) //nolint:gosec // G302: a lock file, empty, for every user of the machine
	if err != nil {
		t.Fatal(err)
	}
	for waited := false; ; waited = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			t.Fatalf("lock %s: %v", hostLock, err)
		}
		if !waited {
			t.Logf("waiting for another test's cluster on this machine to go (%s)", hostLock)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("still waiting for %s: %v", hostLock, t.Context().Err())
		case <-time.After(time.Second):
		}
	}
	t.Cleanup(func() { _ = f.Close() }) // closing releases the lock
}

// testLog writes each line to t.Log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.t.Log(line)
	}
	return len(p), nil
}

// Phase runs f within limit, failing t with the phase's name, and logs how
// long it took: every step of a cluster test is bounded, so a hang fails
// the step rather than stalls the run.
func Phase(t *testing.T, name string, limit time.Duration, f func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	start := time.Now()
	if err := f(ctx); err != nil {
		t.Fatalf("%s (limit %v): %v", name, limit, err)
	}
	t.Logf("%s: ok (%.1fs)", name, time.Since(start).Seconds())
}

// hostUnchanged fails t if the host differs from before.
func hostUnchanged(t testing.TB, before Host) {
	t.Helper()
	after, err := SnapshotHost()
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(before, after); len(d) > 0 {
		t.Errorf("the host differs from before the test:\n%s", strings.Join(d, "\n"))
	}
}
