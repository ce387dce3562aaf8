package cluster

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// kubernetesPin is .ci/tools/kubernetes/go.mod: the Kubernetes version and
// the staging modules it replaces, module -> version.
func kubernetesPin(t *testing.T) (string, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(RepoRoot(t), ".ci", "tools", "kubernetes", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^\s*k8s\.io/kubernetes (v\S+)`).FindSubmatch(data)
	if version == nil {
		t.Fatal(".ci/tools/kubernetes/go.mod requires no k8s.io/kubernetes")
	}
	replaced := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(k8s\.io/\S+) => (k8s\.io/\S+) (v\S+)$`).FindAllSubmatch(data, -1) {
		if string(m[1]) != string(m[2]) {
			t.Errorf("%s is replaced by %s; each staging module stands for itself", m[1], m[2])
		}
		replaced[string(m[1])] = string(m[3])
	}
	return string(version[1]), replaced
}

// Kubernetes v1.X.Y's staging modules are released as v0.X.Y: any other
// version builds binaries that are not that release.
func TestTheStagingModulesMatchTheKubernetesVersion(t *testing.T) {
	version, replaced := kubernetesPin(t)
	want := "v0." + strings.TrimPrefix(version, "v1.")
	if len(replaced) == 0 {
		t.Fatal(".ci/tools/kubernetes/go.mod replaces no staging module")
	}
	for m, v := range replaced {
		if v != want {
			t.Errorf("%s is at %s; Kubernetes %s needs %s", m, v, version, want)
		}
	}
}

// The replace block must name every staging module Kubernetes requires at
// v0.0.0 (its own replace directives do not apply to a dependency), and no
// other. Reads Kubernetes' go.mod from the module cache or the Go proxy.
func TestEveryStagingModuleKubernetesRequiresIsReplaced(t *testing.T) {
	version, replaced := kubernetesPin(t)
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+version).Output()
	if err != nil {
		Unavailable(t, err)
	}
	var info struct{ GoMod string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(info.GoMod)
	if err != nil {
		t.Fatal(err)
	}
	var staging []string
	require, _, _ := strings.Cut(string(data), "\nreplace")
	for _, m := range regexp.MustCompile(`(?m)^\s*(k8s\.io/\S+) v0\.0\.0$`).FindAllStringSubmatch(require, -1) {
		staging = append(staging, m[1])
	}
	got := slices.Sorted(maps.Keys(replaced))
	slices.Sort(staging)
	if !slices.Equal(got, staging) {
		t.Fatalf(".ci/tools/kubernetes/go.mod replaces\n%v\nbut k8s.io/kubernetes %s requires at v0.0.0\n%v", got, version, staging)
	}
}
