package manifests

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/tools/kube/cluster"
)

// The dev overlay on a real single-node cluster (tools/kube/cluster: the
// pinned control plane, a kubelet with Debian's containerd), applied with
// deploy/apply as a user does, with this checkout's images. One cluster
// serves every scenario, in order; each is asserted and has a time limit,
// and the cluster goes, with the host restored, however the test ends.
func TestTheDevOverlayRunsOnARealCluster(t *testing.T) {
	root := cluster.RepoRoot(t)
	start := time.Now()
	if err := exec.Command("docker", "info").Run(); err != nil {
		cluster.Unavailable(t, fmt.Errorf("the images come from Docker, and docker info fails (.ci/docker-up starts it)"))
	}
	cluster.NeedBinaries(t, root)
	var imgs testImages
	cluster.Phase(t, "build the images (tools/imagebuild, tags of the test's own)", 5*time.Minute, func(ctx context.Context) (err error) {
		imgs, err = buildTestImages(ctx, t, root)
		return err
	})
	dbDir := t.TempDir() // the database's volume; removed after the cluster's teardown
	c := cluster.NewTestCluster(t, root)
	t.Logf("cluster up %.1fs into the test", time.Since(start).Seconds())
	d := &devCluster{top: t, t: t, c: c, root: root, imgs: imgs, dir: t.TempDir()}
	t.Cleanup(d.dumpIfFailed) // before the cluster's teardown

	cluster.Phase(t, "import the images into the node", 5*time.Minute, func(ctx context.Context) error {
		return c.ImportDocker(ctx, imgs.api, imgs.apiNext, imgs.notifier, imgs.postgres)
	})
	cluster.Phase(t, "a volume for the database", time.Minute, func(ctx context.Context) error {
		return d.databaseVolume(ctx, dbDir)
	})
	scenarios := []struct {
		name  string
		limit time.Duration
		run   func(ctx context.Context) error
	}{
		{"the migration completes once, before the services, and both become Ready", 8 * time.Minute, d.migrateAndRollOut},
		{"the API serves through its Service with the bootstrap token, and with a token made in its pod", time.Minute, d.servesThroughTheService},
		{"scaling the API to 3 under load loses no request", 3 * time.Minute, d.underLoad(d.scaleTo(3))},
		{"deleting an API pod under load loses no request", 3 * time.Minute, d.underLoad(d.deleteAPod)},
		{"scaling the API back to 1 under load loses no request", 3 * time.Minute, d.underLoad(d.scaleTo(1))},
		{"a rolling update of the API to a new image under load loses no request", 8 * time.Minute, d.underLoad(d.rollToNextImage)},
		{"rolling the API back under load loses no request", 3 * time.Minute, d.underLoad(d.rollBack)},
		{"a webhook is delivered by the notifier in the cluster", 3 * time.Minute, d.webhookIsDelivered},
	}
	for _, s := range scenarios {
		ok := t.Run(s.name, func(t *testing.T) {
			d.t = t
			cluster.Phase(t, s.name, s.limit, s.run)
		})
		d.t = t
		if !ok {
			t.Fatalf("stopping after %q failed", s.name)
		}
	}
	t.Logf("images, cluster and scenarios took %.1fs; the teardown follows", time.Since(start).Seconds())
}

// devCluster is the running cluster and what the scenarios share.
type devCluster struct {
	top   *testing.T // the whole test's
	t     *testing.T // the running scenario's
	c     *cluster.Cluster
	root  string
	imgs  testImages
	dir   string // the test layer over a copy of deploy/
	token string // the bootstrap token, from the dev secrets
	api   string // http://ClusterIP of the API's Service
}

const (
	ns = "gantry"
	// dbIP is the database Service's ClusterIP, fixed so that pods can
	// name it db in /etc/hosts: this cluster runs no DNS add-on, which
	// kind's and k3d's (CoreDNS) make unnecessary.
	dbIP = "10.96.0.53"
)

func (d *devCluster) kubectl(ctx context.Context, args ...string) (string, error) {
	out, err := d.c.Kubectl(ctx, "", append([]string{"--namespace=" + ns}, args...)...)
	return strings.TrimSpace(out), err
}

