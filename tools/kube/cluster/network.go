package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// addNodeLink gives the node its address on an interface of its own:
// reachable from the host and from pods (via the pod bridge's gateway),
// and gone with the interface. It is a bridge without ports, since the
// kernels here may lack the dummy driver; a local address works on either.
func addNodeLink() error {
	for _, args := range [][]string{
		{"link", "add", nodeLink, "type", "bridge"},
		{"addr", "add", NodeIP + "/32", "dev", nodeLink},
		{"link", "set", nodeLink, "up"},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// podForwardChain lets the host forward what pods send and receive. On a
// host with Docker the FORWARD policy is DROP, and a pod's connection to a
// Service whose pod is on the same bridge is forwarded (DNAT to the other
// pod, which br_netfilter, loaded by Docker, filters too): without this
// chain the database's clients time out. KUBE- in its name makes it one
// of the chains Down removes, and one that preflight refuses to find.
const podForwardChain = "KUBE-GANTRY-FORWARD"

func addPodForwarding() error {
	script := fmt.Sprintf("*filter\n:%[1]s - [0:0]\n-A %[1]s -s %[2]s -j ACCEPT\n-A %[1]s -d %[2]s -j ACCEPT\n-I FORWARD 1 -j %[1]s\nCOMMIT\n",
		podForwardChain, PodCIDR)
	cmd := hostCommand("iptables-restore", "--noflush")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("iptables-restore: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func ip(args ...string) error {
	if out, err := hostCommand("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}

// writeCNIConfig is the pod network: a bridge of its own with host-local
// addresses from PodCIDR, kept in the state directory. No masquerading:
// pods talk to the host and to each other, and nothing here needs them to
// reach further, so the bridge plugin adds no iptables rules. containerd
// sets up each pod's loopback itself, with the loopback plugin from binDir.
func writeCNIConfig(state string) (confDir string, err error) {
	confDir = filepath.Join(state, "cni", "net.d")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "gantry",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    }
  ]
}
`, bridge, PodCIDR, filepath.Join(state, "cni", "ipam"))
	return confDir, os.WriteFile(filepath.Join(confDir, "10-gantry.conflist"), []byte(conf), 0o644)
}
