package postgres

import (
	"context"
	"sync"
	"time"
)

// maxBatch bounds one coalesced statement, and with it the wait of the
// first caller in a batch behind the last.
const maxBatch = 128

// coalescer runs calls of one kind so that, under load, many share a
// statement. A call that finds fewer than limit batches running runs at
// once, alone, exactly as without coalescing; calls arriving while every
// slot is busy queue, and the next free slot runs the whole queue as one
// batch. Batches form only under load, so they add no latency when idle,
// and under load save PostgreSQL and this process a round trip (and its
// syscalls) per call. docs/benchmarks.md has the measurements.
type coalescer[C call] struct {
	limit int
	run   func(batch []C) // answers every call in batch

	mu      sync.Mutex
	queue   []C
	running int
}

// call is one caller's request to a coalescer: the caller's context, and a
// channel closed once the answer is set. Calls embed a waiter for both.
type call interface {
	caller() context.Context
	answered() <-chan struct{}
}

// waiter is the part of a call its caller waits on.
type waiter struct {
	ctx  context.Context
	done chan struct{}
}

func newWaiter(ctx context.Context) waiter {
	return waiter{ctx: ctx, done: make(chan struct{})}
}

func (w *waiter) caller() context.Context   { return w.ctx }
func (w *waiter) answered() <-chan struct{} { return w.done }

// answer wakes the caller; the call's answer must be set before.
func (w *waiter) answer() { close(w.done) }

// await queues c and waits until it is answered, or its caller's context
// ends first, which is the error then. A caller already gone takes no
// slot.
func (b *coalescer[C]) await(c C) error {
	ctx := c.caller()
	if err := ctx.Err(); err != nil {
		return err
	}
	b.add(c)
	select {
	case <-c.answered():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// add queues c and, if a slot is free, runs the queue in this goroutine:
// at low load, the usual single statement.
func (b *coalescer[C]) add(c C) {
	b.mu.Lock()
	b.queue = append(b.queue, c)
	batch := b.start()
	b.mu.Unlock()
	if batch != nil {
		b.runAndHandOff(batch)
	}
}

// start takes a batch off the queue if a slot is free. Called with mu held.
func (b *coalescer[C]) start() []C {
	if b.running >= b.limit || len(b.queue) == 0 {
		return nil
	}
	b.running++
	n := min(len(b.queue), maxBatch)
	batch := make([]C, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	return batch
}

// runAndHandOff runs a batch, then hands the freed slot to whatever queued
// meanwhile, in a goroutine of its own so this caller can return.
func (b *coalescer[C]) runAndHandOff(batch []C) {
	b.run(batch)
	b.mu.Lock()
	b.running--
	next := b.start()
	b.mu.Unlock()
	if next != nil {
		go b.runAndHandOff(next)
	}
}

// batchContext is the context a batch runs under: the latest deadline of
// its callers' and none of their cancellations, because one caller
// hanging up, or one whose time is up, must not fail the others. Without
// a deadline on every caller, it has none: one caller would wait as long
// as it takes.
func batchContext[C call](batch []C) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(batch[0].caller())
	var latest time.Time
	for _, c := range batch {
		d, ok := c.caller().Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}
