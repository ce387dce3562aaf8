package httpapi

import (
	_ "embed"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/services/internal/auth"
	"github.com/gantry-dev/gantry/services/internal/process"
	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// OpenAPI is the API's contract, served at /openapi.yaml; a test holds the
// router to it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Options wires a handler to its collaborators.
type Options struct {
	Store          task.Store
	Tokens         TokenStore
	Webhooks       WebhookStore
	Policy         webhook.Policy // where webhooks may point
	Resolver       Resolver       // nil: net.DefaultResolver
	TokenCache     *auth.Cache    // nil: none, every request looks its token up
	Ready          *process.Readiness
	Log            *slog.Logger
	RequestTimeout time.Duration         // per-request deadline, passed to the database
	Registry       prometheus.Registerer // where the request metrics go; nil: nowhere
}

type api struct {
	store          task.Store
	webhooks       WebhookStore
	policy         webhook.Policy
	resolver       Resolver
	auth           *authenticator
	ready          *process.Readiness
	log            *slog.Logger
	requestTimeout time.Duration
	metrics        *metrics
	ids            *idSource
	scopes         map[string]auth.Scope // "GET /v1/tasks" -> the scope it needs
}

// Route templates, which are also the metrics' route label.
const (
	routeTasks      = "/v1/tasks"
	routeTask       = "/v1/tasks/{id}"
	routeWebhooks   = "/v1/webhooks"
	routeWebhook    = "/v1/webhooks/{id}"
	routeDeliveries = "/v1/webhooks/{id}/deliveries"
	routeHealthz    = "/healthz"
	routeReadyz     = "/readyz"
	routeOpenAPI    = "/openapi.yaml"
)

// Tokens stay cached this long at most; the change feed usually drops them
// sooner. The bound on entries only guards against a flood of distinct
// valid tokens, of which there are few.
const (
	tokenCacheTTL = time.Minute
	tokenCacheMax = 10000
)

// NewTokenCache is the cache Options.TokenCache wants: validated tokens
// served from memory for at most a minute, and only while the change feed
// (postgres.ListenTokenChanges) is connected, so a revocation takes effect
// on every replica as soon as PostgreSQL notifies it.
func NewTokenCache() *auth.Cache { return auth.NewCache(tokenCacheTTL, tokenCacheMax) }

// New returns the API's handler. /metrics is not among its routes: it is
// the admin listener's (process.Admin), on a port users are not given.
func New(o Options) http.Handler {
	cache := o.TokenCache
	if cache == nil {
		cache = NewTokenCache() // never fed, so never live: nothing is served from it
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	resolver := o.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	a := &api{
		store:          o.Store,
		webhooks:       o.Webhooks,
		policy:         o.Policy,
		resolver:       resolver,
		auth:           &authenticator{store: o.Tokens, cache: cache, log: o.Log, now: time.Now, touched: map[int64]time.Time{}},
		ready:          o.Ready,
		log:            o.Log,
		requestTimeout: o.RequestTimeout,
		metrics:        newMetrics(reg),
		ids:            newIDSource(),
	}
	return a.observe(a.router())
}

func (a *api) router() *mux.Router {
	r := mux.NewRouter()
	handle := func(tmpl, method string, h http.HandlerFunc) {
		r.Handle(tmpl, nameRoute(tmpl, h)).Methods(method).Name(method + " " + tmpl)
	}
	// Every /v1 route needs a token with its scope (openapi.yaml's
	// x-scope; a test holds the two together). mux tries routes in order,
	// one regexp each: the busiest goes first.
	a.scopes = map[string]auth.Scope{}
	for _, rt := range []struct {
		tmpl, method string
		scope        auth.Scope
		h            http.HandlerFunc
	}{
		{routeTask, http.MethodGet, auth.TasksRead, a.getTask},
		{routeTasks, http.MethodPost, auth.TasksWrite, a.createTask},
		{routeTasks, http.MethodGet, auth.TasksRead, a.listTasks},
		{routeTask, http.MethodPatch, auth.TasksWrite, a.updateTask},
		{routeTask, http.MethodDelete, auth.TasksWrite, a.deleteTask},
		{routeWebhooks, http.MethodPost, auth.WebhooksManage, a.createWebhook},
		{routeWebhooks, http.MethodGet, auth.WebhooksManage, a.listWebhooks},
		{routeWebhook, http.MethodGet, auth.WebhooksManage, a.getWebhook},
		{routeWebhook, http.MethodDelete, auth.WebhooksManage, a.deleteWebhook},
		{routeDeliveries, http.MethodGet, auth.WebhooksManage, a.listDeliveries},
	} {
		handle(rt.tmpl, rt.method, a.requireScope(rt.scope, rt.h))
		a.scopes[rt.method+" "+rt.tmpl] = rt.scope
	}
	// The probes and the contract are open.
	handle(routeHealthz, http.MethodGet, process.Healthz)
	handle(routeReadyz, http.MethodGet, a.readyz)
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
