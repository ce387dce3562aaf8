package manifests

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Each check, given the dev overlay's API container broken in the way the
// check is for, reports it: none of them passes whatever it is given.
func TestEachContainerCheckCatchesWhatItIsFor(t *testing.T) {
	f := readFacts(t)
	all := renderAll(t)
	dev := all[1]
	tests := []struct {
		name   string
		check  func(*report, facts, container)
		broken func(c *corev1.Container, pod *corev1.PodSpec)
		want   string
	}{
		{"an image no service builds", checkImage, func(c *corev1.Container, _ *corev1.PodSpec) { c.Image = "gantry/tasks:latest" }, "no services/tasks binary"},
		{"a command the binary does not have", checkCommand, func(c *corev1.Container, _ *corev1.PodSpec) { c.Args = []string{"server"} }, "usage error"},
		{"a setting the binary refuses", checkCommand, func(c *corev1.Container, _ *corev1.PodSpec) { setEnv(c, "SHUTDOWN_DELAY", "10") }, "refuses a setting: SHUTDOWN_DELAY"},
		{"a variable nothing reads", checkEnvNames, func(c *corev1.Container, _ *corev1.PodSpec) { setEnv(c, "SHUTDOWN_DELAI", "10s") }, "SHUTDOWN_DELAI is read by nothing"},
		{"the database URL in the environment", checkSecretFiles, func(c *corev1.Container, _ *corev1.PodSpec) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "database_url"}}})
		}, "comes from a Secret"},
		{"a secret file no volume holds", checkSecretFiles, func(c *corev1.Container, _ *corev1.PodSpec) {
			setEnv(c, "DATABASE_URL_FILE", "/etc/gantry/database_url")
		}, "no volume is mounted there"},
		{"the bootstrap token mounted into the API", checkSecretFiles, func(c *corev1.Container, _ *corev1.PodSpec) {
			setEnv(c, "BOOTSTRAP_TOKEN_FILE", "/run/secrets/gantry-database/database_url")
		}, "mounted where it is not read"},
		{"no seccomp profile", checkSecurity, func(_ *corev1.Container, pod *corev1.PodSpec) { pod.SecurityContext.SeccompProfile = nil }, "seccompProfile must be RuntimeDefault"},
		{"a user other than the image's", checkSecurity, func(_ *corev1.Container, pod *corev1.PodSpec) { pod.SecurityContext.RunAsUser = ptr.To[int64](1000) }, "the image's user is 65532:65532"},
		{"a writable root filesystem", checkSecurity, func(c *corev1.Container, _ *corev1.PodSpec) { c.SecurityContext.ReadOnlyRootFilesystem = ptr.To(false) }, "readOnlyRootFilesystem"},
		{"a readiness path the binary does not serve", checkPortsAndProbes, func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.HTTPGet.Path = "/ready" }, "want /readyz"},
		{"probes on the API's port", checkPortsAndProbes, func(c *corev1.Container, _ *corev1.PodSpec) { c.LivenessProbe.HTTPGet.Port = intstr.FromString("http") }, "want the admin listener's, 9090"},
		{"a port the binary does not open", checkPortsAndProbes, func(c *corev1.Container, _ *corev1.PodSpec) { c.Ports[0].ContainerPort = 8081 }, "port http (8081)"},
		{"a grace period shorter than the drain", checkShutdown, func(_ *corev1.Container, pod *corev1.PodSpec) { pod.TerminationGracePeriodSeconds = ptr.To[int64](20) }, "the kubelet would kill a draining pod"},
		{"no shutdown delay behind a Service", checkShutdown, func(c *corev1.Container, _ *corev1.PodSpec) { setEnv(c, "SHUTDOWN_DELAY", "0s") }, "at least 5s"},
		{"GOMEMLIMIT in mebibytes", checkResources, func(c *corev1.Container, _ *corev1.PodSpec) {
			e, _ := env(c, "GOMEMLIMIT")
			e.ValueFrom.ResourceFieldRef.Divisor = resource.MustParse("1Mi")
			setEnvVar(c, e)
		}, "read as bytes"},
		{"no memory limit", checkResources, func(c *corev1.Container, _ *corev1.PodSpec) { delete(c.Resources.Limits, corev1.ResourceMemory) }, "no memory limit"},
	}
	t.Run("finds a prod image by tag", func(t *testing.T) {
		c := brokenAPI(t, all[2], func(c *corev1.Container, _ *corev1.PodSpec) { c.Image = "ghcr.io/gantry-dev/gantry/api:latest" })
		rep := &report{t: t}
		checkImage(rep, f, c)
		if want := "by digest only"; !strings.Contains(strings.Join(rep.problems, "\n"), want) {
			t.Fatalf("want a problem with %q; got %q", want, rep.problems)
		}
	})
	for _, tt := range tests {
		t.Run("finds "+tt.name, func(t *testing.T) {
			c := brokenAPI(t, dev, tt.broken)
			rep := &report{t: t}
			tt.check(rep, f, c)
			if !strings.Contains(strings.Join(rep.problems, "\n"), tt.want) {
				t.Fatalf("want a problem with %q; got %q", tt.want, rep.problems)
			}
		})
	}
}

