package httpapi

import (
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// OpenAPI is the API's contract, served at /openapi.yaml; a test holds the
// router to it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Options wires a handler to its collaborators.
type Options struct {
	Store          task.Store
	Ready          *Readiness
	Log            *slog.Logger
	RequestTimeout time.Duration          // per-request deadline, passed to the database
	Collectors     []prometheus.Collector // extra metrics, such as the pool's
}

type api struct {
	store          task.Store
	ready          *Readiness
	log            *slog.Logger
	requestTimeout time.Duration
	metrics        *metrics
	ids            *idSource
}

// Route templates, which are also the metrics' route label.
const (
	routeTasks   = "/v1/tasks"
	routeTask    = "/v1/tasks/{id}"
	routeHealthz = "/healthz"
	routeReadyz  = "/readyz"
	routeMetrics = "/metrics"
	routeOpenAPI = "/openapi.yaml"
)

// New returns the service's whole HTTP handler.
func New(o Options) http.Handler {
	a := &api{
		store:          o.Store,
		ready:          o.Ready,
		log:            o.Log,
		requestTimeout: o.RequestTimeout,
		metrics:        newMetrics(o.Collectors),
		ids:            newIDSource(),
	}
	return a.observe(a.router())
}

func (a *api) router() *mux.Router {
	r := mux.NewRouter()
	handle := func(tmpl, method string, h http.HandlerFunc) {
		r.Handle(tmpl, nameRoute(tmpl, h)).Methods(method).Name(method + " " + tmpl)
	}
	// mux tries routes in order, one regexp each: the busiest goes first.
	handle(routeTask, http.MethodGet, a.getTask)
	handle(routeTasks, http.MethodPost, a.createTask)
	handle(routeTasks, http.MethodGet, a.listTasks)
	handle(routeTask, http.MethodPatch, a.updateTask)
	handle(routeTask, http.MethodDelete, a.deleteTask)
	handle(routeHealthz, http.MethodGet, healthz)
	handle(routeReadyz, http.MethodGet, a.readyz)
	handle(routeMetrics, http.MethodGet, a.metrics.handler().ServeHTTP)
	handle(routeOpenAPI, http.MethodGet, serveOpenAPI)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such resource; see /openapi.yaml for the API")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		allow := strings.Join(allowedMethods(r, req), ", ")
		w.Header().Set("Allow", allow) // RFC 9110 requires it on every 405
		writeProblem(w, req, http.StatusMethodNotAllowed,
			truncate(req.Method, 64)+" is not allowed on "+req.URL.Path+"; allowed are "+allow)
	})
	return r
}

// allowedMethods asks the router which methods it serves on req's path, so
// the Allow header cannot drift from the routes. mux reports a route whose
// path matched but whose method did not as ErrMethodMismatch.
func allowedMethods(router *mux.Router, req *http.Request) []string {
	var allow []string
	// Walk fails only with what the function returns, and it returns nil.
	_ = router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		var m mux.RouteMatch
		if route.Match(req, &m) || !errors.Is(m.MatchErr, mux.ErrMethodMismatch) {
			return nil
		}
		methods, _ := route.GetMethods() // every route has methods; none is a mismatch
		allow = append(allow, methods...)
		return nil
	})
	slices.Sort(allow)
	return slices.Compact(allow)
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(OpenAPI) // a client that hung up needs no answer
}
