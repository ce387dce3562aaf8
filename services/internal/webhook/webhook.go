package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"
)

// Webhook is a subscription: events of these types go to URL, signed with
// Secret (Standard Webhooks: "whsec_" and the base64 of the key).
type Webhook struct {
	ID        string
	URL       string
	Events    []EventType
	Secret    string
	CreatedAt time.Time
}

// Wants reports whether w subscribes to events of type t.
func (w Webhook) Wants(t EventType) bool { return slices.Contains(w.Events, t) }

// SecretPrefix starts every signing secret, as the Standard Webhooks
// libraries expect.
const SecretPrefix = "whsec_"

// NewSecret is a fresh signing secret: 32 random bytes, which the spec
// allows (24 to 64).
func NewSecret() string {
	var key [32]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails (it panics instead)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// A delivery is pending until the receiver answers 2xx (succeeded) or its
// attempts run out (failed, kept for the record).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one event sent, or being sent, to one webhook.
type Delivery struct {
	ID            string
	WebhookID     string
	EventID       string
	EventType     EventType
	Status        DeliveryStatus
	Attempts      int
	LastError     string // "" when none
	LastStatus    int    // the receiver's last HTTP status, 0 when none
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}
