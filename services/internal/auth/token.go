package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
)

// A token is Prefix, 43 base62 characters of randomness (256 bits) and a
// 6-character base62 CRC32 of everything before it, in the style of
// GitHub's tokens: secret scanners find the prefix, and a mistyped token
// fails its checksum without a database lookup.
const (
	Prefix      = "gantry_"
	secretLen   = 43 // 43 base62 characters: 43 * log2(62) = 256.03 bits
	checksumLen = 6  // 62^6 > 2^32
	TokenLen    = len(Prefix) + secretLen + checksumLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors of a token that cannot be one of ours. The HTTP layer answers
// both the same way, so a caller learns nothing from which it was.
var (
	ErrMalformed = errors.New("not a gantry API token: want gantry_ followed by 49 letters and digits")
	ErrChecksum  = errors.New("the token's checksum does not match: it was mistyped or truncated")
)

// ErrUnknownToken is a well-formed token that was never issued.
var ErrUnknownToken = errors.New("no such token")

// Hash is what the database stores and is looked up by: the SHA-256 of
// the whole token. The token itself is never stored.
type Hash [sha256.Size]byte

// HashOf hashes a token. A token of the right length is copied into a
// buffer on the stack first: converting it would cost an allocation on
// every request.
func HashOf(token string) Hash {
	if len(token) != TokenLen {
		return sha256.Sum256([]byte(token))
	}
	var buf [TokenLen]byte
	copy(buf[:], token)
	return sha256.Sum256(buf[:])
}

// NewToken returns a fresh random token: 43 base62 characters drawn
// uniformly, by rejection sampling of random bytes, are 256.03 bits.
func NewToken() (string, error) {
	secret := make([]byte, 0, secretLen)
	var buf [64]byte
	for len(secret) < secretLen {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, c := range buf {
			// 248 = 4*62: bytes above it would favour the first digits.
			if c < 248 && len(secret) < secretLen {
				secret = append(secret, base62[c%62])
			}
		}
	}
	body := Prefix + string(secret)
	return body + checksum(body), nil
}

// Check tells a well-formed token with a valid checksum from anything else.
func Check(token string) error {
	if len(token) != TokenLen || token[:len(Prefix)] != Prefix {
		return ErrMalformed
	}
	for i := len(Prefix); i < len(token); i++ {
		if !isBase62(token[i]) {
			return ErrMalformed
		}
	}
	body := token[:len(token)-checksumLen]
	if sum := checksumOf(body); string(sum[:]) != token[len(body):] {
		return ErrChecksum
	}
	return nil
}

func checksum(body string) string {
	sum := checksumOf(body)
	return string(sum[:])
}

// checksumOf runs on every request, so it neither allocates nor uses
// big.Int: the CRC32 (IEEE) is the table-driven textbook loop over the
// string itself (crc32.ChecksumIEEE takes a []byte, whose conversion
// would allocate), and a test holds it to crc32.ChecksumIEEE.
func checksumOf(body string) [checksumLen]byte {
	n := ^uint32(0)
	for i := range len(body) {
		n = crc32.IEEETable[byte(n)^body[i]] ^ n>>8 //nolint:gosec // G115: byte(n) keeps the low 8 bits on purpose, as CRC32 does
	}
	n = ^n
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return out
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
