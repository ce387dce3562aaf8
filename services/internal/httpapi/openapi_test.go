package httpapi

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"
)

// The router and openapi.yaml must describe the same operations: a route
// nobody documented, or a documented path nobody serves, fails here.
func TestTheRouterAndTheOpenAPIDocumentHaveTheSameOperations(t *testing.T) {
	a := &api{metrics: newMetrics(nil)}
	served := map[string]bool{}
	err := a.router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			served[strings.ToLower(m)+" "+tmpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var doc struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for key := range item {
			switch key {
			case "get", "put", "post", "delete", "patch", "head", "options":
				documented[key+" "+path] = true
			}
		}
	}

	s, d := slices.Sorted(maps.Keys(served)), slices.Sorted(maps.Keys(documented))
	if !slices.Equal(s, d) {
		t.Fatalf("router and openapi.yaml differ:\nserved:     %v\ndocumented: %v", s, d)
	}
	if len(s) < 9 {
		t.Fatalf("only %d operations found; the walk is broken", len(s))
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	w := newHarness(t).do("GET", "/openapi.yaml", "")
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "openapi: 3.1") {
		t.Fatalf("status %d", w.Code)
	}
}