// databaseVolume is the PersistentVolume the StatefulSet's claim binds:
// the cluster has no provisioner (kind's and k3d's local-path make one
// like it), so the test makes a directory writable to any user, as
// local-path does, and binds it to the claim up front.
func (d *devCluster) databaseVolume(ctx context.Context, dir string) error {
	if err := os.Chmod(dir, 0o777); err != nil { //nolint:gosec // G302: the database's user owns nothing here yet, as with local-path
		return err
	}
	pv := fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata: {name: gantry-test-db}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  claimRef: {namespace: %s, name: data-gantry-db-0}
  hostPath: {path: %s, type: Directory}
`, ns, dir)
	_, err := d.c.Kubectl(ctx, pv, "apply", "--filename=-")
	return err
}

// writeLayer writes the test's kustomization over a copy of the dev
// overlay: the test's images, and what this cluster lacks and kind or k3d
// have (DNS for the database's name; the official image's uid where the
// test image's postgres is 100:102), plus WEBHOOK_ALLOW_CIDRS for a
// receiver on the node's address.
func (d *devCluster) writeLayer(api string) error {
	if _, err := os.Stat(filepath.Join(d.dir, "deploy")); err != nil {
		if err := os.CopyFS(filepath.Join(d.dir, "deploy"), os.DirFS(filepath.Join(d.root, "deploy"))); err != nil {
			return err
		}
		writeDevSecrets(d.t, d.root, filepath.Join(d.dir, "deploy", "overlays", "dev", "secrets"))
	}
	name, tag, _ := strings.Cut(api, ":")
	notifier, notifierTag, _ := strings.Cut(d.imgs.notifier, ":")
	pg, pgTag, _ := strings.Cut(d.imgs.postgres, ":")
	layer := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../deploy/overlays/dev]
images:
  - {name: gantry/api, newName: %s, newTag: %q}
  - {name: gantry/notifier, newName: %s, newTag: %q}
  - {name: postgres, newName: %s, newTag: %q}
patches:
  - target: {kind: Service, name: db}
    patch: |-
      - {op: add, path: /spec/clusterIP, value: %s}
  - target: {kind: Deployment}
    patch: |-
      - {op: add, path: /spec/template/spec/hostAliases, value: [{ip: %[7]s, hostnames: [db]}]}
      - {op: add, path: /spec/template/spec/containers/0/env/-, value: {name: WEBHOOK_ALLOW_CIDRS, value: %[8]s/32}}
  - target: {kind: Job}
    patch: |-
      - {op: add, path: /spec/template/spec/hostAliases, value: [{ip: %[7]s, hostnames: [db]}]}
  - target: {kind: StatefulSet, name: gantry-db}
    patch: |-
      - {op: replace, path: /spec/template/spec/securityContext/runAsUser, value: 100}
      - {op: replace, path: /spec/template/spec/securityContext/runAsGroup, value: 102}
      - {op: replace, path: /spec/template/spec/securityContext/fsGroup, value: 102}
`, name, tag, notifier, notifierTag, pg, pgTag, dbIP, cluster.NodeIP)
	dir := filepath.Join(d.dir, "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(layer), 0o644)
}

// apply runs deploy/apply on the test layer, as a user runs it on theirs.
func (d *devCluster) apply(ctx context.Context, api string) error {
	if err := d.writeLayer(api); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(d.root, "deploy", "apply"), filepath.Join(d.dir, "test"))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.c.Kubeconfig, "KUBECTL="+filepath.Join(string(d.c.Binaries()), "kubectl"),
		"GANTRY_ROLLOUT_TIMEOUT=5m", "GANTRY_MIGRATE_TIMEOUT=300")
	out, err := cmd.CombinedOutput()
	d.t.Logf("deploy/apply:\n%s", out)
	if err != nil {
		return fmt.Errorf("deploy/apply: %w", err)
	}
	return nil
}

func (d *devCluster) migrateAndRollOut(ctx context.Context) error {
	if err := d.apply(ctx, d.imgs.api); err != nil {
		return err
	}
	var job struct {
		Status struct {
			Succeeded, Failed int
			CompletionTime    time.Time
		}
	}
	if err := d.getJSON(ctx, &job, "get", "job/gantry-migrate"); err != nil {
		return err
	}
	if job.Status.Succeeded != 1 || job.Status.Failed != 0 {
		return fmt.Errorf("the migration Job: %d succeeded, %d failed; want one success, no retry", job.Status.Succeeded, job.Status.Failed)
	}
	logs, err := d.kubectl(ctx, "logs", "job/gantry-migrate")
	if err != nil {
		return err
	}
	if !strings.Contains(logs, "(clean); this binary's latest is") || !strings.Contains(logs, "bootstrap token stored") {
		return fmt.Errorf("the migration's log shows no clean schema and stored bootstrap token:\n%s", logs)
	}
	var pods struct {
		Items []struct {
			Metadata struct {
				Name              string
				CreationTimestamp time.Time
				Labels            map[string]string
			}
		}
	}
	if err := d.getJSON(ctx, &pods, "get", "pods"); err != nil {
		return err
	}
	for _, p := range pods.Items {
		component := p.Metadata.Labels["app.kubernetes.io/component"]
		if (component == "api" || component == "notifier") && p.Metadata.CreationTimestamp.Before(job.Status.CompletionTime) {
			return fmt.Errorf("pod %s was created at %s, before the migration completed at %s", p.Metadata.Name, p.Metadata.CreationTimestamp, job.Status.CompletionTime)
		}
	}
	for _, dep := range []string{"gantry-api", "gantry-notifier"} {
		if err := d.waitReady(ctx, dep, 1); err != nil {
			return err
		}
	}
	return nil
}

