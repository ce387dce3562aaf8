package manifests

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Every container of every kustomization under deploy/, rendered and
// decoded strictly, held to the binary it runs and to the files that
// describe it elsewhere: oci/ (image, user, entrypoint), compose/
// compose.yaml (image names, the database) and the services' code (ports,
// probe paths, variable names, defaults; the binary itself runs its
// command line).
func TestTheManifestsFollowTheCode(t *testing.T) {
	f := readFacts(t)
	for _, r := range renderAll(t) {
		for _, c := range containers(r) {
			for _, ch := range containerChecks {
				if ch.gantryOnly && c.svc == "" || ch.serversOnly && (c.svc == "" || c.w.Kind == "Job") {
					continue
				}
				t.Run(fmt.Sprintf("%s %s container %s %s", r.Path, c.w.ID(), c.c.Name, ch.name), func(t *testing.T) {
					rep := &report{t: t}
					ch.check(rep, f, c)
					rep.done()
				})
			}
		}
	}
}

// containerChecks are held to every container; gantryOnly ones to those
// running a Gantry binary, serversOnly ones to those among them that
// serve (not the migration).
var containerChecks = []struct {
	name                    string
	gantryOnly, serversOnly bool
	check                   func(r *report, f facts, c container)
}{
	{"runs an image oci/ builds and compose runs", false, false, checkImage},
	{"gives a command line and settings its binary accepts", true, false, checkCommand},
	{"sets only variables its binary reads", false, false, checkEnvNames},
	{"takes secrets from mounted files, never from the environment", false, false, checkSecretFiles},
	{"runs as the image's user under the restricted profile", false, false, checkSecurity},
	{"opens the binary's ports and probes its admin listener", true, true, checkPortsAndProbes},
	{"drains within its grace period", true, true, checkShutdown},
	{"has requests and limits, and a Go heap sized to the memory limit", false, false, checkResources},
}

// report collects a check's problems, so that a test can show a check
// failing on a broken manifest without failing itself.
type report struct {
	t        *testing.T // for what is no finding: a build that fails, a missing file
	problems []string
}

func (r *report) errorf(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *report) done() {
	r.t.Helper()
	for _, p := range r.problems {
		r.t.Error(p)
	}
}

// container is one container of a workload of a rendered kustomization.
type container struct {
	r   rendered
	w   Workload
	c   *corev1.Container
	svc string // the Gantry binary it runs; "" for other images
}

func containers(r rendered) []container {
	var out []container
	for _, w := range Workloads(r.Objects) {
		for i := range w.Template.Spec.Containers {
			c := &w.Template.Spec.Containers[i]
			svc, _ := service(c.Image)
			out = append(out, container{r: r, w: w, c: c, svc: svc})
		}
	}
	return out
}

func (c container) prod() bool { return c.r.Path == "deploy/overlays/prod" }

