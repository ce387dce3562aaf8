package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ServiceCIDR holds the cluster's Service IPs; the first, 10.96.0.1, is the
// kubernetes Service, which the apiserver's certificate names.
const ServiceCIDR = "10.96.0.0/16"

// ControlPlane is etcd and kube-apiserver, started by StartControlPlane.
type ControlPlane struct {
	Dir        string // certificates, etcd's data, logs, pid files
	Server     string // https://IP:PORT
	Kubeconfig string // an admin (system:masters) kubeconfig
	bin        Binaries
	procs      []*process
}

// controlPlaneOptions differ between a validating control plane (loopback,
// no Service endpoints, dies with its parent) and a cluster's.
type controlPlaneOptions struct {
	ip     string // the apiserver's address; 127.0.0.1 or the node's
	detach bool   // outlive this process (tools/kube up)
	extra  []string
}

// StartControlPlane starts etcd and kube-apiserver on 127.0.0.1, on free
// ports, in dir, and returns once /readyz answers. Without a
// controller-manager nothing runs the objects it accepts: it is for
// server-side validation. Stop it with Stop.
func StartControlPlane(ctx context.Context, root string, bin Binaries, dir string) (*ControlPlane, error) {
	ctx, cancel := context.WithTimeout(ctx, controlPlaneLimit)
	defer cancel()
	cp, err := startControlPlane(ctx, root, bin, dir, controlPlaneOptions{
		ip: "127.0.0.1",
		// A loopback address cannot be the kubernetes Service's endpoint;
		// without this the apiserver exits rather than start.
		extra: []string{"--endpoint-reconciler-type=none"},
	})
	if err != nil {
		if cp != nil {
			err = errors.Join(err, cp.Stop())
		}
		return nil, err
	}
	return cp, nil
}

func startControlPlane(ctx context.Context, root string, bin Binaries, dir string, o controlPlaneOptions) (*ControlPlane, error) {
	cp := &ControlPlane{Dir: dir, bin: bin}
	if _, err := script(ctx, root, "certs", cp.pki(""), NodeName, o.ip); err != nil {
		return cp, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return cp, err
	}
	etcdClient := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	if err := cp.start("etcd", "etcd", o.detach,
		"--name=gantry", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdClient, "--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=gantry="+peer, "--log-level=warn",
		// Durability is not the point of a throwaway cluster.
		"--unsafe-no-fsync",
	); err != nil {
		return cp, err
	}
	cp.Server = "https://" + net.JoinHostPort(o.ip, strconv.Itoa(ports[2]))
	args := []string{
		"--etcd-servers=" + etcdClient,
		"--bind-address=" + o.ip, "--advertise-address=" + o.ip, "--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + cp.pki("apiserver.crt"), "--tls-private-key-file=" + cp.pki("apiserver.key"),
		"--client-ca-file=" + cp.pki("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + cp.pki("sa.pub"),
		"--service-account-signing-key-file=" + cp.pki("sa.key"),
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--kubelet-client-certificate=" + cp.pki("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + cp.pki("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority=" + cp.pki("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
		"--profiling=false",
	}
	if err := cp.start("kube-apiserver", "kube-apiserver", o.detach, append(args, o.extra...)...); err != nil {
		return cp, err
	}
	cp.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := cp.writeKubeconfig(cp.Kubeconfig, "admin"); err != nil {
		return cp, err
	}
	return cp, cp.waitReady(ctx)
}

func (cp *ControlPlane) pki(name string) string { return filepath.Join(cp.Dir, "pki", name) }

func (cp *ControlPlane) start(name, bin string, detach bool, args ...string) error {
	p, err := startProcess(cp.Dir, name, cp.bin.path(bin), args, detach)
	if err != nil {
		return err
	}
	cp.procs = append(cp.procs, p)
	return nil
}

// failed reports the first of the cluster's processes to have exited.
func (cp *ControlPlane) failed() error {
	for _, p := range cp.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

// writeKubeconfig writes a kubeconfig for the client cert pki/USER.crt.
func (cp *ControlPlane) writeKubeconfig(path, user string) error {
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: gantry
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: gantry
  context: {cluster: gantry, user: %s}
current-context: gantry
`, cp.Server, cp.pki("ca.crt"), user, cp.pki(user+".crt"), cp.pki(user+".key"), user)
	return os.WriteFile(path, []byte(config), 0o600)
}

// waitReady polls /readyz as the admin until it answers 200.
func (cp *ControlPlane) waitReady(ctx context.Context) error {
	client, err := cp.adminClient()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.Server+"/readyz", nil)
	if err != nil {
		return err
	}
	return poll(ctx, "kube-apiserver "+cp.Server+"/readyz", cp.failed, func() (bool, error) {
		// No answer yet is not ready yet; poll knows when to give up.
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close() // the status is the answer
		}
		return err == nil && resp.StatusCode == http.StatusOK, nil
	})
}

func (cp *ControlPlane) adminClient() (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(cp.pki("admin.crt"), cp.pki("admin.key"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(cp.pki("ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool},
	}}, nil
}

// Stop stops the control plane (kube-apiserver before etcd) and removes
// its directory.
func (cp *ControlPlane) Stop() error {
	var errs []error
	for i := len(cp.procs) - 1; i >= 0; i-- {
		if err := stopRecorded(cp.Dir, cp.procs[i].name, 10*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.RemoveAll(cp.Dir)
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago; the listeners stay open until all are chosen, so none repeats.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close() // nothing connected: only the port was wanted
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0") //nolint:noctx // binding returns at once: nothing to cancel
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// poll calls ready every 200 ms until it says true, failed reports an
// error, or ctx ends (a phase's limit); the error names what was awaited.
func poll(ctx context.Context, what string, failed func() error, ready func() (bool, error)) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := ready()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if err := failed(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// Binaries are the programs the control plane runs, kubectl among them.
func (cp *ControlPlane) Binaries() Binaries { return cp.bin }
