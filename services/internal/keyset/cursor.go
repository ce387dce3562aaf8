// Package keyset is the position of a keyset-paginated listing: every
// listing of Gantry's records (tasks, webhooks, deliveries) orders by
// (created_at, id), and a page ends at a Cursor the client passes back
// unchanged.
package keyset

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Cursor is a position in the (CreatedAt, ID) order of a listing. Clients see
// it only as an opaque string, so its encoding can change with its version
// byte without breaking anyone who follows next_cursor links.
type Cursor struct {
	CreatedAt time.Time
	ID        [16]byte // a UUID
}

const cursorV1 = 1

// ErrBadCursor is returned for a cursor this server did not produce.
var ErrBadCursor = errors.New("malformed cursor")

// String encodes the cursor as URL-safe base64 of version, microseconds since
// the epoch (PostgreSQL's timestamp precision) and the ID.
func (c Cursor) String() string {
	var b [1 + 8 + 16]byte
	b[0] = cursorV1
	binary.BigEndian.PutUint64(b[1:9], uint64(c.CreatedAt.UnixMicro()))
	copy(b[9:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor decodes a String result and rejects anything else.
func ParseCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 25 || b[0] != cursorV1 {
		return Cursor{}, ErrBadCursor
	}
	var c Cursor
	// The bits of the int64 String wrote, and any int64 is a valid time.
	c.CreatedAt = time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC() //nolint:gosec // G115: see above
	copy(c.ID[:], b[9:])
	return c, nil
}
