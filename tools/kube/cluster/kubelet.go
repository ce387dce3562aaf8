package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// kubeletConfig: this machine's cgroups are v1 (hybrid), which the kubelet
// only accepts with failCgroupV1: false; cgroupfs as containerd's runc; no
// anonymous access, clients proven by the cluster CA; the pod logs in the
// state directory; image garbage collection off, since an image it
// removed could not be pulled back; eviction thresholds low enough that a
// developer's full disk does not evict the pods under test.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %[2]s/ca.crt}
authorization: {mode: AlwaysAllow}
tlsCertFile: %[2]s/kubelet.crt
tlsPrivateKeyFile: %[2]s/kubelet.key
containerRuntimeEndpoint: unix://%[3]s
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
podCIDR: %[4]s
maxPods: 20
clusterDomain: cluster.local
podLogsDir: %[5]s
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
`

// kubeProxyConfig: iptables mode, so a Service's ClusterIP works from the
// host and from pods. It is told to leave the host's conntrack limits and
// timeouts alone (zero) and to serve NodePorts on the node's address only,
// not on localhost, which would need route_localnet.
const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: %[1]s
clientConnection: {kubeconfig: %[2]s}
clusterCIDR: %[3]s
healthzBindAddress: 127.0.0.1:%[5]d
metricsBindAddress: 127.0.0.1:%[6]d
nodePortAddresses: [%[4]s/32]
iptables: {localhostNodePorts: false}
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`

func (c *Cluster) startNode(ctx context.Context, detach bool) error {
	dir := filepath.Join(c.State, "kubelet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, user := range []string{"node", "kube-proxy"} {
		if err := c.writeKubeconfig(c.kubeconfig(user), user); err != nil {
			return err
		}
	}
	kubelet := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(kubelet, fmt.Appendf(nil, kubeletConfig, NodeIP, c.pki(""), c.Socket, PodCIDR, filepath.Join(dir, "pod-logs")), 0o644); err != nil {
		return err
	}
	// The root and cert directories default to /var/lib/kubelet; here they
	// go with the rest of the cluster.
	err := c.start("kubelet", "kubelet", detach, "--config="+kubelet, "--kubeconfig="+c.kubeconfig("node"),
		"--root-dir="+filepath.Join(dir, "root"), "--cert-dir="+filepath.Join(dir, "pki"),
		"--node-ip="+NodeIP, "--hostname-override="+NodeName)
	if err != nil {
		return err
	}
	proxy := filepath.Join(c.State, "kube-proxy.yaml")
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	if err := os.WriteFile(proxy, fmt.Appendf(nil, kubeProxyConfig, NodeName, c.kubeconfig("kube-proxy"), PodCIDR, NodeIP, ports[0], ports[1]), 0o644); err != nil {
		return err
	}
	if err := c.start("kube-proxy", "kube-proxy", detach, "--config="+proxy); err != nil {
		return err
	}
	return poll(ctx, "node "+NodeName+" Ready", c.failed, func() (bool, error) {
		out, err := c.Kubectl(ctx, "", "get", "node", NodeName, "--output=jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
		return err == nil && strings.TrimSpace(out) == "True", nil
	})
}
