package repocheck

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// postgresImageCase is one row of testdata/postgres-images.json: an image
// as compose's db service may name it, and the major it means ("" when the
// image must be refused).
type postgresImageCase struct {
	Image string `json:"image"`
	Major string `json:"major"`
}

func readPostgresImageCases(t *testing.T) []postgresImageCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "postgres-images.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []postgresImageCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// composeForms are the ways compose.yaml writes the db image: plain,
// quoted, and as the default of the variable the tests override.
var composeForms = map[string]string{
	"plain":              "@IMAGE@",
	"quoted":             `"@IMAGE@"`,
	"a ${VAR:-} default": "${GANTRY_POSTGRES_IMAGE:-@IMAGE@}",
}

func TestTheGoRuleReadsThePostgresImageTable(t *testing.T) {
	for _, tc := range readPostgresImageCases(t) {
		for form, tmpl := range composeForms {
			value := strings.Trim(strings.ReplaceAll(tmpl, "@IMAGE@", tc.Image), `"`)
			t.Run(tc.Image+" written as "+form+" means major "+tc.Major, func(t *testing.T) {
				if got := postgresMajor(interpolate(value)); got != tc.Major {
					t.Errorf("postgresMajor(%q) = %q, want %q", value, got, tc.Major)
				}
			})
		}
	}
}

// TestTheFlakeRuleReadsThePostgresImageTable evaluates flake.nix on a
// compose.yaml of each row: an accepted image gives the shell that
// postgresql_<major>; a refused one stops evaluation naming compose.yaml.
func TestTheFlakeRuleReadsThePostgresImageTable(t *testing.T) {
	fx := newFlakeFixture(t)
	nixpkgs := maps.Clone(fx.pinned)
	for _, tc := range readPostgresImageCases(t) {
		if tc.Major != "" {
			nixpkgs["postgresql_"+tc.Major] = tc.Major + ".1"
		}
	}
	imageLine := regexp.MustCompile(`(?m)^(\s*image:\s*).*postgres:\d+.*$`)
	for _, tc := range readPostgresImageCases(t) {
		for form, tmpl := range composeForms {
			t.Run(tc.Image+" written as "+form+" means major "+tc.Major, func(t *testing.T) {
				t.Parallel()
				dir := lockstepCopy(t, fx.root)
				compose := filepath.Join(dir, "compose", "compose.yaml")
				data, err := os.ReadFile(compose)
				if err != nil {
					t.Fatal(err)
				}
				line := "${1}" + strings.ReplaceAll(strings.ReplaceAll(tmpl, "@IMAGE@", tc.Image), "$", "$$")
				if !imageLine.Match(data) {
					t.Fatal("compose/compose.yaml has no postgres image line; update this test")
				}
				if err := os.WriteFile(compose, imageLine.ReplaceAll(data, []byte(line)), 0o644); err != nil {
					t.Fatal(err)
				}
				fl, err := lockstepEvalFlake(fx.nix, fx.stub, dir, "shells", nixpkgs)
				if tc.Major == "" {
					if err == nil || !strings.Contains(err.Error(), "compose/compose.yaml") {
						t.Errorf("the flake accepted %q (or failed without naming compose/compose.yaml): %v", tc.Image, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(fl.Shells["x86_64-linux"], "postgresql_"+tc.Major) {
					t.Errorf("the shell has %q, want postgresql_%s", fl.Shells["x86_64-linux"], tc.Major)
				}
			})
		}
	}
}
