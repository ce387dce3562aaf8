package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const hostBeforeFile = "host-before.json"

// preflight refuses to start where a cluster (this one, crashed, or
// another Kubernetes) already changed the host: Down removes everything
// named like its own, so it must be the only owner.
func preflight(state string) error {
	if os.Geteuid() != 0 {
		return errors.New("a node needs root (network interfaces, containers, iptables)")
	}
	for _, p := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is not installed: apt-get install -y containerd", p)
		}
	}
	for _, p := range []string{"ip", "iptables-save", "iptables-restore", "openssl"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is not installed", p)
		}
	}
	if _, err := os.Stat(state); err == nil {
		return fmt.Errorf("%s exists: a cluster is up, or a run crashed; run `go run ./tools/kube down` first", state)
	}
	for _, l := range []string{nodeLink, bridge} {
		if linkExists(l) {
			return fmt.Errorf("network interface %s exists, but no cluster state does; remove it (ip link delete %s)", l, l)
		}
	}
	h, err := SnapshotHost()
	if err != nil {
		return err
	}
	if len(h.Cgroups) > 0 {
		return fmt.Errorf("cgroup %s exists: another kubelet runs here, or ran and was not cleaned up", h.Cgroups[0])
	}
	for c, rules := range h.Iptables {
		for _, r := range rules {
			if strings.HasPrefix(r, ":KUBE-") {
				return fmt.Errorf("%s shows chain %s: another Kubernetes node runs here, or ran and was not cleaned up", c, strings.Fields(r)[0][1:])
			}
		}
	}
	return nil
}