func (d *devCluster) getJSON(ctx context.Context, v any, args ...string) error {
	out, err := d.kubectl(ctx, append(args, "--output=json")...)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(out), v)
}

// waitReady waits until the Deployment has n pods, all Ready and of its
// current template, and no other pod (a terminating one still counts).
func (d *devCluster) waitReady(ctx context.Context, deployment string, n int) error {
	component := strings.TrimPrefix(deployment, "gantry-")
	for {
		ready, _ := d.kubectl(ctx, "get", "deployment", deployment, "--output=jsonpath={.status.updatedReplicas}/{.status.readyReplicas}")
		pods, _ := d.kubectl(ctx, "get", "pods", "--selector=app.kubernetes.io/component="+component, "--output=name")
		if ready == fmt.Sprintf("%d/%d", n, n) && len(strings.Fields(pods)) == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deployment %s: updated/ready %q and pods %q; want %d of each", deployment, ready, strings.Fields(pods), n)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (d *devCluster) servesThroughTheService(ctx context.Context) error {
	ip, err := d.kubectl(ctx, "get", "service", "gantry-api", "--output=jsonpath={.spec.clusterIP}")
	if err != nil {
		return err
	}
	d.api = "http://" + ip
	token, err := os.ReadFile(filepath.Join(d.dir, "deploy", "overlays", "dev", "secrets", "api_token"))
	if err != nil {
		return err
	}
	d.token = strings.TrimSpace(string(token))
	client := &http.Client{Timeout: 5 * time.Second}
	if status, err := call(ctx, client, http.MethodGet, d.api+"/v1/tasks", "", nil); err != nil || status != http.StatusUnauthorized {
		return fmt.Errorf("GET /v1/tasks without a token: %d, %v; want 401", status, err)
	}
	if status, err := call(ctx, client, http.MethodPost, d.api+"/v1/tasks", d.token, []byte(`{"title":"first"}`)); err != nil || status != http.StatusCreated {
		return fmt.Errorf("POST /v1/tasks with the bootstrap token: %d, %v; want 201", status, err)
	}
	if status, err := call(ctx, client, http.MethodGet, d.api+"/v1/tasks", d.token, nil); err != nil || status != http.StatusOK {
		return fmt.Errorf("GET /v1/tasks with the bootstrap token: %d, %v; want 200", status, err)
	}
	// A narrower token, made as docs/kubernetes.md says.
	out, err := d.kubectl(ctx, "exec", "deployment/gantry-api", "--", "/usr/local/bin/api", "token", "create", "--name", "reader", "--scopes", "tasks:read")
	if err != nil {
		return err
	}
	reader := tokenShape.FindString(out)
	if status, err := call(ctx, client, http.MethodGet, d.api+"/v1/tasks", reader, nil); err != nil || status != http.StatusOK {
		return fmt.Errorf("GET /v1/tasks with the token kubectl exec made (%q): %d, %v; want 200", out, status, err)
	}
	if status, err := call(ctx, client, http.MethodPost, d.api+"/v1/tasks", reader, []byte(`{"title":"no"}`)); err != nil || status != http.StatusForbidden {
		return fmt.Errorf("POST /v1/tasks with a tasks:read token: %d, %v; want 403", status, err)
	}
	return nil
}

var tokenShape = regexp.MustCompile(`gantry_[0-9A-Za-z]{49}`)

// underLoad runs a scenario while requests flow, then requires that none
// was lost, and that some were answered.
func (d *devCluster) underLoad(f func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		l := startLoad(d.api, d.token)
		err := f(ctx)
		lerr := l.end()
		d.t.Logf("load: %d requests answered, %d lost", l.ok.Load(), l.lost.Load())
		if err != nil {
			return err
		}
		return lerr
	}
}

func (d *devCluster) scaleTo(n int) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := d.kubectl(ctx, "scale", "deployment/gantry-api", fmt.Sprintf("--replicas=%d", n)); err != nil {
			return err
		}
		return d.waitReady(ctx, "gantry-api", n)
	}
}

