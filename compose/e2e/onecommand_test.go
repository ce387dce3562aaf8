package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// 10. compose/up, the one command of a fresh clone: it writes the secrets,
// builds the image, waits for a healthy stack, and prints a request that
// works and a stop line that stops it. A second run changes nothing.
func TestComposeUpStartsAHealthyStackAndPrintsRequestsThatWork(t *testing.T) {
	s := newBareStack(t)
	out := s.composeUp()
	s.healthy()
	password := readFile(t, filepath.Join(s.dir, "secrets", "db_password"))

	if want := "Gantry is up at " + s.base() + "\n"; !strings.Contains(out, want) {
		t.Errorf("the output lacks %q:\n%s", want, out)
	}
	curls := printed(out, "curl ")
	if len(curls) != 2 {
		t.Fatalf("want a create and a list request, got %q in:\n%s", curls, out)
	}
	// The shell that runs a request reads the token from its file; the
	// token itself is printed nowhere.
	token := s.token()
	for _, c := range curls {
		if !strings.Contains(c, `-H "Authorization: Bearer $(cat `+filepath.Join(s.dir, "secrets", "api_token")+`)"`) {
			t.Errorf("the request does not read the token from secrets/api_token: %s", c)
		}
	}
	if strings.Contains(out, token[len("gantry_"):]) {
		t.Fatalf("compose/up printed the API token:\n%s", out)
	}
	var created struct{ ID, Title string }
	if err := json.Unmarshal([]byte(paste(t, s.dir, curls[0])), &created); err != nil || created.ID == "" || created.Title != "my first task" {
		t.Fatalf("the create request gave %+v, %v", created, err)
	}
	if list := paste(t, s.dir, curls[1]); !strings.Contains(list, created.ID) {
		t.Fatalf("the list request does not show task %s: %s", created.ID, list)
	}

	t.Run("a second run keeps the containers, the secrets and the data", func(t *testing.T) {
		db, api := s.one("db"), s.one("api")
		start := time.Now()
		s.composeUp()
		t.Logf("the second run took %s", time.Since(start).Round(100*time.Millisecond))
		for _, c := range []struct{ before, after container }{{db, s.one("db")}, {api, s.one("api")}} {
			if c.after.ID != c.before.ID || c.after.State.StartedAt != c.before.State.StartedAt {
				t.Errorf("%s was recreated or restarted", c.before.Name)
			}
		}
		if got := readFile(t, filepath.Join(s.dir, "secrets", "db_password")); got != password {
			t.Error("the password changed")
		}
		if s.token() != token {
			t.Error("the API token changed")
		}
		if list := paste(t, s.dir, curls[1]); !strings.Contains(list, created.ID) {
			t.Errorf("task %s is gone: %s", created.ID, list)
		}
	})

	t.Run("the printed stop line stops it", func(t *testing.T) {
		stop := printed(out, "docker compose ")
		if len(stop) != 1 {
			t.Fatalf("want one stop line, got %q", stop)
		}
		paste(t, s.dir, stop[0])
		if ids := s.must("ps", "--all", "--quiet"); ids != "" {
			t.Errorf("containers left: %s", ids)
		}
	})
}

// composeUp runs compose/up for the stack, from the stack's directory (a
// user may run it from anywhere), and returns what it printed.
func (s *stack) composeUp(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(s.t), "compose", "up"), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME="+s.project, "GANTRY_SECRETS_DIR="+filepath.Join(s.dir, "secrets"),
		"GANTRY_API_IMAGE="+apiImage, "GANTRY_POSTGRES_IMAGE="+postgresImage, "GANTRY_API_PORT="+s.port)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("compose/up: %v\n%s%s", err, stderr.String(), stdout.String())
	}
	return stdout.String()
}

// printed returns the lines of out that start, once indented, with prefix.
func printed(out, prefix string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
			lines = append(lines, l)
		}
	}
	return lines
}

// paste runs a printed line as a user pasting it into a shell would: none
// of the settings compose/up was given are in its environment.
func paste(t *testing.T, dir, line string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

// compose/up stops at a missing Docker with one line saying what to do;
// these cases need no Docker and always run.
func TestComposeUpWithoutDockerSaysWhatIsMissingInOneLine(t *testing.T) {
	tests := []struct {
		name  string
		tools []string // the only commands on PATH
		env   []string
		want  string
	}{
		{"without the docker command", []string{"dirname"}, nil, "there is no docker command: install Docker"},
		{"with the engine down", []string{"dirname", "docker"}, []string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "the Docker engine does not answer"},
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, tool := range tt.tools {
				p, err := exec.LookPath(tool)
				if err != nil {
					t.Skipf("SKIPPING: no %s here", tool)
				}
				if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bash, filepath.Join(repoRoot(t), "compose", "up"))
			cmd.Env = append([]string{"PATH=" + dir, "HOME=" + t.TempDir()}, tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 {
				t.Errorf("exit %d (%v), want 1", code, err)
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "compose/up: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one line with %q", stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
