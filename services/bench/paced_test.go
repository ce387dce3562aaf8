package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A server that takes 30 ms a request, loaded at 100 requests a second.
func TestPacedSendsOnScheduleAndChargesTheWait(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	sc := listFirst("")

	t.Run("enough connections keep the rate, and each request takes the server's time", func(t *testing.T) {
		r, err := paced(context.Background(), addr, 8, 100, time.Second, sc.next, sc.check).result()
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests < 90 || r.Requests > 101 {
			t.Errorf("%d requests in 1 s at 100/s", r.Requests)
		}
		if r.P50 < 30*time.Millisecond || r.P50 > 60*time.Millisecond {
			t.Errorf("p50 %s; the server takes 30 ms", r.P50)
		}
	})
	t.Run("one connection falls behind, and the latency counts from when each request was due", func(t *testing.T) {
		r, err := paced(context.Background(), addr, 1, 100, time.Second, sc.next, sc.check).result()
		if err != nil {
			t.Fatal(err)
		}
		// It manages about 33 a second; the last were due long before
		// they went out, and a closed loop would report 30 ms for all.
		if r.Requests > 40 {
			t.Errorf("%d requests: one connection cannot send more than about 33", r.Requests)
		}
		if r.Max < 400*time.Millisecond {
			t.Errorf("max %s: the wait for the connection is not charged", r.Max)
		}
	})
}

func TestSummarizeCountsEachDeliveryOnceAtItsFirstArrival(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	st := summarize([]hookArrival{
		{hook: "1", id: "evt_a", occurred: at(0), arrived: at(10)},
		{hook: "2", id: "evt_a", occurred: at(0), arrived: at(30)},
		{hook: "1", id: "evt_a", occurred: at(0), arrived: at(500)}, // a repeat
		{hook: "1", id: "evt_b", occurred: at(100), arrived: at(120)},
	})
	if st.deliveries != 3 || st.repeats != 1 {
		t.Errorf("%d deliveries, %d repeats; want 3 and 1", st.deliveries, st.repeats)
	}
	if st.max != 30*time.Millisecond || st.p50 != 20*time.Millisecond {
		t.Errorf("p50 %s, max %s; want 20ms and 30ms (the repeat left out)", st.p50, st.max)
	}
	if !st.first.Equal(at(10)) || !st.last.Equal(at(120)) {
		t.Errorf("first %s, last %s", st.first, st.last)
	}
}
