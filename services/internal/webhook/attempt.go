package webhook

import "time"

// Attempt is what one delivery attempt found, to be recorded on its
// delivery: the receiver's status (0 when it never answered), what went
// wrong ("" when nothing), and where the delivery stands after it.
type Attempt struct {
	Number     int
	HTTPStatus int
	Err        string
	Status     DeliveryStatus
	NextAt     *time.Time // the next attempt, while pending
}