// brokenAPI is the API container of k, copied, with broken applied.
func brokenAPI(t *testing.T, k rendered, broken func(*corev1.Container, *corev1.PodSpec)) container {
	t.Helper()
	d, err := Find[appsv1.Deployment](k.Objects, "Deployment", "gantry-api")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := d.Spec.Template.DeepCopy()
	c := &tmpl.Spec.Containers[0]
	broken(c, &tmpl.Spec)
	svc, _ := service(c.Image)
	return container{r: k, w: Workload{Object: Object{Kind: "Deployment", Name: d.Name, Value: d}, Template: tmpl}, c: c, svc: svc}
}

func setEnv(c *corev1.Container, name, value string) {
	setEnvVar(c, corev1.EnvVar{Name: name, Value: value})
}

func setEnvVar(c *corev1.Container, e corev1.EnvVar) {
	for i := range c.Env {
		if c.Env[i].Name == e.Name {
			c.Env[i] = e
			return
		}
	}
	c.Env = append(c.Env, e)
}

// The object checks, each given a kustomization broken in its way.
func TestEachObjectCheckCatchesWhatItIsFor(t *testing.T) {
	f := readFacts(t)
	tests := []struct {
		name   string
		check  func(*report, facts, rendered)
		broken func(t *testing.T, k *rendered)
		want   string
	}{
		{"a migration on another image than the API's", checkMigration, func(t *testing.T, k *rendered) {
			deployment(t, k, "gantry-api").Spec.Template.Spec.Containers[0].Image = "gantry/api:next"
		}, "the schema must be the one"},
		{"a Deployment in the migration's phase", checkMigration, func(t *testing.T, k *rendered) {
			deployment(t, k, "gantry-api").Labels["app.kubernetes.io/component"] = "web"
		}, "before the migration has run"},
		{"a Deployment whose selector misses its pods", checkSelection, func(t *testing.T, k *rendered) {
			deployment(t, k, "gantry-api").Spec.Template.Labels["app.kubernetes.io/component"] = "web"
		}, "its selector does not match its pods' labels"},
		{"the API's egress to the internet", checkNetworkPolicies, func(t *testing.T, k *rendered) {
			p := policy(t, k, "gantry-database-clients")
			p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}})
		}, "only the notifier may"},
		{"the database open to other namespaces", checkNetworkPolicies, func(t *testing.T, k *rendered) {
			policy(t, k, "gantry-database").Spec.Ingress[0].From[0].NamespaceSelector = &metav1.LabelSelector{}
		}, "pods of other namespaces"},
		{"no default deny", checkNetworkPolicies, func(t *testing.T, k *rendered) {
			policy(t, k, "gantry-default-deny").Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		}, "no policy denies all traffic"},
		{"a service without a Deployment", checkEveryService, func(_ *testing.T, k *rendered) {
			k.Objects = slices.DeleteFunc(k.Objects, func(o Object) bool { return o.ID() == "Deployment/gantry-notifier" })
		}, "services/notifier has an image in oci/ but no Deployment"},
		{"a database Service the URL does not name", checkDevDatabase, func(_ *testing.T, k *rendered) {
			for i, o := range k.Objects {
				if o.Kind == "Service" && o.Name == "db" {
					k.Objects[i].Name = "postgres"
				}
			}
		}, "the database URL's host is db"},
	}
	for _, tt := range tests {
		t.Run("finds "+tt.name, func(t *testing.T) {
			k := renderAll(t)[1] // a fresh rendering to break
			tt.broken(t, &k)
			rep := &report{t: t}
			tt.check(rep, f, k)
			if !strings.Contains(strings.Join(rep.problems, "\n"), tt.want) {
				t.Fatalf("want a problem with %q; got %q", tt.want, rep.problems)
			}
		})
	}
}

func deployment(t *testing.T, k *rendered, name string) *appsv1.Deployment {
	t.Helper()
	d, err := Find[appsv1.Deployment](k.Objects, "Deployment", name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func policy(t *testing.T, k *rendered, name string) *networkingv1.NetworkPolicy {
	t.Helper()
	p, err := Find[networkingv1.NetworkPolicy](k.Objects, "NetworkPolicy", name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
