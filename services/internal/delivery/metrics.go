package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a delivery attempt, as the deliveries counter labels them.
const (
	outcomeSucceeded = "succeeded" // the receiver answered 2xx
	outcomeRetried   = "retried"   // it did not; another attempt is due
	outcomeFailed    = "failed"    // it did not, on the last attempt
	outcomeCancelled = "cancelled" // the webhook was deleted before the attempt
)

// Metrics are the delivery collectors of one notifier.
type Metrics struct {
	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
}

// NewMetrics registers the delivery collectors in reg, each outcome at 0
// so that a rate over it exists before the first delivery.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_deliveries_total",
			Help: "Delivery attempts by outcome: succeeded, retried (failed, another attempt due), failed (the last attempt failed), cancelled (the webhook was deleted).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "webhook_attempt_duration_seconds",
			Help:    "Time from sending a delivery to the receiver's answer (or the failure), per attempt.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	for _, o := range []string{outcomeSucceeded, outcomeRetried, outcomeFailed, outcomeCancelled} {
		m.outcomes.WithLabelValues(o)
	}
	reg.MustRegister(m.outcomes, m.latency)
	return m
}

func (m *Metrics) outcome(o string) { m.add(o, 1) }

func (m *Metrics) add(o string, n int) { m.outcomes.WithLabelValues(o).Add(float64(n)) }

func (m *Metrics) attempt(d time.Duration) { m.latency.Observe(d.Seconds()) }

// LagReader reads how long the oldest job that is due has waited, per
// queue; a queue with nothing due has lag 0.
type LagReader interface {
	QueueLag(ctx context.Context, queues []string) (map[string]time.Duration, error)
}

// lagTimeout bounds the query of one scrape: a slow database must not
// hold up the other metrics.
const lagTimeout = time.Second

// LagCollector reports queue lag, the age of the oldest job that is due in
// each queue, read from the database at each scrape: a notifier that falls
// behind, or none running at all, shows here first.
type LagCollector struct {
	reader LagReader
	queues []string
	desc   *prometheus.Desc
	log    *slog.Logger
}

// NewLagCollector reports the lag of queues through reader.
func NewLagCollector(reader LagReader, log *slog.Logger, queues ...string) *LagCollector {
	return &LagCollector{reader: reader, queues: queues, log: log, desc: prometheus.NewDesc(
		"webhook_queue_lag_seconds", "Age of the oldest job that is due and not yet taken, per queue (0 when none is waiting).",
		[]string{"queue"}, nil)}
}

// Describe sends the description, for prometheus.Collector.
func (c *LagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect runs one query. When it fails the lag is left out of the scrape
// (which still serves everything else) and the failure is logged.
func (c *LagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	lags, err := c.reader.QueueLag(ctx, c.queues)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "could not read the queue lag", slog.Any("err", err))
		return
	}
	for _, q := range c.queues {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, lags[q].Seconds(), q)
	}
}
