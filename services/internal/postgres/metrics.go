package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector reads pgxpool's statistics at scrape time: the pool already
// counts everything, so nothing is added to the query path.
type PoolCollector struct {
	pool  *pgxpool.Pool
	descs map[string]*prometheus.Desc
}

type poolStat struct {
	name, help string
	kind       prometheus.ValueType
	value      func(*pgxpool.Stat) float64
}

var poolStats = []poolStat{
	{"pgxpool_acquired_conns", "Connections currently in use.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }},
	{"pgxpool_idle_conns", "Connections currently idle.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }},
	{"pgxpool_total_conns", "Connections open, in use or idle.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }},
	{"pgxpool_max_conns", "The pool's maximum size.", prometheus.GaugeValue, func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }},
	{"pgxpool_acquires_total", "Successful connection acquisitions.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }},
	{"pgxpool_empty_acquires_total", "Acquisitions that had to wait for a connection.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }},
	{"pgxpool_canceled_acquires_total", "Acquisitions abandoned because their context ended.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }},
	{"pgxpool_acquire_duration_seconds_total", "Time spent acquiring connections.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }},
	{"pgxpool_new_conns_total", "Connections opened.", prometheus.CounterValue, func(s *pgxpool.Stat) float64 { return float64(s.NewConnsCount()) }},
}

// NewPoolCollector builds every metric description once, so that a scrape
// only reads the pool.
func NewPoolCollector(pool *pgxpool.Pool) *PoolCollector {
	c := &PoolCollector{pool: pool, descs: make(map[string]*prometheus.Desc, len(poolStats))}
	for _, s := range poolStats {
		c.descs[s.name] = prometheus.NewDesc(s.name, s.help, nil, nil)
	}
	return c
}

// Describe sends the descriptions, for prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect takes one snapshot of the pool per scrape, so that the figures of
// one scrape agree with each other.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	for _, s := range poolStats {
		ch <- prometheus.MustNewConstMetric(c.descs[s.name], s.kind, s.value(st))
	}
}
