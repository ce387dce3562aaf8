package repocheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// pinnedRecordFile records what the nixpkgs commit in flake.lock carries,
// each version with a public record of that commit. Offline, nothing else
// can say what the pin holds: the stub nixpkgs carries these versions, and
// the checks below hold the version files to them.
const pinnedRecordFile = "tools/nix/pinned-versions.json"

type pinnedRecord struct {
	Nixpkgs  lockedInput              `json:"nixpkgs"`
	Packages map[string]pinnedPackage `json:"packages"`
}

type pinnedPackage struct {
	Version  string `json:"version"`
	Evidence string `json:"evidence"`
}

// lockedInput is a github input as flake.lock locks it (and the record
// repeats it), with the branch it follows.
type lockedInput struct {
	Ref          string `json:"ref"`
	Rev          string `json:"rev"`
	LastModified int64  `json:"lastModified"`
	NarHash      string `json:"narHash"`
}

func readPinnedRecord(t *testing.T, data []byte) pinnedRecord {
	t.Helper()
	var r pinnedRecord
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", pinnedRecordFile, err)
	}
	return r
}

// readLockedNixpkgs is flake.lock's nixpkgs node: its locked commit and the
// branch it was locked from.
func readLockedNixpkgs(t *testing.T, data []byte) lockedInput {
	t.Helper()
	var lock struct {
		Nodes map[string]struct {
			Locked   lockedInput `json:"locked"`
			Original struct {
				Ref string `json:"ref"`
			} `json:"original"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		t.Fatalf("flake.lock: %v", err)
	}
	n, ok := lock.Nodes["nixpkgs"]
	if !ok {
		t.Fatal("flake.lock has no nixpkgs node")
	}
	in := n.Locked
	in.Ref = n.Original.Ref
	return in
}

// versions is the record as the stub nixpkgs takes it: attribute -> version.
func (r pinnedRecord) versions() map[string]string {
	v := map[string]string{}
	for attr, p := range r.Packages {
		v[attr] = p.Version
	}
	return v
}

const refreshRecord = "refresh " + pinnedRecordFile + " for the pin (nix eval --raw github:NixOS/nixpkgs/<rev>#<attr>.version, with evidence)"

func (r pinnedRecord) matches(lock lockedInput) error {
	if r.Nixpkgs != lock {
		return fmt.Errorf("flake.lock locks nixpkgs %+v, but %s records %+v: %s", lock, pinnedRecordFile, r.Nixpkgs, refreshRecord)
	}
	return nil
}

func (r pinnedRecord) cited() error {
	if len(r.Packages) == 0 {
		return fmt.Errorf("%s records no packages; %s", pinnedRecordFile, refreshRecord)
	}
	for _, attr := range slices.Sorted(maps.Keys(r.Packages)) {
		p := r.Packages[attr]
		if p.Version == "" || len(strings.TrimSpace(p.Evidence)) < 20 {
			return fmt.Errorf("%s: %s has version %q and evidence %q; each entry needs both, the evidence naming a public record of the pinned commit; %s", pinnedRecordFile, attr, p.Version, p.Evidence, refreshRecord)
		}
	}
	return nil
}

func (r pinnedRecord) carriesBazel(bazelVersion string) error {
	major, _, _ := strings.Cut(bazelVersion, ".")
	attr := "bazel_" + major
	p, ok := r.Packages[attr]
	switch {
	case !ok:
		return fmt.Errorf(".bazelversion says %s, but %s records no %s for the pin: change .bazelversion to a release the pin carries, or move flake.lock", bazelVersion, pinnedRecordFile, attr)
	case p.Version != bazelVersion:
		return fmt.Errorf(".bazelversion says %s, but the pin's %s is %s (%s): change .bazelversion to %s, or move flake.lock", bazelVersion, attr, p.Version, pinnedRecordFile, p.Version)
	}
	return nil
}

func (r pinnedRecord) hasFallbackBazel(bazelVersion string) error {
	major, _, _ := strings.Cut(bazelVersion, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return fmt.Errorf(".bazelversion says %q, not a release: change .bazelversion", bazelVersion)
	}
	attr := "bazel_" + strconv.Itoa(n-1)
	if _, ok := r.Packages[attr]; !ok {
		return fmt.Errorf("docs/bazel.md's fallback is the pin's %s, but %s records none: %s", attr, pinnedRecordFile, refreshRecord)
	}
	return nil
}

func (r pinnedRecord) carriesGo(goSDK, goLine string) error {
	minor := lockstepMinor(goSDK)
	attr := "go_" + strings.ReplaceAll(minor, ".", "_")
	p, ok := r.Packages[attr]
	switch {
	case !ok:
		return fmt.Errorf("go.mod asks for go%s, but %s records no %s for the pin: change go.mod, or move flake.lock to a nixpkgs with %s", goSDK, pinnedRecordFile, attr, attr)
	case lockstepMinor(p.Version) != minor:
		return fmt.Errorf("%s: %s is recorded as %s, not a Go %s release; %s", pinnedRecordFile, attr, p.Version, minor, refreshRecord)
	case lockstepCompareVersions(p.Version, goLine) < 0:
		return fmt.Errorf("go.mod's go line says %s, but the pin's %s is %s, older (the shell sets GOTOOLCHAIN=local): change go.mod, or move flake.lock", goLine, attr, p.Version)
	}
	return nil
}

func (r pinnedRecord) carriesPostgres(major string) error {
	attr := "postgresql_" + major
	p, ok := r.Packages[attr]
	switch {
	case !ok:
		return fmt.Errorf("compose/compose.yaml runs postgres:%s, but %s records no %s for the pin: change compose/compose.yaml, or record it with evidence", major, pinnedRecordFile, attr)
	case !strings.HasPrefix(p.Version, major+"."):
		return fmt.Errorf("%s: %s is recorded as %s; %s", pinnedRecordFile, attr, p.Version, refreshRecord)
	}
	return nil
}
