// Package rangetest is a fake breached-password range API (Have I Been
// Pwned's /range/{prefix}) for tests: it knows the passwords it is given,
// pads every answer with suffixes of count 0, and records what it was
// asked. Only tests import it.
package rangetest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is the fake range API; URL + "/range/" is what a BreachChecker takes.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	asked   []Request
	status  int
	hang    bool
	release chan struct{}
}

// Request is what the server was asked: the path and its Add-Padding header.
type Request struct{ Path, Padding string }

// New starts a range server that knows each password with its count,
// stopped when t ends.
func New(t testing.TB, known map[string]int) *Server {
	t.Helper()
	s := &Server{status: http.StatusOK, release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.asked = append(s.asked, Request{r.URL.Path, r.Header.Get("Add-Padding")})
		status, hang := s.status, s.hang
		s.mu.Unlock()
		if hang {
			select { // until the client gives up, or the test ends
			case <-r.Context().Done():
			case <-s.release:
			}
			return
		}
		if status != http.StatusOK {
			http.Error(w, "unavailable", status)
			return
		}
		prefix := strings.TrimPrefix(r.URL.Path, "/range/")
		for password, count := range known {
			if digest := SHA1(password); digest[:5] == prefix {
				fmt.Fprintf(w, "%s:%d\r\n", digest[5:], count)
			}
		}
		for i := range 5 {
			fmt.Fprintf(w, "%035X:0\r\n", i)
		}
	}))
	t.Cleanup(func() { close(s.release); s.Close() })
	return s
}

// RangeURL is the endpoint to give a BreachChecker.
func (s *Server) RangeURL() string { return s.URL + "/range/" }

// Fail makes every answer status (200 again: answer).
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Hang makes every request wait for the client to give up.
func (s *Server) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = true
}

// Asked returns the requests so far.
func (s *Server) Asked() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.asked...)
}

// SHA1 is a password's SHA-1 in upper-case hex, as the range API lists them.
func SHA1(password string) string {
	sum := sha1.Sum([]byte(password))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
