// Package cluster runs Kubernetes on this machine for tools/kube and its
// tests: a control plane that validates manifests server-side, and a
// single-node cluster that Up starts and Down tears down, restoring the
// host it changed.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The node's names and addresses. Each belongs to the cluster alone, which
// is how `down` knows what to remove, and why one cluster runs at a time.
const (
	NodeName   = "gantry-node"
	NodeIP     = "10.255.0.1"   // on nodeLink: the kubelet refuses a loopback IP
	nodeLink   = "gantry-kube0" // an empty bridge, the node's own interface
	bridge     = "gantry-cni0"
	PodCIDR    = "10.244.0.0/24"
	PauseImage = "registry.k8s.io/pause:3.10"
)

// StateDir is where `up` keeps a cluster: $GANTRY_KUBE_STATE, by default
// /var/tmp/gantry-kube: on disk (images and pod logs live there), and at a
// fixed path, so that `down` finds it after a crash.
func StateDir(getenv func(string) string) string {
	if s := getenv("GANTRY_KUBE_STATE"); s != "" {
		return s
	}
	return "/var/tmp/gantry-kube"
}

// Options configure Up.
type Options struct {
	Root   string // the repository root, for tools/kube's scripts and the pause image
	Bin    Binaries
	State  string    // the cluster's directory; it must not exist yet
	Detach bool      // leave the cluster running after this process ends
	Log    io.Writer // a line per phase, with its duration
}

// Cluster is a single-node Kubernetes: the control plane, a
// controller-manager and scheduler, and a node of a kubelet, kube-proxy
// and a containerd of its own.
type Cluster struct {
	*ControlPlane
	State  string
	Socket string // the node's containerd
}

// controlPlaneLimit bounds a validating control plane's start: generous
// for a busy 2-core machine, short enough that a hang fails rather than
// stalls. Up's phases have limits of their own.
const controlPlaneLimit = 90 * time.Second

// Up starts a cluster, tearing down whatever it started if a phase fails.
// It needs root: it adds a network interface, runs containers and lets the
// kubelet and kube-proxy change iptables and sysctls, all of which Down
// restores from the snapshot Up takes first.
func Up(ctx context.Context, o Options) (*Cluster, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := preflight(o.State); err != nil {
		return nil, err
	}
	c, err := up(ctx, o)
	if err != nil {
		logf(o.Log, "up failed: %v\ntearing down\n", err)
		if derr := Down(o.State, o.Log); derr != nil {
			err = errors.Join(err, fmt.Errorf("and tearing down: %w", derr))
		}
		return nil, err
	}
	return c, nil
}

func up(ctx context.Context, o Options) (*Cluster, error) {
	if err := os.MkdirAll(o.State, 0o755); err != nil {
		return nil, err
	}
	before, err := SnapshotHost()
	if err != nil {
		return nil, err
	}
	if err := SaveHost(filepath.Join(o.State, hostBeforeFile), before); err != nil {
		return nil, err
	}
	c := &Cluster{State: o.State, Socket: filepath.Join(o.State, "containerd", "containerd.sock")}
	cni := ""
	phases := []struct {
		name  string
		limit time.Duration
		run   func(context.Context) error
	}{
		{"node interface " + nodeLink + " " + NodeIP, 10 * time.Second, func(context.Context) error { return addNodeLink() }},
		{"pod forwarding " + podForwardChain, 10 * time.Second, func(context.Context) error { return addPodForwarding() }},
		{"etcd and kube-apiserver", 90 * time.Second, func(ctx context.Context) error {
			cp, err := startControlPlane(ctx, o.Root, o.Bin, o.State, controlPlaneOptions{ip: NodeIP, detach: o.Detach})
			c.ControlPlane = cp
			return err
		}},
		{"controller-manager and scheduler", 10 * time.Second, func(context.Context) error { return c.startControllers(o.Detach) }},
		{"CNI plugins", 2 * time.Minute, func(ctx context.Context) (err error) {
			cni, err = script(ctx, o.Root, "cni-plugins")
			return err
		}},
		{"containerd", 30 * time.Second, func(ctx context.Context) error { return c.startContainerd(ctx, cni, o.Detach) }},
		// Go builds the pause program: seconds with a warm build cache.
		{"pause image", 3 * time.Minute, func(ctx context.Context) error { return c.importPause(ctx, o.Root) }},
		{"kubelet and kube-proxy, node Ready", 3 * time.Minute, func(ctx context.Context) error { return c.startNode(ctx, o.Detach) }},
		{"controllers: default ServiceAccount", 90 * time.Second, c.waitDefaultServiceAccount},
	}
	for _, p := range phases {
		start := time.Now()
		ctx, cancel := context.WithTimeoutCause(ctx, p.limit, fmt.Errorf("not done within %v", p.limit))
		err := p.run(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		logf(o.Log, "up: %s: ok (%.1fs)\n", p.name, time.Since(start).Seconds())
	}
	return c, nil
}

// logf writes a progress line of Up's or Down's. The lines are for whoever
// watches; a log that cannot be written to must not stop either.
func logf(log io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(log, format, args...)
}

func (c *Cluster) startControllers(detach bool) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	for _, user := range []string{"controller-manager", "scheduler"} {
		if err := c.writeKubeconfig(c.kubeconfig(user), user); err != nil {
			return err
		}
	}
	cm := c.kubeconfig("controller-manager")
	err = c.start("kube-controller-manager", "kube-controller-manager", detach,
		"--kubeconfig="+cm, "--authentication-kubeconfig="+cm, "--authorization-kubeconfig="+cm,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(ports[0]),
		"--service-account-private-key-file="+c.pki("sa.key"), "--root-ca-file="+c.pki("ca.crt"),
		"--cluster-signing-cert-file="+c.pki("ca.crt"), "--cluster-signing-key-file="+c.pki("ca.key"),
		"--use-service-account-credentials=true", "--service-cluster-ip-range="+ServiceCIDR,
		"--profiling=false")
	if err != nil {
		return err
	}
	s := c.kubeconfig("scheduler")
	return c.start("kube-scheduler", "kube-scheduler", detach,
		"--kubeconfig="+s, "--authentication-kubeconfig="+s, "--authorization-kubeconfig="+s,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(ports[1]),
		"--profiling=false")
}

func (c *Cluster) kubeconfig(user string) string {
	return filepath.Join(c.State, user+".kubeconfig")
}

// waitDefaultServiceAccount waits for the controller-manager to create the
// default namespace's ServiceAccount: until then no pod can be admitted.
func (c *Cluster) waitDefaultServiceAccount(ctx context.Context) error {
	return poll(ctx, "the default ServiceAccount", c.failed, func() (bool, error) {
		_, err := c.Kubectl(ctx, "", "get", "serviceaccount", "default", "--namespace=default")
		return err == nil, nil
	})
}

// Env is what a shell needs to use the cluster.
func (c *Cluster) Env() string {
	return fmt.Sprintf("export KUBECONFIG=%s\nexport PATH=%s:$PATH\n", c.Kubeconfig, c.bin)
}

// Load reattaches to a cluster `up -detach` left running in state.
func Load(state string, bin Binaries) (*Cluster, error) {
	kubeconfig := filepath.Join(state, "admin.kubeconfig")
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("no cluster in %s (run `go run ./tools/kube up`): %w", state, err)
	}
	server := ""
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "server: "); ok {
			server = v
		}
	}
	cp := &ControlPlane{Dir: state, Server: server, Kubeconfig: kubeconfig, bin: bin}
	return &Cluster{ControlPlane: cp, State: state, Socket: filepath.Join(state, "containerd", "containerd.sock")}, nil
}
