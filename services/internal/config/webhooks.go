package config

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// Webhooks are the webhook settings: the API checks new webhooks' URLs
// against AllowCIDRs, the notifier also delivers with the rest.
type Webhooks struct {
	AllowCIDRs   []netip.Prefix // WEBHOOK_ALLOW_CIDRS: networks allowed beside the public internet, over http too
	MaxAttempts  int            // WEBHOOK_MAX_ATTEMPTS: attempts per delivery before it is kept as failed
	RetryHorizon time.Duration  // WEBHOOK_RETRY_HORIZON: about how long a delivery's retries span
	Timeout      time.Duration  // WEBHOOK_TIMEOUT: one attempt, connecting to the last byte
	Workers      int            // NOTIFIER_WORKERS: deliveries in flight per notifier
}

// Webhook defaults: eight attempts over about an hour, ten seconds each.
const (
	DefaultWebhookMaxAttempts  = 8
	DefaultWebhookRetryHorizon = time.Hour
	DefaultWebhookTimeout      = 10 * time.Second
	DefaultNotifierWorkers     = 50
)

// LoadWebhooks reads the webhook settings and reports every bad one.
func LoadWebhooks(getenv func(string) string) (Webhooks, error) {
	p := parser{getenv: getenv}
	w := Webhooks{
		AllowCIDRs:   p.cidrs("WEBHOOK_ALLOW_CIDRS"),
		MaxAttempts:  p.count("WEBHOOK_MAX_ATTEMPTS", DefaultWebhookMaxAttempts, 1, 25),
		RetryHorizon: p.duration("WEBHOOK_RETRY_HORIZON", DefaultWebhookRetryHorizon, false),
		Timeout:      p.duration("WEBHOOK_TIMEOUT", DefaultWebhookTimeout, false),
		Workers:      p.count("NOTIFIER_WORKERS", DefaultNotifierWorkers, 1, 1000),
	}
	return w, p.err()
}

func (p *parser) cidrs(name string) []netip.Prefix {
	prefixes, err := webhook.ParseAllow(p.getenv(name))
	if err != nil {
		p.fail(name, "%v", err)
	}
	return prefixes
}

// count reads a whole number from lo to hi.
func (p *parser) count(name string, def, lo, hi int) int {
	s := p.getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, s)
		return def
	}
	return n
}
