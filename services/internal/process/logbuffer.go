package process

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// LogBuffer batches log lines into few writes. Under load the access log
// is one line per request, and one write(2) per line measured as a
// noticeable share of a request's cost. Lines reach the real writer when
// the buffer fills, every flushEvery, and at shutdown; a crash loses at most
// that much, and panics still go straight to stderr.
type LogBuffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const flushEvery = 100 * time.Millisecond

// NewLogBuffer buffers writes to w; Close it to flush the rest.
func NewLogBuffer(w io.Writer) *LogBuffer {
	b := &LogBuffer{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushLoop()
	return b
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

func (b *LogBuffer) flushLoop() {
	defer close(b.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.flush()
		case <-b.stop:
			b.flush()
			return
		}
	}
}

func (b *LogBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A failed write has nowhere to be reported: the log is where it would
	// go. bufio keeps the error, and the handlers' writes return it.
	_ = b.w.Flush()
}

// Close flushes what is left and stops the flusher.
func (b *LogBuffer) Close() {
	close(b.stop)
	<-b.done
}