func (d *devCluster) deleteAPod(ctx context.Context) error {
	pods, err := d.kubectl(ctx, "get", "pods", "--selector=app.kubernetes.io/component=api", "--output=name")
	if err != nil {
		return err
	}
	victim := strings.Fields(pods)[0]
	// --wait: until the pod is gone, its drain (SHUTDOWN_DELAY, then the
	// listener's close) included.
	if _, err := d.kubectl(ctx, "delete", victim, "--wait=true"); err != nil {
		return err
	}
	return d.waitReady(ctx, "gantry-api", len(strings.Fields(pods)))
}

// rollToNextImage releases the API's second image (another commit, so
// another digest) the way a release goes: deploy/apply, migration first.
func (d *devCluster) rollToNextImage(ctx context.Context) error {
	before, err := d.apiImageIDs(ctx)
	if err != nil {
		return err
	}
	if err := d.apply(ctx, d.imgs.apiNext); err != nil {
		return err
	}
	if err := d.waitReady(ctx, "gantry-api", 1); err != nil {
		return err
	}
	return d.runs(ctx, d.imgs.apiNext, before)
}

// rollBack is the rollback docs/kubernetes.md gives: the Deployment's
// previous template, the schema left as it is.
func (d *devCluster) rollBack(ctx context.Context) error {
	before, err := d.apiImageIDs(ctx)
	if err != nil {
		return err
	}
	if _, err := d.kubectl(ctx, "rollout", "undo", "deployment/gantry-api"); err != nil {
		return err
	}
	if _, err := d.kubectl(ctx, "rollout", "status", "deployment/gantry-api", "--timeout=3m"); err != nil {
		return err
	}
	if err := d.waitReady(ctx, "gantry-api", 1); err != nil {
		return err
	}
	return d.runs(ctx, d.imgs.api, before)
}

func (d *devCluster) apiImageIDs(ctx context.Context) (string, error) {
	return d.kubectl(ctx, "get", "pods", "--selector=app.kubernetes.io/component=api",
		"--output=jsonpath={.items[*].status.containerStatuses[0].imageID}")
}

// runs checks that the API's pods run image now, where they ran before.
func (d *devCluster) runs(ctx context.Context, image, before string) error {
	after, err := d.apiImageIDs(ctx)
	if err != nil {
		return err
	}
	want, err := dockerID(ctx, image)
	if err != nil {
		return err
	}
	if after == before || !strings.HasSuffix(after, want) {
		return fmt.Errorf("the API runs image %s (before: %s); want %s's, %s", after, before, image, want)
	}
	return nil
}

// webhookIsDelivered registers a webhook to a receiver on the node's
// address, creates a task, and waits for the notifier's signed delivery.
func (d *devCluster) webhookIsDelivered(ctx context.Context) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", net.JoinHostPort(cluster.NodeIP, "0"))
	if err != nil {
		return err
	}
	got := make(chan delivery, 100)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type string
			Task struct{ ID string }
		}
		_ = json.NewDecoder(r.Body).Decode(&body) // a body that does not decode has no task ID: it matches nothing
		got <- delivery{typ: body.Type, task: body.Task.ID, signature: r.Header.Get("webhook-signature")}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = srv.Serve(ln) }() // Serve ends with the Close below
	defer func() { _ = srv.Close() }()

	client := &http.Client{Timeout: 5 * time.Second}
	hook := fmt.Sprintf(`{"url":"http://%s/hook","events":["task.created"]}`, ln.Addr())
	if status, err := call(ctx, client, http.MethodPost, d.api+"/v1/webhooks", d.token, []byte(hook)); err != nil || status != http.StatusCreated {
		return fmt.Errorf("POST /v1/webhooks: %d, %v; want 201", status, err)
	}
	id, err := createTask(ctx, client, d.api, d.token)
	if err != nil {
		return err
	}
	for {
		select {
		case dv := <-got:
			if dv.task == id && dv.typ == "task.created" {
				if dv.signature == "" {
					return fmt.Errorf("the delivery of task %s carries no webhook-signature", id)
				}
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("no delivery of task.created for task %s", id)
		}
	}
}

type delivery struct{ typ, task, signature string }

func createTask(ctx context.Context, client *http.Client, api, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/v1/tasks", strings.NewReader(`{"title":"webhook"}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }() // decoded below
	var task struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&task); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST /v1/tasks: %s, %v", resp.Status, err)
	}
	return task.ID, nil
}

// dumpIfFailed logs what a failure needs to be understood: the objects,
// the events and the logs of every pod.
func (d *devCluster) dumpIfFailed() {
	t := d.top
	if !t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"get", "all,pvc,pv", "--output=wide"},
		{"get", "events", "--sort-by=.lastTimestamp"},
		{"logs", "--selector=app.kubernetes.io/name=gantry", "--all-containers", "--prefix", "--tail=40"},
	} {
		out, err := d.kubectl(ctx, args...)
		t.Logf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
