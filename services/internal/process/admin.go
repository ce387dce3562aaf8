package process

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry is a process's metrics registry, with the Go runtime's and
// the process's own collectors. Each server has its own, so tests can run
// many in one process.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Admin is the admin listener's handler: /metrics from reg, and the
// probes, /healthz (the process serves) and /readyz (ready for work).
func Admin(reg prometheus.Gatherer, ready *Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", Healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := ready.Check(r.Context()); why != "" {
			writeUnavailable(w, r, why)
			return
		}
		writeProbe(w, readyBody)
	})
	return mux
}

var (
	okBody    = []byte(`{"status":"ok"}` + "\n")
	readyBody = []byte(`{"status":"ready"}` + "\n")
)

// Healthz is liveness: the process serves HTTP. It never touches the
// database, so a database outage cannot get healthy containers restarted.
func Healthz(w http.ResponseWriter, _ *http.Request) { writeProbe(w, okBody) }

// ReadyBody is what a passing /readyz answers, on any listener.
func ReadyBody() []byte { return readyBody }

func writeProbe(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body) // a prober that hung up needs no answer
}

// writeUnavailable is a 503 RFC 9457 problem saying why.
func writeUnavailable(w http.ResponseWriter, r *http.Request, why string) {
	body, _ := json.Marshal(map[string]any{ // a map of strings and an int always marshals
		"type": "about:blank", "title": http.StatusText(http.StatusServiceUnavailable),
		"status": http.StatusServiceUnavailable, "detail": why, "instance": r.URL.Path,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(body)
}
