// Package e2e tests compose/compose.yaml under a real Docker engine: every
// promise the stack makes, checked against the real file, the real images
// and real containers. Those tests need the images built first (see
// compose/e2e/run) and run only with GANTRY_E2E=1, because they take
// minutes and a Docker engine; without it they skip and say so. The tests
// of compose/init-secrets need neither and always run.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/services/loopback"
	"github.com/gantry-dev/gantry/tools/gobuild"
)

// Password is what every stack here runs with: each character is one that
// breaks naive quoting in YAML, shell, SQL or URLs.
const Password = `p@ss w0rd$!#'"%/\`

// Images the stack runs; the environment may name others.
var (
	apiImage      = envOr("GANTRY_API_IMAGE", "gantry/api:latest")
	notifierImage = envOr("GANTRY_NOTIFIER_IMAGE", "gantry/notifier:latest")
	postgresImage = envOr("GANTRY_POSTGRES_IMAGE", "gantry-test/postgres:17")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// stack is one compose project on compose/compose.yaml, in a directory of
// its own that holds its secrets.
type stack struct {
	t       *testing.T
	project string
	dir     string
	port    string   // GANTRY_API_PORT, a port or a range
	env     []string // more of compose's variables, such as LOG_LEVEL=debug
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := gobuild.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// newStack prepares a project whose secrets compose/init-secrets writes
// from password; it is torn down, volumes and all, when t ends.
func newStack(t *testing.T, password string) *stack {
	t.Helper()
	s := newBareStack(t)
	initSecrets(t, filepath.Join(s.dir, "secrets"), password)
	return s
}

// newBareStack prepares a project without secrets yet, torn down as
// newStack's is.
func newBareStack(t *testing.T) *stack {
	t.Helper()
	if os.Getenv("GANTRY_E2E") != "1" {
		t.Skip("SKIPPING compose end-to-end tests: set GANTRY_E2E=1 (they need Docker and the images; see compose/e2e/run)")
	}
	for _, img := range []string{apiImage, notifierImage, postgresImage} {
		if err := exec.Command("docker", "image", "inspect", img).Run(); err != nil {
			t.Fatalf("image %s is missing: build it first (compose/e2e/run does)", img)
		}
	}
	s := &stack{
		t:       t,
		project: projectName(t.Name()),
		dir:     t.TempDir(),
		port:    strconv.Itoa(freePort(t)),
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := s.run("logs", "--no-color", "--timestamps")
			t.Logf("compose logs:\n%s", out)
		}
		if out, err := s.run("down", "--volumes", "--remove-orphans", "--timeout", "5"); err != nil {
			t.Errorf("compose down left project %s behind: %v\n%s", s.project, err, out)
		}
	})
	return s
}

// projectName turns a test name into a compose project name, which may
// hold only lower-case letters, digits, dashes and underscores.
func projectName(test string) string {
	var b strings.Builder
	b.WriteString("gantry-e2e-")
	for _, r := range strings.ToLower(test) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func initSecrets(t *testing.T, dir, password string) {
	t.Helper()
	if out, err := runInitSecrets(t, dir, password); err != nil {
		t.Fatalf("init-secrets: %v\n%s", err, out)
	}
}

// run runs docker compose on the real compose file; relative paths in it
// (the secrets) resolve against the stack's own directory.
func (s *stack) run(args ...string) (string, error) {
	base := []string{"compose", "-p", s.project, "-f", filepath.Join(repoRoot(s.t), "compose", "compose.yaml"), "--project-directory", s.dir}
	cmd := exec.Command("docker", append(base, args...)...)
	cmd.Env = append(os.Environ(), "GANTRY_API_IMAGE="+apiImage, "GANTRY_NOTIFIER_IMAGE="+notifierImage,
		"GANTRY_POSTGRES_IMAGE="+postgresImage, "GANTRY_API_PORT="+s.port)
	cmd.Env = append(cmd.Env, s.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// with is the same project run with more of compose's variables, which
// win over the stack's own: for one command that configures a service
// apart from the rest.
func (s *stack) with(env ...string) *stack {
	c := *s
	c.env = append(slices.Clone(s.env), env...)
	return &c
}

func (s *stack) must(args ...string) string {
	s.t.Helper()
	out, err := s.run(args...)
	if err != nil {
		s.t.Fatalf("docker compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// up starts the stack and waits for every service to be healthy or done.
func (s *stack) up(extra ...string) {
	s.t.Helper()
	s.must(append([]string{"up", "--detach", "--wait", "--wait-timeout", "180"}, extra...)...)
}

// container is what docker inspect says about one container.
type container struct {
	ID     string
	Name   string
	Config struct {
		User  string
		Image string
		Env   []string
	}
	HostConfig struct {
		ReadonlyRootfs bool
		CapDrop        []string
		SecurityOpt    []string
		PortBindings   map[string][]struct{ HostIP, HostPort string }
	}
	State struct {
		Status     string
		ExitCode   int
		Pid        int
		StartedAt  string
		FinishedAt string
		Health     *struct{ Status string }
	}
	RestartCount int
}

// containers inspects every container of a service, running or not.
func (s *stack) containers(service string) []container {
	s.t.Helper()
	ids := strings.Fields(s.must("ps", "--all", "--quiet", service))
	if len(ids) == 0 {
		return nil
	}
	out, err := exec.Command("docker", append([]string{"inspect"}, ids...)...).Output()
	if err != nil {
		s.t.Fatalf("docker inspect: %v", err)
	}
	var cs []container
	if err := json.Unmarshal(out, &cs); err != nil {
		s.t.Fatal(err)
	}
	return cs
}

// healthy checks that the database is healthy, the migration done and
// the API healthy.
func (s *stack) healthy() {
	s.t.Helper()
	if db := s.one("db"); db.State.Health == nil || db.State.Health.Status != "healthy" {
		s.t.Fatalf("db: %+v", db.State)
	}
	if m := s.one("migrate"); m.State.Status != "exited" || m.State.ExitCode != 0 {
		s.t.Fatalf("migrate: %+v", m.State)
	}
	if api := s.one("api"); api.State.Health == nil || api.State.Health.Status != "healthy" {
		s.t.Fatalf("api: %+v", api.State)
	}
}

func (s *stack) one(service string) container {
	s.t.Helper()
	cs := s.containers(service)
	if len(cs) != 1 {
		s.t.Fatalf("%d %s containers, want 1", len(cs), service)
	}
	return cs[0]
}

func (s *stack) inspectJSON(service string) string {
	s.t.Helper()
	out, err := exec.Command("docker", "inspect", s.one(service).ID).Output()
	if err != nil {
		s.t.Fatal(err)
	}
	return string(out)
}

// waitHealth polls a container's health until it is want.
func (s *stack) waitHealth(service, want string, within time.Duration) container {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var c container
	for time.Now().Before(deadline) {
		c = s.one(service)
		if c.State.Health != nil && c.State.Health.Status == want {
			return c
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.t.Fatalf("%s is not %s after %s (state %+v)", service, want, within, c.State)
	return c
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func (s *stack) base() string { return fmt.Sprintf("http://127.0.0.1:%s", s.port) }

// dockerLogs returns a container's stdout and stderr.
func (s *stack) dockerLogs(id string) string {
	s.t.Helper()
	out, err := exec.Command("docker", "logs", id).CombinedOutput()
	if err != nil {
		s.t.Fatalf("docker logs: %v", err)
	}
	return string(out)
}

// portPair returns "p-q" with q = p+1, two free ports for two replicas.
func portPair(t *testing.T) string {
	t.Helper()
	for range 20 {
		p := freePort(t)
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			if err := ln.Close(); err != nil {
				t.Fatal(err) // the port would stay taken
			}
			return fmt.Sprintf("%d-%d", p, p+1)
		}
	}
	t.Fatal("no two adjacent free ports")
	return ""
}
