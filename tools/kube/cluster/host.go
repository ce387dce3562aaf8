package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Host is what a node changes on the machine, recorded before `up` so that
// `down` can put it back and a check can prove it did. Docker may be
// running containers for others meanwhile; Foreign tells its churn apart.
type Host struct {
	Iptables map[string][]string // "iptables-nft-save" (etc.) -> rules, counters dropped
	Nft      []string            // nft tables
	Nfacct   []string            // netfilter accounting objects
	Sysctls  map[string]string
	Links    []string            // "name" or "name master BRIDGE"
	Mounts   []string            // mount points
	Cgroups  []string            // kubepods* directories under /sys/fs/cgroup
	Paths    map[string][]string // a directory -> its entries; absent: nil
	Docker   []string            // the subnets of Docker's bridges, whose rules are Docker's
}

// sysctls are the kernel settings the kubelet, kube-proxy and the bridge
// plugin set or may set: the kubelet's "protected kernel defaults",
// kube-proxy's localnet routing and conntrack tuning, bridge filtering,
// the bridge plugin's forwarding.
var sysctls = []string{
	"kernel.panic", "kernel.panic_on_oops", "vm.overcommit_memory", "vm.panic_on_oom",
	"kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes",
	"net.ipv4.conf.all.route_localnet", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
	"net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
	"net.netfilter.nf_conntrack_max", "net.netfilter.nf_conntrack_tcp_be_liberal",
	"net.netfilter.nf_conntrack_tcp_timeout_established", "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
}

// watchedDirs are where the kubelet, containerd and CNI write outside the
// directories they are given: the CNI result cache, pod log links, named
// network namespaces, shim sockets, and the defaults a misconfiguration
// would fall back to.
var watchedDirs = []string{
	"/var/lib/cni", "/var/log/pods", "/var/log/containers", "/var/run/netns",
	"/run/containerd", "/run/containerd/s", "/var/lib/kubelet", "/var/lib/containerd",
	"/opt/containerd", "/opt/cni", "/etc/cni", "/etc/kubernetes",
}

var saveCommands = []string{"iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save"}

// hostCommand runs one of the host's network tools (ip, iptables-save and
// -restore, nft), which answer at once. It takes no context: Down, which
// uses them, must restore the host even after a signal has cancelled its
// caller's context, and SnapshotHost serves Down as well as Up.
func hostCommand(name string, args ...string) *exec.Cmd {
	return exec.Command(name, args...) //nolint:noctx // see above
}

// SnapshotHost records the host's state.
func SnapshotHost() (Host, error) {
	h := Host{Iptables: map[string][]string{}, Sysctls: map[string]string{}, Paths: map[string][]string{}}
	var out []byte
	var err error
	for _, c := range saveCommands {
		if _, err := exec.LookPath(c); err != nil {
			continue
		}
		if out, err = hostCommand(c).Output(); err != nil {
			return h, fmt.Errorf("%s: %w", c, err)
		}
		h.Iptables[c] = iptablesRules(out)
	}
	if _, err := exec.LookPath("nft"); err == nil {
		if out, err = hostCommand("nft", "list", "tables").Output(); err != nil {
			return h, fmt.Errorf("nft list tables: %w", err)
		}
		h.Nft = nonEmptyLines(out)
	}
	if h.Nfacct, err = nfacctObjects(); err != nil {
		return h, err
	}
	for _, k := range sysctls {
		if v, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(k, ".", "/")); err == nil {
			h.Sysctls[k] = strings.TrimSpace(string(v))
		}
	}
	out, err = hostCommand("ip", "-o", "link", "show").Output()
	if err != nil {
		return h, fmt.Errorf("ip -o link show: %w", err)
	}
	h.Links = links(out)
	if out, err = hostCommand("ip", "-o", "-4", "addr", "show").Output(); err != nil {
		return h, fmt.Errorf("ip -o -4 addr show: %w", err)
	}
	h.Docker = dockerSubnets(out)
	if h.Mounts, err = mountPoints(); err != nil {
		return h, err
	}
	h.Cgroups, _ = filepath.Glob("/sys/fs/cgroup/*/kubepods*")
	if unified, _ := filepath.Glob("/sys/fs/cgroup/kubepods*"); len(unified) > 0 {
		h.Cgroups = append(h.Cgroups, unified...)
	}
	bound := boundSockets()
	for _, d := range watchedDirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		names := []string{}
		for _, e := range entries {
			// A socket someone listens on is a live shim, and after `down`
			// none of ours lives: Docker's, which shares /run/containerd/s.
			if !bound[filepath.Join(d, e.Name())] {
				names = append(names, e.Name())
			}
		}
		h.Paths[d] = names
	}
	return h, nil
}

// boundSockets are the paths of the unix sockets bound on the machine.
func boundSockets() map[string]bool {
	data, _ := os.ReadFile("/proc/net/unix")
	bound := map[string]bool{}
	for _, l := range nonEmptyLines(data) {
		if f := strings.Fields(l); len(f) == 8 && strings.HasPrefix(f[7], "/") {
			bound[f[7]] = true
		}
	}
	return bound
}

