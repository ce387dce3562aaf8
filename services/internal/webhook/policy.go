package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Policy decides where webhooks may point. By default only public
// addresses, over https: a webhook must never let a caller reach what the
// service can but they cannot (SSRF): the database, the metadata service at
// 169.254.169.254, the host's loopback. Allow lists networks that are
// nevertheless allowed, plainly over http too: a dev stack's or a test's own
// network (WEBHOOK_ALLOW_CIDRS).
type Policy struct {
	Allow []netip.Prefix
}

// ParseAllow reads WEBHOOK_ALLOW_CIDRS: comma-separated CIDRs or addresses.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is no CIDR (such as 172.18.0.0/16) or address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// special are networks that are never public, beyond what netip's
// predicates name: shared (CGNAT) and reserved space, "this network",
// benchmarking, IETF protocol assignments, and NAT64 (checked through the
// address it embeds).
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("2001:db8::/32"),
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Public reports whether a is an address on the public internet.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return Public(netip.AddrFrom4([4]byte(b[12:])))
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() || a == netip.IPv4Unspecified() {
		return false
	}
	return !slices.ContainsFunc(special, func(p netip.Prefix) bool { return p.Contains(a) })
}

// allowed reports whether a is in one of p.Allow.
func (p Policy) allowed(a netip.Addr) bool {
	a = a.Unmap()
	return slices.ContainsFunc(p.Allow, func(n netip.Prefix) bool { return n.Contains(a) })
}

// CheckAddr says why a webhook may not connect to a, or nil if it may. The
// delivery's dialer asks it of the address it actually dials, so a name
// that resolves elsewhere at delivery than at creation (DNS rebinding)
// gains nothing.
func (p Policy) CheckAddr(a netip.Addr) error {
	if Public(a) || p.allowed(a) {
		return nil
	}
	return fmt.Errorf("%s is not a public address (loopback, private, link-local and the like are refused; WEBHOOK_ALLOW_CIDRS can allow a network)", a.Unmap())
}

// CheckPlainAddr says why plain http may not go to a, or nil if it may:
// only networks in Allow are spoken to unencrypted. The delivery's dialer
// for http asks it of the address it dials, for the same reason as
// CheckAddr.
func (p Policy) CheckPlainAddr(a netip.Addr) error {
	if p.allowed(a) {
		return nil
	}
	if err := p.CheckAddr(a); err != nil {
		return err
	}
	return fmt.Errorf("plain http to %s is refused: use https (plain http is only for networks in WEBHOOK_ALLOW_CIDRS)", a.Unmap())
}

// ErrBadURL is the kind of a URL the policy refuses.
var ErrBadURL = errors.New("webhook URL refused")

// CheckURL parses raw and checks it against the policy, given the
// addresses its host resolves to now (an address host resolves to itself).
// Plain http is allowed only when every address is in Allow.
func (p Policy) CheckURL(raw string, addrs []netip.Addr) (*url.URL, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: %s resolves to no address", ErrBadURL, u.Hostname())
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadURL, u.Hostname(), err)
		}
		if u.Scheme == "http" && !p.allowed(a) {
			return nil, fmt.Errorf("%w: use https (plain http is only for networks in WEBHOOK_ALLOW_CIDRS)", ErrBadURL)
		}
	}
	return u, nil
}

// ParseURL checks what can be checked without resolving: an absolute http
// or https URL with a host, no user info, no fragment.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		return nil, fmt.Errorf("%w: not a URL of at most 2048 characters", ErrBadURL)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("%w: the scheme must be https", ErrBadURL)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: it has no host", ErrBadURL)
	case u.User != nil:
		return nil, fmt.Errorf("%w: user info in a URL would be logged; put credentials in the receiver's check of the signature", ErrBadURL)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("%w: a fragment is never sent; remove it", ErrBadURL)
	}
	return u, nil
}
