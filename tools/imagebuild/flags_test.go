package main

import (
	"io"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/tools/ocispec"
)

var services = []ocispec.Service{
	{Name: "api", Tag: "gantry/api:latest"},
	{Name: "notifier", Tag: "gantry/notifier:latest"},
}

func TestEachServiceGetsItsTag(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		services []ocispec.Service
		want     map[string]string
	}{
		{"without -tag every image gets its load target's tag", nil, services,
			map[string]string{"api": "gantry/api:latest", "notifier": "gantry/notifier:latest"}},
		{"a SERVICE=REF tag replaces that service's only", []string{"-tag", "notifier=test/n:1"}, services,
			map[string]string{"api": "gantry/api:latest", "notifier": "test/n:1"}},
		{"a bare tag goes to the one service built", []string{"-service", "api", "-tag", "test/a:1"}, services[:1],
			map[string]string{"api": "test/a:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(append([]string{"-load"}, tc.args...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			refs, err := tagsFor(tc.services, o.tags)
			if err != nil {
				t.Fatal(err)
			}
			for svc, want := range tc.want {
				if got := refs[svc].String(); got != want {
					t.Errorf("%s: %s, want %s", svc, got, want)
				}
			}
		})
	}
}

func TestTagMistakesAreRefusedByName(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a bare tag with every service built", []string{"-tag", "x/y:1"}, "-tag x/y:1 names no service"},
		{"a second tag for one service", []string{"-tag", "api=a:1", "-tag", "api=b:1"}, "a second tag for the same service"},
		{"an empty tag", []string{"-tag", "api="}, "give SERVICE=REPO:TAG"},
		{"-binary without -service", []string{"-binary", "/tmp/api"}, "-binary is the binary of one service"},
		{"a tag for a service that is not built", []string{"-tag", "worker=w:1"}, "-tag worker=w:1: no such service is built"},
		{"a tag that is no reference", []string{"-tag", "api=Not A Tag"}, "the tag of api"},
	}
	for _, tc := range tests {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			o, err := parseFlags(append([]string{"-load"}, tc.args...), io.Discard)
			if err == nil {
				_, err = tagsFor(services, o.tags)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}
