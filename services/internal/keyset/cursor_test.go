package keyset

import (
	"testing"
	"time"
)

func TestCursorsRoundTripAndForgeriesAreRejected(t *testing.T) {
	c := Cursor{CreatedAt: time.Date(2026, 11, 27, 15, 4, 5, 123456000, time.UTC), ID: [16]byte{1, 2, 3}}
	got, err := ParseCursor(c.String())
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for name, s := range map[string]string{
		"empty":           "",
		"not base64":      "!!!",
		"too short":       "AQ",
		"unknown version": "AgAAAAAAAAAAAQIDAAAAAAAAAAAAAAAAAA",
		"padded base64":   c.String() + "==",
	} {
		t.Run("rejects a cursor that is "+name, func(t *testing.T) {
			if _, err := ParseCursor(s); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
