package e2e

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// 6. The API runs as uid 65532 on a read-only root filesystem, with every
// capability dropped, from an image that has no shell at all.
func TestTheAPIRunsAsNonRootOnAReadOnlyRootWithNoShell(t *testing.T) {
	s := newStack(t, Password)
	s.up()
	api := s.one("api")

	uid, err := processUID(api.State.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if uid != "65532" {
		t.Errorf("the API process runs as uid %s", uid)
	}
	if !api.HostConfig.ReadonlyRootfs || !contains(api.HostConfig.CapDrop, "ALL") || !contains(api.HostConfig.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("hardening missing: %+v", api.HostConfig)
	}
	// Writes through /proc/PID/root resolve in the container's own mount
	// namespace, so they meet the read-only root exactly as the API would.
	for _, path := range []string{"/probe", "/tmp/probe", "/home/nonroot/probe"} {
		err := os.WriteFile(fmt.Sprintf("/proc/%d/root%s", api.State.Pid, path), []byte("x"), 0o644)
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("writing %s: %v, want a read-only file system", path, err)
		}
	}

	if out, err := s.run("exec", "-T", "api", "/bin/sh", "-c", "true"); err == nil {
		t.Errorf("a shell ran in the API container:\n%s", out)
	}
	if shells := shellsInImage(t, api.Config.Image); len(shells) > 0 {
		t.Errorf("the image contains shells: %v", shells)
	}
}

func processUID(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0], nil // the real uid
		}
	}
	return "", fmt.Errorf("no Uid line for pid %d", pid)
}

// shellsInImage lists every file of the image's filesystem that is a shell.
func shellsInImage(t *testing.T, image string) []string {
	t.Helper()
	id, err := exec.Command("docker", "create", image).Output()
	if err != nil {
		t.Fatal(err)
	}
	cid := strings.TrimSpace(string(id))
	defer func() {
		if out, err := exec.Command("docker", "rm", cid).CombinedOutput(); err != nil {
			t.Logf("docker rm %s: %v\n%s", cid, err, out)
		}
	}()
	cmd := exec.Command("docker", "export", cid)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var shells []string
	tr := tar.NewReader(out)
	files := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files++
		base := h.Name[strings.LastIndex(strings.TrimSuffix(h.Name, "/"), "/")+1:]
		switch base {
		case "sh", "bash", "dash", "ash", "busybox", "zsh":
			shells = append(shells, h.Name)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("docker export: %v", err)
	}
	if files == 0 {
		t.Fatal("the exported filesystem is empty: the check proves nothing")
	}
	return shells
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// 9. Neither the password nor the API token shows in `docker inspect` of
// the API and migrate containers (environment, labels, command) or in any
// of their logs, in raw or percent-encoded form, even at LOG_LEVEL=debug,
// which logs why a token was refused.
func TestTheSecretsNeverShowInInspectOrLogs(t *testing.T) {
	s := newStack(t, Password)
	s.env = []string{"LOG_LEVEL=debug"}
	s.up()
	token := s.token()
	mustCall(t, s.api(), "GET", "/v1/tasks", "", 200)
	mustCall(t, s.api(), "GET", "/v1/tasks/not-a-uuid", "", 400)
	mustCall(t, endpoint{s.base(), mistyped(token)}, "GET", "/v1/tasks", "", 401)

	api, migrate := s.inspectJSON("api"), s.inspectJSON("migrate")
	logs := s.must("logs", "--no-color", "api", "migrate")
	if !strings.Contains(logs, "listening") || !strings.Contains(logs, "token refused") || !strings.Contains(logs, "bootstrap token stored") {
		t.Fatalf("the logs lack the lines this checks; it would prove nothing:\n%s", logs)
	}
	secrets := []string{Password, "w0rd", "p%40ss", `p@ss`, token, token[len("gantry_") : len("gantry_")+20]}
	for _, secret := range secrets {
		for where, text := range map[string]string{"docker inspect api": api, "docker inspect migrate": migrate, "the logs": logs} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q", where, secret)
			}
		}
	}
	if !strings.Contains(api, "DATABASE_URL_FILE=/run/secrets/database_url") {
		t.Error("the API does not take its URL from the secret file")
	}
	if !strings.Contains(migrate, "BOOTSTRAP_TOKEN_FILE=/run/secrets/api_token") {
		t.Error("migrate does not take the bootstrap token from the secret file")
	}
	if strings.Contains(api, "api_token") {
		t.Error("the API container is given the bootstrap token, which only migrate needs")
	}
}
