package auth

import (
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNewTokensAreWellFormedAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != TokenLen || !strings.HasPrefix(tok, Prefix) {
			t.Fatalf("%q: want %d characters starting %q", tok, TokenLen, Prefix)
		}
		if err := Check(tok); err != nil {
			t.Fatalf("Check(%q) = %v", tok, err)
		}
		if seen[tok] {
			t.Fatalf("%q came twice", tok)
		}
		seen[tok] = true
	}
}

// The format is fixed: a token issued by one release must check in the
// next. This one is the all-zero secret; its checksum was computed apart,
// with Python's zlib.crc32 and base62 digits 0-9A-Za-z.
func TestTheFormatIsStable(t *testing.T) {
	body := Prefix + strings.Repeat("0", secretLen)
	tok := body + checksum(body)
	if tok != "gantry_0000000000000000000000000000000000000000000"+"0TWoMP" {
		t.Errorf("the zero token is %q; the checksum encoding changed", tok)
	}
	if bits := float64(secretLen) * math.Log2(62); bits < 256 {
		t.Errorf("%d base62 characters are %.2f bits, fewer than 256", secretLen, bits)
	}
}

func TestCheckRefusesWhatIsNotAToken(t *testing.T) {
	good, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		c := byte('a')
		if s[i] == 'a' {
			c = 'b'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct {
		name, token string
		want        error
	}{
		{"an empty string is malformed", "", ErrMalformed},
		{"another product's prefix is malformed", "ghp_" + good[len(Prefix):], ErrMalformed},
		{"a token missing its last character is malformed", good[:len(good)-1], ErrMalformed},
		{"a token with a character added is malformed", good + "0", ErrMalformed},
		{"a token with a dash in it is malformed", good[:20] + "-" + good[21:], ErrMalformed},
		{"a mistyped first character of the secret fails the checksum", flip(good, len(Prefix)), ErrChecksum},
		{"a mistyped middle character fails the checksum", flip(good, 30), ErrChecksum},
		{"a mistyped checksum fails the checksum", flip(good, len(good)-1), ErrChecksum},
		{"the token in upper case fails the checksum", Prefix + strings.ToUpper(good[len(Prefix):]), ErrChecksum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Check(tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Check(%q) = %v, want %v", tc.token, err, tc.want)
			}
		})
	}
}

func TestHashIsTheSHA256OfTheToken(t *testing.T) {
	// printf gantry_x | sha256sum
	const want = "1decaebd001fae0639fcd844e1e6e160ae09624ab0f8a355fda0555b08c8d764"
	if h := HashOf("gantry_x"); hex.EncodeToString(h[:]) != want {
		t.Errorf("HashOf(gantry_x) = %x, want %s", h, want)
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        string
	}{
		{"one scope", "tasks:read", "tasks:read", ""},
		{"several scopes come back sorted without repeats", "tasks:write, tasks:read,tasks:write", "tasks:read,tasks:write", ""},
		{"all grants every scope", "all", "tasks:read,tasks:write,webhooks:manage", ""},
		{"an unknown scope is refused, naming the known ones", "tasks:read,admin", "", `unknown scope "admin"; the scopes are [tasks:read tasks:write webhooks:manage] (or all)`},
		{"an empty list is refused", " , ", "", "no scope given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseScopes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseScopes(%q) = %v, %v; want error %q", tc.in, s, err, tc.wantErr)
				}
				return
			}
			if err != nil || s.String() != tc.want {
				t.Fatalf("ParseScopes(%q) = %q, %v; want %q", tc.in, s, err, tc.want)
			}
		})
	}
}

func TestUsable(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	tests := []struct {
		name string
		tok  Token
		want bool
	}{
		{"a token without expiry is usable", Token{}, true},
		{"a token before its expiry is usable", Token{ExpiresAt: &future}, true},
		{"a token at its expiry is not", Token{ExpiresAt: &now}, false},
		{"a token after its expiry is not", Token{ExpiresAt: &past}, false},
		{"a revoked token is not", Token{RevokedAt: &past}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tok.Usable(now); got != tc.want {
				t.Errorf("Usable = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	tok, err := NewToken()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(tok); err != nil {
			b.Fatal(err)
		}
		_ = HashOf(tok)
	}
}

// Every character of the secret is drawn uniformly: over many tokens each
// of the 62 appears about as often as the others.
func TestTheSecretsCharactersAreUniform(t *testing.T) {
	counts := map[byte]int{}
	const tokens = 2000
	for range tokens {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		for i := len(Prefix); i < len(Prefix)+secretLen; i++ {
			counts[tok[i]]++
		}
	}
	want := float64(tokens*secretLen) / 62
	for i := range len(base62) {
		if n := float64(counts[base62[i]]); n < want*0.85 || n > want*1.15 {
			t.Errorf("%q came %v times, want about %.0f", base62[i], n, want)
		}
	}
}

func TestTheChecksumIsCRC32IEEE(t *testing.T) {
	for _, body := range []string{"", "a", "gantry_", "gantry_" + strings.Repeat("Z", secretLen), "The quick brown fox jumps over the lazy dog"} {
		n := crc32.ChecksumIEEE([]byte(body))
		var want [checksumLen]byte
		for i := checksumLen - 1; i >= 0; i-- {
			want[i] = base62[n%62]
			n /= 62
		}
		if got := checksumOf(body); got != want {
			t.Errorf("checksumOf(%q) = %s, want %s", body, got[:], want[:])
		}
	}
}
