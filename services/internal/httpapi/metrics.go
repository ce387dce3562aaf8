package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the request collectors of one server, registered in the
// registry its admin listener serves.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by method, route template and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	code, verb := statusLabel(status), methodLabel(method)
	m.requests.WithLabelValues(verb, route, code).Inc()
	m.duration.WithLabelValues(verb, route, code).Observe(d.Seconds())
}

// otherMethod labels every non-standard method. net/http accepts any token
// as a method, so the raw one would let a client mint series without limit.
const otherMethod = "other"

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return otherMethod
}

// statusLabel avoids formatting the common codes on every request.
func statusLabel(status int) string {
	switch status {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	case 404:
		return "404"
	}
	return strconv.Itoa(status)
}
