package cluster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireEnv makes missing Kubernetes binaries (or, for the node tests, a
// missing root or containerd) a failure instead of a skip: a CI that has
// built them must not pass by skipping.
const RequireEnv = "GANTRY_REQUIRE_KUBE"

// NodeEnv lets `go test` start a node: a kubelet changes the host
// (iptables chains, sysctls, mounts, cgroups, a bridge), so a test starts
// one only when asked, with GANTRY_KUBE=1 or GANTRY_REQUIRE_KUBE=1, never
// merely because the binaries happen to be built. GANTRY_KUBE=off skips
// the control-plane tests too (CI's plain `go test ./...`, whose Kubernetes
// step runs them all).
const NodeEnv = "GANTRY_KUBE"

// Binaries is the directory tools/kube/build-binaries fills: kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl and
// etcd, at the versions .ci/tools/kubernetes and .ci/tools/etcd pin.
type Binaries string

func (b Binaries) path(name string) string { return filepath.Join(string(b), name) }

// FindBinaries returns the binaries if they are built, without building.
func FindBinaries(ctx context.Context, root string) (Binaries, error) {
	return binaries(ctx, root, "--check")
}

// BuildBinaries builds the binaries unless they are cached: about half an
// hour on 2 cores the first time. Progress goes to the process's stderr.
func BuildBinaries(ctx context.Context, root string) (Binaries, error) {
	return binaries(ctx, root)
}

func binaries(ctx context.Context, root string, args ...string) (Binaries, error) {
	out, err := script(ctx, root, "build-binaries", args...)
	return Binaries(out), err
}

// script runs one of tools/kube's scripts and returns its one line of output.
func script(ctx context.Context, root, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "tools", "kube", name), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if name == "build-binaries" && len(args) == 0 {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", errors.New(msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// NeedBinaries returns the binaries, or skips t when they are not built
// (failing it instead when GANTRY_REQUIRE_KUBE is set).
func NeedBinaries(t testing.TB, root string) Binaries {
	t.Helper()
	if os.Getenv(NodeEnv) == "off" && os.Getenv(RequireEnv) == "" {
		t.Skipf("SKIPPING: %s=off", NodeEnv)
	}
	bin, err := FindBinaries(t.Context(), root)
	if err != nil {
		Unavailable(t, err)
	}
	return bin
}

// Unavailable skips t for a missing prerequisite, or fails it when
// GANTRY_REQUIRE_KUBE is set.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%v (%s is set, so this fails rather than skips)", err, RequireEnv)
	}
	t.Skipf("SKIPPING: %v (set %s=1 to make this a failure)", err, RequireEnv)
}
