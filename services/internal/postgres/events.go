package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/gantry-dev/gantry/services/internal/task"
	"github.com/gantry-dev/gantry/services/internal/webhook"
)

// change runs write in a transaction and, in the same transaction, inserts
// the event of what it wrote (River's InsertTx): the event exists exactly
// when the change committed, and a change that rolls back leaves none. The
// insert goes out with the COMMIT (see eventTx).
func (s *Store) change(ctx context.Context, typ webhook.EventType, write func(pgx.Tx) (task.Task, error)) error {
	// River's notice of the event goes out in the background: the write
	// answers without waiting for it.
	return inTx(ctx, s.pool, pgx.TxOptions{}, s.notice, func(tx *eventTx) error {
		t, err := write(tx.Tx)
		if err != nil || !emitEvents {
			return err
		}
		_, err = s.events.InsertTx(ctx, tx, webhook.EventJob{Event: webhook.NewEvent(typ, t, time.Now())},
			&river.InsertOpts{Queue: webhook.QueueEvents})
		return err
	})
}