// Down stops the cluster in state and restores the host to the snapshot
// Up took. It works on a cluster another process started, and after a
// crash: all it needs is the state directory. It carries on past errors,
// returns them all, and last compares the host with the snapshot.
func Down(state string, log io.Writer) error {
	if _, err := os.Stat(state); errors.Is(err, os.ErrNotExist) {
		logf(log, "down: no cluster in %s\n", state)
		return nil
	}
	before, err := LoadHost(filepath.Join(state, hostBeforeFile))
	if err != nil {
		// Up writes the snapshot before it changes anything.
		logf(log, "down: no host snapshot (%v); the run changed nothing yet\n", err)
		return os.RemoveAll(state)
	}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	socket := filepath.Join(state, "containerd", "containerd.sock")
	keep(stopRecorded(state, "kubelet", 15*time.Second))
	keep(stopRecorded(state, "kube-proxy", 10*time.Second))
	keep(removeContainers(socket, log))
	keep(stopRecorded(state, "containerd", 15*time.Second))
	keep(killLeftovers(socket))
	for _, name := range []string{"kube-controller-manager", "kube-scheduler", "kube-apiserver", "etcd"} {
		keep(stopRecorded(state, name, 10*time.Second))
	}
	keep(unmountUnder(state, before))
	keep(removeKubeChains())
	keep(removeNewTables(before))
	keep(removeNewNfacct(before))
	keep(restoreSysctls(before))
	keep(removeCgroups(before))
	for _, l := range []string{bridge, nodeLink} {
		if linkExists(l) {
			keep(ip("link", "delete", l))
		}
	}
	keep(removeNewPaths(before))
	if len(errs) == 0 {
		keep(removeState(state))
	}
	after, err := SnapshotHost()
	keep(err)
	if d := Diff(before, after); len(d) > 0 && err == nil {
		keep(fmt.Errorf("the host differs from before the cluster:\n%s", strings.Join(d, "\n")))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	logf(log, "down: host restored\n")
	return nil
}

// removeContainers stops every container through the node's containerd,
// sandboxes included, so that each shim exits and removes its socket.
func removeContainers(socket string, log io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ctr(ctx, socket, nil, "version"); err != nil {
		return nil // not running: killLeftovers finds what it left
	}
	out, err := ctr(ctx, socket, nil, "containers", "list", "--quiet")
	if err != nil {
		return err
	}
	ids := strings.Fields(out)
	var errs []error
	for _, id := range ids {
		// A container never started has no task, so these two may fail:
		// only its record goes, and deleting that reports what matters.
		_, _ = ctr(ctx, socket, nil, "tasks", "kill", "--signal=SIGKILL", id)
		_, _ = ctr(ctx, socket, nil, "tasks", "delete", "--force", id)
		if _, err := ctr(ctx, socket, nil, "containers", "delete", id); err != nil {
			errs = append(errs, err)
		}
	}
	logf(log, "down: removed %d containers\n", len(ids))
	return errors.Join(errs...)
}

// killLeftovers kills what outlived containerd: shims that serve its
// socket, and processes still in the kubelet's pod cgroups.
func killLeftovers(socket string) error {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if i := slices.Index(args, "-address"); i >= 0 && i+1 < len(args) && args[i+1] == socket {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	for _, d := range kubepodsDirs(nil) {
		data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, s := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(s); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL) // the wait below finds any that survived
	}
	for _, pid := range pids {
		start, err := startTime(pid)
		if err == nil && !waitGone(pid, start, 10*time.Second) {
			return fmt.Errorf("pid %d survived SIGKILL", pid)
		}
	}
	return nil
}

// mountRoots are where a node mounts: the state directory (the kubelet's
// root, pod volumes, containers' root filesystems and network namespaces)
// and, should a default apply after all, the kubelet's and containerd's
// usual places. A mount elsewhere is someone else's.
func mountRoots(state string) []string {
	return []string{state, "/var/lib/kubelet", "/run/netns", "/var/run/netns", "/run/containerd"}
}

// unmountUnder detaches every mount the run made under mountRoots,
// deepest first.
func unmountUnder(state string, before Host) error {
	now, err := mountPoints()
	if err != nil {
		return err
	}
	var ours []string
	for _, m := range now {
		if under(m, mountRoots(state)) && !slices.Contains(before.Mounts, m) && !slices.Contains(ours, m) {
			ours = append(ours, m)
		}
	}
	slices.SortFunc(ours, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	var errs []error
	for _, m := range ours {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("umount -l %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

func under(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+"/") {
			return true
		}
	}
	return false
}

// removeKubeChains deletes every KUBE-* chain and every jump to one, in
// each table of each iptables backend, IPv4 and IPv6: what the kubelet
// (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) and kube-proxy
// (KUBE-SERVICES and the rest) add. Preflight made sure none was there.
func removeKubeChains() error {
	var errs []error
	for _, save := range saveCommands {
		if _, err := exec.LookPath(save); err != nil {
			continue
		}
		out, err := hostCommand(save).Output()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", save, err))
			continue
		}
		script := kubeChainRemoval(iptablesRules(out))
		if script == "" {
			continue
		}
		restore := hostCommand(strings.Replace(save, "-save", "-restore", 1), "--noflush")
		restore.Stdin = strings.NewReader(script)
		if out, err := restore.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v: %s\n%s", restore.Path, err, out, script))
		}
	}
	return errors.Join(errs...)
}

// kubeChainRemoval turns iptables-save rules into an iptables-restore
// script that removes the KUBE-* chains: first the jumps into them from
// other chains, then their rules, then the chains.
func kubeChainRemoval(rules []string) string {
	var b strings.Builder
	var table string
	var jumps, chains []string
	flush := func() {
		if table != "" && (len(jumps) > 0 || len(chains) > 0) {
			fmt.Fprintf(&b, "*%s\n", table)
			for _, j := range jumps {
				fmt.Fprintln(&b, "-D"+strings.TrimPrefix(j, "-A"))
			}
			for _, c := range chains {
				fmt.Fprintf(&b, "-F %s\n", c)
			}
			for _, c := range chains {
				fmt.Fprintf(&b, "-X %s\n", c)
			}
			b.WriteString("COMMIT\n")
		}
		jumps, chains = nil, nil
	}
	for _, r := range rules {
		f := strings.Fields(r)
		switch {
		case strings.HasPrefix(r, "*"):
			flush()
			table = r[1:]
		case strings.HasPrefix(r, ":KUBE-"):
			chains = append(chains, f[0][1:])
		case len(f) > 1 && f[0] == "-A" && !strings.HasPrefix(f[1], "KUBE-") && jumpsToKube(f):
			jumps = append(jumps, r)
		case r == "COMMIT":
			flush()
			table = ""
		}
	}
	return b.String()
}

// removeNewTables deletes the nftables tables that iptables-nft created
// for the kubelet and kube-proxy (mangle, and IPv6's filter and nat when
// Docker uses none) once removeKubeChains has emptied them. A table with
// a rule or a chain of its own is left: someone else has come to use it.
func removeNewTables(before Host) error {
	if _, err := exec.LookPath("nft"); err != nil {
		return nil //nolint:nilerr // without nft, SnapshotHost recorded no tables to compare with
	}
	out, err := hostCommand("nft", "list", "tables").Output()
	if err != nil {
		return fmt.Errorf("nft list tables: %w", err)
	}
	var errs []error
	for _, table := range nonEmptyLines(out) {
		if slices.Contains(before.Nft, table) {
			continue
		}
		args := strings.Fields(table) // table FAMILY NAME
		listing, err := hostCommand("nft", "list", "table", args[1], args[2]).Output()
		if err != nil || !emptyTable(listing) {
			continue
		}
		if out, err := hostCommand("nft", "delete", "table", args[1], args[2]).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("nft delete %s: %v: %s", table, err, out))
		}
	}
	return errors.Join(errs...)
}