// iptablesRules is an iptables-save dump without comments and counters.
func iptablesRules(dump []byte) []string {
	var rules []string
	for _, l := range nonEmptyLines(dump) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, ":") {
			l, _, _ = strings.Cut(l, " [")
		}
		rules = append(rules, l)
	}
	return rules
}

func links(out []byte) []string {
	var names []string
	for _, l := range nonEmptyLines(out) {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if i := slices.Index(f, "master"); i > 0 && i+1 < len(f) {
			name += " master " + f[i+1]
		}
		names = append(names, name)
	}
	return names
}

// dockerSubnets are the IPv4 networks of docker0 and Docker's br-*
// bridges, from `ip -o -4 addr show`.
func dockerSubnets(out []byte) []string {
	var subnets []string
	for _, l := range nonEmptyLines(out) {
		f := strings.Fields(l)
		if len(f) < 4 || !dockerBridge.MatchString(f[1]) {
			continue
		}
		if _, n, err := net.ParseCIDR(f[3]); err == nil {
			subnets = append(subnets, n.String())
		}
	}
	return subnets
}

var dockerBridge = regexp.MustCompile(`^(docker0|br-[0-9a-f]{12})$`)

func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var points []string
	for _, l := range nonEmptyLines(data) {
		if f := strings.Fields(l); len(f) > 4 {
			points = append(points, unescapeMount(f[4]))
		}
	}
	return points, nil
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline
// and backslash.
func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

func nonEmptyLines(b []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// foreign matches what Docker adds and removes for other users of the
// machine while a cluster runs: its chains and rules, bridges, veths,
// container mounts and network namespaces. A veth of Docker's is on no
// bridge for a moment while a container starts or stops; its name has 7
// hex digits, where the CNI bridge plugin's (the pods') have 8.
var foreign = regexp.MustCompile(`DOCKER|docker0|\bbr-[0-9a-f]{12}\b|master (docker0|br-[0-9a-f]{12})$|^veth[0-9a-f]{7}$|^/(var/)?run/docker/|^/var/lib/docker/`)

var ipv4 = regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`)

// isForeign tells Docker's lines apart: by name, or, like the hairpin
// MASQUERADE rules of its published ports, by an address on its bridges.
func isForeign(line string, docker []*net.IPNet) bool {
	if foreign.MatchString(line) {
		return true
	}
	for _, a := range ipv4.FindAllString(line, -1) {
		ip := net.ParseIP(a)
		for _, n := range docker {
			if n.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// Diff lists the differences from before to after, one line each ("+" for
// what after has and before had not), leaving out Docker's churn.
func Diff(before, after Host) []string {
	var docker []*net.IPNet
	for _, c := range append(slices.Clone(before.Docker), after.Docker...) {
		if _, n, err := net.ParseCIDR(c); err == nil {
			docker = append(docker, n)
		}
	}
	diffLists := func(what string, before, after []string) []string { return diffLists(what, before, after, docker) }
	var d []string
	for _, c := range slices.Sorted(maps.Keys(merge(before.Iptables, after.Iptables))) {
		d = append(d, diffLists(c, before.Iptables[c], after.Iptables[c])...)
	}
	d = append(d, diffLists("nft", before.Nft, after.Nft)...)
	d = append(d, diffLists("nfacct", before.Nfacct, after.Nfacct)...)
	for _, k := range slices.Sorted(maps.Keys(merge(before.Sysctls, after.Sysctls))) {
		if before.Sysctls[k] != after.Sysctls[k] {
			d = append(d, fmt.Sprintf("sysctl %s: %q, was %q", k, after.Sysctls[k], before.Sysctls[k]))
		}
	}
	d = append(d, diffLists("link", before.Links, after.Links)...)
	d = append(d, diffLists("mount", before.Mounts, after.Mounts)...)
	d = append(d, diffLists("cgroup", before.Cgroups, after.Cgroups)...)
	for _, p := range slices.Sorted(maps.Keys(merge(before.Paths, after.Paths))) {
		b, inB := before.Paths[p]
		a, inA := after.Paths[p]
		switch {
		case inB && !inA:
			d = append(d, "- dir "+p)
		case inA && !inB:
			d = append(d, "+ dir "+p)
		}
		d = append(d, diffLists(p+"/", b, a)...)
	}
	return d
}

func merge[V any](a, b map[string]V) map[string]V {
	m := maps.Clone(a)
	if m == nil {
		m = map[string]V{}
	}
	maps.Copy(m, b)
	return m
}

// diffLists compares two lists as multisets, skipping foreign lines.
func diffLists(what string, before, after []string, docker []*net.IPNet) []string {
	count := map[string]int{}
	for _, l := range before {
		count[l]--
	}
	for _, l := range after {
		count[l]++
	}
	var d []string
	for _, l := range slices.Sorted(maps.Keys(count)) {
		if count[l] == 0 || isForeign(l, docker) {
			continue
		}
		sign := "+"
		if count[l] < 0 {
			sign = "-"
		}
		d = append(d, fmt.Sprintf("%s %s %s", sign, what, l))
	}
	return d
}

// SaveHost writes a snapshot as JSON, for LoadHost.
func SaveHost(path string, h Host) error {
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// LoadHost reads a snapshot SaveHost wrote.
func LoadHost(path string) (Host, error) {
	var h Host
	data, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}
