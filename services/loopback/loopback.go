// Package loopback gives tests and benchmarks what they need on 127.0.0.1:
// a free port, and an HTTP request that stays in flight as long as asked,
// which is how Gantry proves a graceful shutdown without a test-only slow
// endpoint in the service.
//
// It sits under services/ because the services' own tests need it and
// nothing there imports tools/; not under services/internal, because the
// compose end-to-end tests use it too.
package loopback

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"time"
)

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	// A listener that did not close may still hold the port.
	return port, ln.Close()
}

// SlowPost sends POST path to addr (host:port) with a JSON body that
// trickles in over d, one byte at a time, and delivers the response's
// status line ("201 Created"), or what went wrong, on the channel. A token
// other than "" goes in an Authorization: Bearer header.
func SlowPost(addr, path, token, body string, d time.Duration) <-chan string {
	done := make(chan string, 1)
	go func() {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			done <- "dial: " + err.Error()
			return
		}
		defer func() { _ = conn.Close() }() // the outcome is on the channel by then
		// Write errors are expected: a server that gives up on the slow body
		// answers (408) and closes, and its answer is what gets read below.
		auth := ""
		if token != "" {
			auth = "Authorization: Bearer " + token + "\r\n"
		}
		_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, auth, len(body))
		for i := range len(body) {
			_, _ = conn.Write([]byte{body[i]})
			time.Sleep(d / time.Duration(len(body)))
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			done <- "read: " + err.Error()
			return
		}
		_ = resp.Body.Close() // the status line is the answer
		done <- resp.Status
	}()
	return done
}
