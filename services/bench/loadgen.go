package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// request builds the next request of one connection into buf. A
// connection's requests are sequential, so conn-local state (versions for
// If-Match, say) needs no locking.
type request func(conn, seq int, buf []byte) []byte

// check says whether a response is a success for this scenario; it may read
// headers, such as the ETag an update returns.
type check func(conn, seq, status int, header []byte) bool

// result is one load run: counts and exact latency percentiles.
type result struct {
	Requests, Errors int
	Elapsed          time.Duration
	P50, P90, P99    time.Duration
	Max              time.Duration
}

func (r result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// load keeps conns connections busy for d against addr with raw HTTP/1.1
// keep-alive requests. It is a load generator written for this machine:
// no allocation per request, minimal parsing, so it takes as little CPU as
// possible from the server and PostgreSQL it shares two cores with.
func load(ctx context.Context, addr string, conns int, d time.Duration, next request, ok check) (result, error) {
	return sample(ctx, addr, conns, d, next, ok).result()
}

// samples are what one or more load runs saw, before they are summed up.
type samples struct {
	lat      []time.Duration
	errors   int
	elapsed  time.Duration
	firstErr error
}

// add appends the samples of another run against the same server.
func (s *samples) add(o samples) {
	s.lat = append(s.lat, o.lat...)
	s.errors += o.errors
	s.elapsed += o.elapsed
	s.firstErr = cmp(s.firstErr, o.firstErr)
}

// sample is load without the summing up.
func sample(ctx context.Context, addr string, conns int, d time.Duration, next request, ok check) samples {
	return paced(ctx, addr, conns, 0, d, next, ok)
}

// paced sends rate requests a second in all over conns connections, each
// request at its own time whatever became of the one before: connection c
// sends its seq-th at start + (seq*conns + c)/rate. A latency counts from
// that time, not from when the request went out, so a server that falls
// behind is charged for the wait too (no coordinated omission). Rate 0 is
// a closed loop: each connection sends as soon as it has its answer.
func paced(ctx context.Context, addr string, conns int, rate float64, d time.Duration, next request, ok check) samples {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	lat := make([][]time.Duration, conns)
	errs := make([]int, conns)
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conns {
		var pace func(context.Context, int) (time.Time, error)
		if rate > 0 {
			pace = func(ctx context.Context, seq int) (time.Time, error) {
				at := start.Add(time.Duration(float64(seq*conns+c) / rate * float64(time.Second)))
				if wait := time.Until(at); wait > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return at, ctx.Err()
					}
				}
				return at, nil
			}
		}
		wg.Go(func() {
			var err error
			lat[c], errs[c], err = worker(ctx, addr, c, pace, next, ok)
			if err != nil {
				once.Do(func() { firstErr = err })
			}
		})
	}
	wg.Wait()
	s := samples{elapsed: time.Since(start), firstErr: firstErr}
	for c := range conns {
		s.lat = append(s.lat, lat[c]...)
		s.errors += errs[c]
	}
	return s
}

// result sums the samples up: counts and exact percentiles.
func (s samples) result() (result, error) {
	all := s.lat
	if len(all) == 0 {
		return result{}, fmt.Errorf("no request completed: %v", s.firstErr)
	}
	slices.Sort(all)
	return result{
		Requests: len(all), Errors: s.errors, Elapsed: s.elapsed,
		P50: percentile(all, .50), P90: percentile(all, .90), P99: percentile(all, .99), Max: all[len(all)-1],
	}, nil
}

// percentile is the exact p-th percentile (0 to 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(float64(len(sorted)-1)*p)]
}

// worker runs one connection until ctx ends, reconnecting after errors.
// pace, if not nil, waits for each request's time and returns it.
func worker(ctx context.Context, addr string, c int, pace func(context.Context, int) (time.Time, error), next request, ok check) ([]time.Duration, int, error) {
	lat := make([]time.Duration, 0, 1<<16)
	errs := 0
	buf := make([]byte, 0, 4096)
	var firstErr error
	var dialer net.Dialer
	for seq := 0; ctx.Err() == nil; {
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() != nil {
				break // the run is over; a dial it cut short is no error
			}
			errs++
			firstErr = cmp(firstErr, err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		br := bufio.NewReaderSize(conn, 16<<10)
		for ctx.Err() == nil {
			t0 := time.Now()
			if pace != nil {
				if t0, err = pace(ctx, seq); err != nil {
					break
				}
			}
			buf = next(c, seq, buf[:0])
			if _, err = conn.Write(buf); err != nil {
				break
			}
			var status int
			var header []byte
			if status, header, err = readResponse(br); err != nil {
				break
			}
			lat = append(lat, time.Since(t0))
			if !ok(c, seq, status, header) {
				errs++
			}
			seq++
		}
		_ = conn.Close() // what the connection did is counted; closing it is not measured
		if err != nil && ctx.Err() == nil {
			errs++
			firstErr = cmp(firstErr, err)
		}
	}
	return lat, errs, firstErr
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

var (
	crlf          = []byte("\r\n")
	contentLength = []byte("content-length:")
	chunked       = []byte("transfer-encoding: chunked")
)

// readResponse reads one response and returns its status and raw header
// block (valid until the next read); the body is discarded.
func readResponse(br *bufio.Reader) (int, []byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 {
		return 0, nil, errors.New("short status line")
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, err
	}
	var header []byte
	length, isChunked := -1, false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(line) <= 2 {
			break
		}
		header = append(header, line...)
		lower := bytes.ToLower(line)
		if v, found := bytes.CutPrefix(lower, contentLength); found {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		} else if bytes.HasPrefix(lower, chunked) {
			isChunked = true
		}
	}
	switch {
	case isChunked:
		err = skipChunked(br)
	case length > 0:
		_, err = br.Discard(length)
	}
	return status, header, err
}

func skipChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil {
			return err
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// headerValue finds a header in a raw block, case-insensitively.
func headerValue(block []byte, name string) []byte {
	for len(block) > 0 {
		i := bytes.Index(block, crlf)
		if i < 0 {
			i = len(block)
		}
		line := block[:i]
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			return bytes.TrimSpace(v)
		}
		block = block[min(i+2, len(block)):]
	}
	return nil
}