func env(c *corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

var digestRef = regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$`)

func checkImage(r *report, f facts, c container) {
	if c.prod() && !digestRef.MatchString(c.c.Image) {
		r.errorf("image %q: the prod overlay runs images by digest only (REGISTRY/REPO@sha256:...), never by tag", c.c.Image)
	}
	if c.svc == "" {
		if db := f.compose["db"]; c.w.Kind != "StatefulSet" || c.c.Image != db.Image {
			r.errorf("image %q is neither Gantry's nor compose's database (%s)", c.c.Image, db.Image)
		}
		return
	}
	if !mainPackage(f.root, c.svc) {
		r.errorf("image %q: there is no services/%s binary", c.c.Image, c.svc)
		return
	}
	if c.c.Command != nil {
		r.errorf("command %q replaces the image's entrypoint, the %s binary; give its arguments as args", c.c.Command, c.svc)
	}
	img, ok := f.built[c.svc]
	if !ok {
		r.errorf("image %q: oci/BUILD.bazel declares no image for services/%s (a service_image call)", c.c.Image, c.svc)
		return
	}
	switch {
	case c.prod() && ImageName(c.c.Image) != img.Repository:
		r.errorf("image %q: //oci:push pushes %s to %s", c.c.Image, c.svc, img.Repository)
	case !c.prod() && ImageName(c.c.Image) != ImageName(img.Tag):
		r.errorf("image %q: //oci:load and tools/imagebuild name it %s", c.c.Image, img.Tag)
	}
	if path.Base(img.Entrypoint[0]) != c.svc {
		r.errorf("the image's entrypoint %q is not the %s binary", img.Entrypoint, c.svc)
	}
	for name, s := range f.compose {
		if ImageName(s.Image) == ImageName(img.Tag) && c.r.Path == "deploy/overlays/dev" && c.c.Image != s.Image {
			r.errorf("image %q: compose's %s runs %s", c.c.Image, name, s.Image)
		}
	}
}

// checkCommand runs the binary with the container's args and settings, as
// its entrypoint: it must get as far as reading DATABASE_URL_FILE (whose
// Secret is not mounted here) and complain of nothing else. A value the
// binary refuses (SHUTDOWN_DELAY=10) or a command it does not have fails
// here, before any cluster does.
func checkCommand(r *report, f facts, c container) {
	if len(c.c.Args) == 0 {
		r.errorf("no args: say which command of the binary runs (serve, migrate up)")
		return
	}
	var vars []string
	for _, e := range c.c.Env {
		v, err := resolve(c.c, e)
		if err != nil {
			r.errorf("%v", err)
			return
		}
		vars = append(vars, e.Name+"="+v)
	}
	cmdline := c.svc + " " + strings.Join(c.c.Args, " ")
	code, stderr := runBinary(r.t, binary(r.t, f.root, c.svc), c.c.Args, vars)
	_, complaint, ok := strings.Cut(stderr, "invalid configuration: ")
	switch {
	case code == 2:
		r.errorf("%s is a usage error:\n%s", cmdline, stderr)
		return
	case code != 1 || !ok:
		r.errorf("%s exited %d without a configuration error, where the secret file cannot exist:\n%s", cmdline, code, stderr)
		return
	}
	for _, part := range strings.Split(strings.TrimSpace(complaint), "; ") {
		if name, _, _ := strings.Cut(part, ":"); name != "DATABASE_URL_FILE" {
			r.errorf("%s refuses a setting: %s", cmdline, part)
		}
	}
}

// resolve is the value the kubelet gives a variable; of the downward API,
// only resource fields are expected (GOMEMLIMIT).
func resolve(c *corev1.Container, e corev1.EnvVar) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	ref := e.ValueFrom.ResourceFieldRef
	if ref == nil {
		return "", fmt.Errorf("%s comes from %+v; only literal values and resource fields are expected", e.Name, e.ValueFrom)
	}
	kind, res, _ := strings.Cut(ref.Resource, ".")
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(res)]
	if !ok {
		return "", fmt.Errorf("%s is the container's %s, which it does not set", e.Name, ref.Resource)
	}
	if !ref.Divisor.IsZero() && ref.Divisor.Value() != 1 {
		return "", fmt.Errorf("%s is %s divided by %s, a number the Go runtime would read as bytes", e.Name, ref.Resource, ref.Divisor.String())
	}
	return fmt.Sprint(q.Value()), nil
}

func checkEnvNames(r *report, f facts, c container) {
	known := f.env[c.svc]
	what := "services/" + c.svc + " or the Go runtime"
	if c.svc == "" {
		known = map[string]bool{"PGDATA": true} // the official image's, beside compose's
		for name := range f.compose["db"].Environment {
			known[name] = true
		}
		what = "compose's db service (or PGDATA)"
	}
	for _, e := range c.c.Env {
		if !known[e.Name] {
			r.errorf("%s is read by nothing in %s: a typo, or a setting that went away", e.Name, what)
		}
	}
}

func checkSecretFiles(r *report, _ facts, c container) {
	if len(c.c.EnvFrom) > 0 {
		r.errorf("envFrom puts whole objects into the environment; name each variable")
	}
	for _, e := range c.c.Env {
		if e.ValueFrom != nil && (e.ValueFrom.SecretKeyRef != nil || e.ValueFrom.ConfigMapKeyRef != nil) {
			r.errorf("%s comes from a Secret or ConfigMap key: secrets reach the process as files (%s_FILE)", e.Name, e.Name)
		}
		if slices.Contains([]string{"DATABASE_URL", "POSTGRES_PASSWORD"}, e.Name) {
			r.errorf("%s is set in the environment, where `kubectl describe` and /proc show it: use %s_FILE", e.Name, e.Name)
		}
		if strings.HasSuffix(e.Name, "_FILE") {
			if err := secretFile(c, e.Value); err != nil {
				r.errorf("%s=%s: %v", e.Name, e.Value, err)
			}
		}
	}
	if _, ok := env(c.c, "DATABASE_URL_FILE"); c.svc != "" && !ok {
		r.errorf("no DATABASE_URL_FILE: every Gantry binary here reads the database URL from a mounted Secret")
	}
	_, bootstrap := env(c.c, "BOOTSTRAP_TOKEN_FILE")
	if bootstrap && !slices.Equal(c.c.Args, []string{"migrate", "up"}) {
		r.errorf("BOOTSTRAP_TOKEN_FILE is mounted where it is not read: only `migrate up` stores the bootstrap token")
	}
}

// secretFile checks that file is a key of a Secret volume the container
// mounts.
func secretFile(c container, file string) error {
	for _, m := range c.c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		i := slices.IndexFunc(c.w.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || c.w.Template.Spec.Volumes[i].Secret == nil {
			return fmt.Errorf("%s is not a Secret volume", m.MountPath)
		}
		s := c.w.Template.Spec.Volumes[i].Secret
		if len(s.Items) == 0 || slices.ContainsFunc(s.Items, func(k corev1.KeyToPath) bool { return k.Path == rel }) {
			return nil
		}
		return fmt.Errorf("the volume of Secret %s holds no file %s", s.SecretName, rel)
	}
	return fmt.Errorf("no volume is mounted there")
}

func checkSecurity(r *report, f facts, c container) {
	spec := c.w.Template.Spec
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		r.errorf("shares a host namespace")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		r.errorf("automountServiceAccountToken must be false: nothing here talks to the Kubernetes API")
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0 {
		r.errorf("the pod's runAsNonRoot must be true with a non-zero runAsUser: the image's user")
	}
	if pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		r.errorf("the pod's seccompProfile must be RuntimeDefault")
	}
	if img, ok := f.built[c.svc]; ok && pod.RunAsUser != nil && pod.RunAsGroup != nil {
		if got := fmt.Sprintf("%d:%d", *pod.RunAsUser, *pod.RunAsGroup); got != img.User {
			r.errorf("runs as %s; the image's user is %s (oci/BUILD.bazel)", got, img.User)
		}
	}
	sc := c.c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		r.errorf("allowPrivilegeEscalation must be false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		r.errorf("privileged")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		r.errorf("readOnlyRootFilesystem must be true")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		r.errorf("capabilities must drop ALL and add none")
	}
}

// port is the number a probe's or Service's port names in c.
func port(c *corev1.Container, p intstr.IntOrString) (int32, bool) {
	if p.Type == intstr.Int {
		return p.IntVal, true
	}
	i := slices.IndexFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.StrVal })
	if i < 0 {
		return 0, false
	}
	return c.Ports[i].ContainerPort, true
}

// setting is the port a variable sets in c, or its default.
func setting(c *corev1.Container, name string, def int32) (int32, error) {
	e, ok := env(c, name)
	if !ok {
		return def, nil
	}
	var n int32
	if _, err := fmt.Sscan(e.Value, &n); err != nil {
		return 0, fmt.Errorf("%s=%q is no port", name, e.Value)
	}
	return n, nil
}

// checkPortsAndProbes: the container declares the ports its binary opens,
// no other, and probes the admin listener's routes on its port.
func checkPortsAndProbes(r *report, f facts, c container) {
	defaults := map[string]int32{"PORT": f.defaults.Port, "ADMIN_PORT": f.defaults.AdminPort}
	want := map[int32]bool{}
	var admin int32
	for _, s := range f.ports[c.svc] {
		n, err := setting(c.c, s, defaults[s])
		if err != nil {
			r.errorf("%v", err)
			return
		}
		want[n] = true
		if s == "ADMIN_PORT" {
			admin = n
		}
	}
	for _, p := range c.c.Ports {
		if !want[p.ContainerPort] {
			r.errorf("port %s (%d): services/%s listens on %v only", p.Name, p.ContainerPort, c.svc, slices.Sorted(maps.Keys(want)))
		}
		delete(want, p.ContainerPort)
	}
	if len(want) > 0 {
		r.errorf("services/%s also listens on %v, which the container does not declare", c.svc, slices.Sorted(maps.Keys(want)))
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"startupProbe", c.c.StartupProbe, "/healthz"},
		{"livenessProbe", c.c.LivenessProbe, "/healthz"},
		{"readinessProbe", c.c.ReadinessProbe, "/readyz"},
	}
	for _, p := range probes {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			r.errorf("%s: want an HTTP GET of %s", p.name, p.path)
		case p.probe.HTTPGet.Path != p.path || !f.routes[p.path]:
			r.errorf("%s: GET %s; want %s, which the admin listener serves (it serves %v)", p.name, p.probe.HTTPGet.Path, p.path, slices.Sorted(maps.Keys(f.routes)))
		default:
			if n, ok := port(c.c, p.probe.HTTPGet.Port); !ok || n != admin {
				r.errorf("%s: port %s; want the admin listener's, %d", p.name, p.probe.HTTPGet.Port.String(), admin)
			}
		}
	}
	a := c.w.Template.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != fmt.Sprint(admin) || a["prometheus.io/path"] != "/metrics" || !f.routes["/metrics"] {
		r.errorf("annotations %v: want prometheus.io/scrape true, port %d and path /metrics, the admin listener's", a, admin)
	}
}

// minShutdownDelay is long enough for kube-proxy and an ingress controller
// to drop a terminating pod from their endpoints (about a second each on
// the cluster the tests run) before its listener closes.
const minShutdownDelay = 5 * time.Second

func checkShutdown(r *report, f facts, c container) {
	duration := func(name string, def time.Duration) time.Duration {
		e, ok := env(c.c, name)
		if !ok {
			return def
		}
		d, err := time.ParseDuration(e.Value)
		if err != nil {
			r.errorf("%s=%q: %v", name, e.Value, err)
		}
		return d
	}
	delay := duration("SHUTDOWN_DELAY", 0)
	timeout := duration("SHUTDOWN_TIMEOUT", f.defaults.ShutdownTimeout)
	grace := 30 * time.Second // Kubernetes' default
	if g := c.w.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if margin := 5 * time.Second; grace < delay+timeout+margin {
		r.errorf("terminationGracePeriodSeconds %v leaves less than %v beyond SHUTDOWN_DELAY %v + SHUTDOWN_TIMEOUT %v: the kubelet would kill a draining pod", grace, margin, delay, timeout)
	}
	if slices.Contains(f.ports[c.svc], "PORT") && delay < minShutdownDelay {
		r.errorf("SHUTDOWN_DELAY %v: a server behind a Service must keep serving at least %v after SIGTERM, while its endpoint is removed", delay, minShutdownDelay)
	}
}

func checkResources(r *report, _ facts, c container) {
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.c.Resources.Requests[res]; !ok {
			r.errorf("no %s request", res)
		}
		if _, ok := c.c.Resources.Limits[res]; !ok {
			r.errorf("no %s limit", res)
		}
	}
	if c.svc == "" {
		return
	}
	e, ok := env(c.c, "GOMEMLIMIT")
	if !ok || e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil {
		r.errorf("GOMEMLIMIT must come from the container's memory limit (the downward API's limits.memory)")
		return
	}
	ref := e.ValueFrom.ResourceFieldRef
	if ref.Resource != "limits.memory" || (ref.ContainerName != "" && ref.ContainerName != c.c.Name) {
		r.errorf("GOMEMLIMIT is %s of container %q; want limits.memory of %s", ref.Resource, ref.ContainerName, c.c.Name)
	}
	if _, err := resolve(c.c, e); err != nil {
		r.errorf("%v", err)
	}
}