// removeNewNfacct deletes the accounting objects kube-proxy created.
func removeNewNfacct(before Host) error {
	now, err := nfacctObjects()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range now {
		if !slices.Contains(before.Nfacct, name) {
			errs = append(errs, deleteNfacct(name))
		}
	}
	return errors.Join(errs...)
}

// emptyTable is true for an `nft list table` that shows only base chains
// (the ones iptables-nft creates with a table) with no rules in them.
func emptyTable(listing []byte) bool {
	for _, l := range nonEmptyLines(listing) {
		switch {
		case strings.HasPrefix(l, "#"), strings.HasPrefix(l, "table "), l == "}":
		case strings.HasPrefix(l, "chain ") && slices.Contains(baseChains, strings.TrimSuffix(strings.TrimPrefix(l, "chain "), " {")):
		case strings.HasPrefix(l, "type ") && strings.HasSuffix(l, "policy accept;"):
		default:
			return false
		}
	}
	return true
}

var baseChains = []string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

func jumpsToKube(f []string) bool {
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g" || f[i] == "--jump" || f[i] == "--goto") && strings.HasPrefix(f[i+1], "KUBE-") {
			return true
		}
	}
	return false
}

// restoreSysctls puts back what changed, except the forwarding settings
// when Docker's bridge appeared meanwhile: a Docker daemon that started
// during the run set them and needs them.
func restoreSysctls(before Host) error {
	dockerCame := linkExists("docker0") && !slices.Contains(before.Links, "docker0")
	var errs []error
	for k, v := range before.Sysctls {
		if dockerCame && (strings.Contains(k, "forward") || strings.HasPrefix(k, "net.bridge.")) {
			continue
		}
		path := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		now, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(now)) == v {
			continue
		}
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("sysctl %s=%s: %w", k, v, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroups removes the kubelet's kubepods cgroups in every
// hierarchy, children first.
func removeCgroups(before Host) error {
	var errs []error
	for _, d := range kubepodsDirs(before.Cgroups) {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// kubepodsDirs lists the kubelet's cgroups, deepest first, leaving out
// the trees in skip (which preflight makes sure are none).
func kubepodsDirs(skip []string) []string {
	var dirs []string
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods*")
	unified, _ := filepath.Glob("/sys/fs/cgroup/kubepods*")
	for _, r := range append(roots, unified...) {
		if slices.Contains(skip, r) {
			continue
		}
		// The walk goes on past what it cannot read, so it returns nil.
		_ = filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return dirs
}

// removeNewPaths removes what appeared in the watched directories since
// the snapshot, and the directories the run created. A socket someone
// still listens on is Docker's (its shims share /run/containerd/s).
func removeNewPaths(before Host) error {
	bound := boundSockets()
	var errs []error
	for _, d := range slices.Backward(watchedDirs) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		was, existed := before.Paths[d]
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			if slices.Contains(was, e.Name()) || bound[p] || slices.Contains(watchedDirs, p) {
				continue
			}
			// A network namespace is a mount; anything else is not
			// (EINVAL), and RemoveAll reports what stays.
			_ = syscall.Unmount(p, syscall.MNT_DETACH)
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
			}
		}
		if !existed {
			// Only if empty: another user of the directory may have come.
			if err := os.Remove(d); err != nil && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeState deletes the state directory, unless something is still
// mounted below it: RemoveAll would reach through the mount.
func removeState(state string) error {
	mounts, err := mountPoints()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m == state || strings.HasPrefix(m, state+"/") {
			return fmt.Errorf("%s is still mounted; not removing %s", m, state)
		}
	}
	return os.RemoveAll(state)
}
