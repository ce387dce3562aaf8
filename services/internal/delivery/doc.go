// Package delivery is the notifier's work: River workers that fan each
// task event out to the webhooks that want it and send each delivery,
// signed as the Standard Webhooks specification says, through an HTTP
// client that reaches only what the webhook policy allows, retried with
// backoff over a horizon. It keeps nothing itself: Store is what it needs
// of the database, and the notifier wires the postgres package's to it.
package delivery
