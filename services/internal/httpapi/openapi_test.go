package httpapi

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"
)

// The router and openapi.yaml must describe the same operations: a route
// nobody documented, or a documented path nobody serves, fails here.
func TestTheRouterAndTheOpenAPIDocumentHaveTheSameOperations(t *testing.T) {
	a := &api{metrics: newMetrics(prometheus.NewRegistry())}
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
	if len(s) < 8 {
		t.Fatalf("only %d operations found; the walk is broken", len(s))
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	w := newHarness(t).do("GET", "/openapi.yaml", "")
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "openapi: 3.1") {
		t.Fatalf("status %d", w.Code)
	}
}

// Every task operation can fail inside the server or the database, and
// those that read a body can be too slow sending it; the document must say
// so, or generated clients will not expect these statuses.
func TestEveryTaskOperationDocumentsItsErrorStatuses(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	for _, path := range []string{routeTasks, routeTask, routeWebhooks, routeWebhook, routeDeliveries} {
		for method, node := range doc.Paths[path] {
			if method == "parameters" { // shared by the path's operations
				continue
			}
			var op struct {
				RequestBody yaml.Node            `yaml:"requestBody"`
				Responses   map[string]yaml.Node `yaml:"responses"`
			}
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			want := []string{"400", "401", "403", "500", "503"}
			if op.RequestBody.Kind != 0 { // present
				want = append(want, "408", "413", "415", "422")
			}
			for _, code := range want {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s %s does not document %s", method, path, code)
				}
			}
		}
	}
}

// Each operation documents the scope it needs (x-scope), or is open
// (security: []); the router must ask for exactly that.
func TestTheDocumentedScopesAreTheOnesTheRouterAsksFor(t *testing.T) {
	a := &api{metrics: newMetrics(prometheus.NewRegistry())}
	a.router()
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	for path, item := range doc.Paths {
		for method, node := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Scope    string           `yaml:"x-scope"`
				Security []map[string]any `yaml:"security"`
			}
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			key := strings.ToUpper(method) + " " + path
			t.Run(key+" needs what its document says", func(t *testing.T) {
				want, secured := a.scopes[key]
				open := op.Security != nil && len(op.Security) == 0
				switch {
				case secured && string(want) != op.Scope:
					t.Errorf("the router asks for %q, openapi.yaml's x-scope says %q", want, op.Scope)
				case !secured && !open:
					t.Errorf("the router serves it without a token, but openapi.yaml does not say security: []")
				case secured && open:
					t.Errorf("openapi.yaml says it is open, but the router asks for %q", want)
				}
			})
		}
	}
}
