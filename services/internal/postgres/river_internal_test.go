package postgres

import (
	"maps"
	"slices"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

func TestRiverMigrationsAreEachOneOfOurs(t *testing.T) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	var river []int
	for _, mg := range m.AllVersions() {
		river = append(river, mg.Version)
	}
	ours := riverVersions
	var mapped []int
	for _, v := range slices.Sorted(maps.Keys(ours)) {
		mapped = append(mapped, ours[v])
	}
	if !slices.Equal(mapped, river) {
		t.Fatalf("River (go.mod's version) has migrations %v; our versions map, in order, to %v: add a version of ours for each new River migration, in order (postgres/river.go)", river, mapped)
	}
}
