package webhook

// The queues and kinds of the jobs that carry events, one name each for
// River (which calls them by Kind) and for whoever reads river_job.
const (
	// QueueEvents holds one job per task change, inserted in the change's
	// own transaction: an event exists exactly when its change committed.
	QueueEvents = "events"
	// QueueDeliveries holds one job per (event, webhook).
	QueueDeliveries = "deliveries"
)

// EventJob is the job of one event: the notifier fans it out into one
// DeliveryJob per webhook that wants it.
type EventJob struct {
	Event
}

// Kind names the job for River.
func (EventJob) Kind() string { return "task_event" }

// DeliveryJob sends one event to one webhook, retried on its own.
type DeliveryJob struct {
	DeliveryID string `json:"delivery_id"`
	WebhookID  string `json:"webhook_id"`
	Event      Event  `json:"event"`
}

// Kind names the job for River.
func (DeliveryJob) Kind() string { return "webhook_delivery" }

// SweepJob looks for deliveries whose last attempt never reported: River
// discards the job of a notifier that died during that attempt, and
// nothing else then records the delivery failed.
type SweepJob struct{}

// Kind names the job for River.
func (SweepJob) Kind() string { return "delivery_sweep" }
