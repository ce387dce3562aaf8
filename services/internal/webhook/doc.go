// Package webhook is what a webhook is: the events a task change makes,
// the subscriptions that receive them, the deliveries that carry them, and
// the policy that keeps their URLs pointed outward. It does no I/O: the
// postgres package stores these, the httpapi package manages webhooks, and
// the delivery package sends events.
package webhook
