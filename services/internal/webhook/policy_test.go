package webhook

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestPublicTellsThePublicInternetFromTheRest(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		{"93.184.215.14", true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true},
		{"127.0.0.1", false}, {"127.8.9.10", false}, {"::1", false},
		{"10.0.0.1", false}, {"172.16.0.1", false}, {"172.31.255.255", false}, {"192.168.1.1", false}, {"fd00::1", false},
		{"169.254.169.254", false}, {"fe80::1", false},
		{"0.0.0.0", false}, {"::", false}, {"0.1.2.3", false},
		{"100.64.0.1", false}, {"198.18.0.1", false}, {"224.0.0.1", false}, {"255.255.255.255", false}, {"ff02::1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"::ffff:93.184.215.14", true},
		{"64:ff9b::a00:1", false}, {"64:ff9b::5db8:d70e", true},
		{"2001:db8::1", false},
	}
	for _, tc := range tests {
		name := tc.addr + " is not public"
		if tc.public {
			name = tc.addr + " is public"
		}
		t.Run(name, func(t *testing.T) {
			if got := Public(netip.MustParseAddr(tc.addr)); got != tc.public {
				t.Errorf("Public(%s) = %v", tc.addr, got)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	allow, err := ParseAllow("172.18.0.0/16, 10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	dev := Policy{Allow: allow}
	tests := []struct {
		name   string
		policy Policy
		url    string
		addrs  []string
		want   string // a part of the error, "" for none
	}{
		{"https to a public address passes", Policy{}, "https://hooks.example.com/x", []string{"93.184.215.14"}, ""},
		{"plain http to a public address is refused", Policy{}, "http://hooks.example.com/x", []string{"93.184.215.14"}, "use https"},
		{"loopback is refused", Policy{}, "https://127.0.0.1/x", []string{"127.0.0.1"}, "127.0.0.1 is not a public address"},
		{"a private address is refused", Policy{}, "https://10.0.0.1/x", []string{"10.0.0.1"}, "10.0.0.1 is not a public address"},
		{"the metadata service is refused", Policy{}, "https://169.254.169.254/latest", []string{"169.254.169.254"}, "169.254.169.254 is not a public address"},
		{"a name resolving to a public and a private address is refused", Policy{}, "https://mixed.example/x", []string{"93.184.215.14", "192.168.0.9"}, "192.168.0.9"},
		{"a name resolving to nothing is refused", Policy{}, "https://nowhere.example/x", nil, "resolves to no address"},
		{"an allowed network passes, over http too", dev, "http://receiver:8080/hook", []string{"172.18.0.5"}, ""},
		{"an allowed single address passes", dev, "https://10.1.2.3/hook", []string{"10.1.2.3"}, ""},
		{"an address beside the allowed one is refused", dev, "https://10.1.2.4/hook", []string{"10.1.2.4"}, "not a public address"},
		{"http to a public address stays refused under an allow list", dev, "http://hooks.example.com/x", []string{"93.184.215.14"}, "use https"},
		{"another scheme is refused", Policy{}, "ftp://hooks.example.com/x", nil, "the scheme must be https"},
		{"a relative URL is refused", Policy{}, "/hook", nil, "the scheme must be https"},
		{"user info is refused", Policy{}, "https://user:pass@hooks.example.com/x", nil, "user info"},
		{"a fragment is refused", Policy{}, "https://hooks.example.com/x#frag", nil, "fragment"},
		{"an over-long URL is refused", Policy{}, "https://hooks.example.com/" + strings.Repeat("a", 2048), nil, "at most 2048"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var addrs []netip.Addr
			for _, a := range tc.addrs {
				addrs = append(addrs, netip.MustParseAddr(a))
			}
			_, err := tc.policy.CheckURL(tc.url, addrs)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadURL)):
				t.Errorf("got %v, want an ErrBadURL with %q", err, tc.want)
			}
		})
	}
}

func TestParseAllowNamesWhatItCannotRead(t *testing.T) {
	if _, err := ParseAllow("172.18.0.0/16,not-a-net"); err == nil || !strings.Contains(err.Error(), `"not-a-net"`) {
		t.Errorf("ParseAllow = %v", err)
	}
}

func TestCheckPlainAddrAllowsOnlyTheAllowedNetworks(t *testing.T) {
	allow, err := ParseAllow("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		policy Policy
		addr   string
		want   string // a part of the error, "" for none
	}{
		{"an allowed address may have plain http", Policy{Allow: allow}, "127.0.0.1", ""},
		{"a public address may not", Policy{Allow: allow}, "93.184.215.14", "plain http to 93.184.215.14 is refused"},
		{"loopback without the allow list may not, as it is not public", Policy{}, "127.0.0.1", "127.0.0.1 is not a public address"},
		{"a private address beside the allowed one may not", Policy{Allow: allow}, "127.0.0.2", "127.0.0.2 is not a public address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.CheckPlainAddr(netip.MustParseAddr(tc.addr))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
