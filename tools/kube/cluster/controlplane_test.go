package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServerSideValidation(t *testing.T) {
	cp := NewTestControlPlane(t, RepoRoot(t))
	if err := cp.RestrictedNamespace(t.Context(), "gantry"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sources []string
		reject  string // a part of the rejection; empty: accepted
	}{
		{"accepts a restricted Deployment, its Service and a Job", []string{"--kustomize=testdata/manifests"}, ""},
		{"rejects a Deployment without a seccomp profile", []string{"--filename=testdata/invalid/no-seccomp.yaml"}, `seccompProfile.type to "RuntimeDefault" or "Localhost"`},
		{"rejects a Deployment whose selector does not match its labels", []string{"--filename=testdata/invalid/selector-mismatch.yaml"}, "`selector` does not match template `labels`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cp.Validate(t.Context(), "gantry", tt.sources...)
			switch {
			case tt.reject == "" && err != nil:
				t.Fatal(err)
			case tt.reject != "" && err == nil:
				t.Fatalf("accepted:\n%s", out)
			case tt.reject != "" && !strings.Contains(out, tt.reject):
				t.Fatalf("rejected, but not for %q:\n%s", tt.reject, out)
			}
		})
	}
}

func TestTheControlPlaneStopsWhatItStarted(t *testing.T) {
	root := RepoRoot(t)
	bin := NeedBinaries(t, root)
	dir := filepath.Join(t.TempDir(), "cp")
	cp, err := StartControlPlane(t.Context(), root, bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range cp.procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s (pid %d) still runs", p.name, p.cmd.Process.Pid)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s is still there", dir)
	}
}
