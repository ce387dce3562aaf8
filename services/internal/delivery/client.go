package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// ClientOptions shape the HTTP client deliveries go through.
type ClientOptions struct {
	Policy  webhook.Policy
	Timeout time.Duration  // one attempt, from dialling to the last byte read (WEBHOOK_TIMEOUT)
	RootCAs *x509.CertPool // nil: the system's; tests trust their own servers' certificates
	// Conns is how many attempts run at once (NOTIFIER_WORKERS): each
	// may keep its connection for the next attempt to the same host.
	Conns int
}

// NewHTTPClient is the client every delivery goes through. A webhook's URL
// was checked when it was made, but its host may resolve elsewhere now
// (DNS rebinding), so each dialler checks the address it actually dials:
// https may reach public addresses and WEBHOOK_ALLOW_CIDRS, plain http only
// the latter. No proxy from the environment (it would be dialled instead
// of the receiver, and the check would see only the proxy), no redirects
// (they could point anywhere), verified TLS 1.2 or newer.
func NewHTTPClient(o ClientOptions) *http.Client {
	plain := &net.Dialer{Timeout: o.Timeout, Control: guard(o.Policy.CheckPlainAddr)}
	secure := &net.Dialer{Timeout: o.Timeout, Control: guard(o.Policy.CheckAddr)}
	transport := &http.Transport{
		Proxy:       nil,
		DialContext: plain.DialContext,
		// With DialTLSContext set, https never goes through DialContext:
		// this is the only way to an https receiver. The transport runs the
		// handshake, which verifies the certificate against ServerName.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := secure.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				_ = conn.Close() // the split error is the one to report
				return nil, err
			}
			return tls.Client(conn, &tls.Config{ServerName: host, RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}), nil
		},
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		// A connection the transport cannot keep idle is closed, and the
		// next attempt to that host dials again. River starts a fetched
		// batch of deliveries at once, so with fewer idle connections than
		// workers nearly every attempt to a busy receiver dialled: an eighth
		// of a notifier's CPU in one profile (docs/benchmarks.md). One per
		// worker, and no more in all, bounds the descriptors at two per
		// worker.
		MaxIdleConnsPerHost: max(o.Conns, 2),
		MaxIdleConns:        max(o.Conns, 2),
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guard is a net.Dialer Control hook: it runs once the name is resolved,
// before each connect, on the address being dialled.
func guard(check func(netip.Addr) error) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("cannot check the address %q before dialling it: %w", address, err)
		}
		return check(ap.Addr())
	}
}
