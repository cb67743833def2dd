// Package faultproxy is a TCP proxy that tests put in front of PostgreSQL or
// Redis to make it fail as a network does: frozen (connections stay open
// and nothing passes, as in a partition) or stopped (connections are cut
// and new ones refused, as when the server is down). Only tests import it.
package faultproxy

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// state is what the proxy does with the bytes it is given.
type state int

const (
	running state = iota
	frozen
	stopped
)

// Proxy forwards connections on Addr to the target address.
type Proxy struct {
	// Addr is the host:port the proxy listens on.
	Addr   string
	target string

	mu       sync.Mutex
	listener net.Listener
	changed  *sync.Cond // broadcast when state changes
	state    state
	conns    map[net.Conn]struct{}
	done     sync.WaitGroup
}

// New starts a proxy on a loopback port in front of target (host:port),
// closed when t ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{Addr: listener.Addr().String(), target: target, listener: listener, conns: map[net.Conn]struct{}{}}
	p.changed = sync.NewCond(&p.mu)
	p.done.Go(func() { p.accept(listener) })
	t.Cleanup(p.close)
	return p
}

// Front returns rawURL (postgres://…, redis://…) with its host and port
// replaced by the proxy's, and makes the proxy forward to the original ones.
func (p *Proxy) Front(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p.mu.Lock()
	p.target = u.Host
	p.mu.Unlock()
	u.Host = p.Addr
	return u.String()
}

// Stop cuts every connection and refuses new ones until Resume.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stopped {
		return
	}
	p.state = stopped
	p.changed.Broadcast()
	p.listener.Close()
	for conn := range p.conns {
		conn.Close()
	}
}

// Resume forwards again, listening again on Addr if stopped.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stopped && p.conns != nil {
		listener, err := net.Listen("tcp", p.Addr)
		if err != nil {
			panic("faultproxy: listen again on " + p.Addr + ": " + err.Error())
		}
		p.listener = listener
		p.done.Go(func() { p.accept(listener) })
	}
	p.state = running
	p.changed.Broadcast()
}

// Freeze holds every byte in either direction, and new connections, until Resume.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == running {
		p.state = frozen
		p.changed.Broadcast()
	}
}

// wait blocks while the proxy is frozen and reports whether it forwards.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.state == frozen {
		p.changed.Wait()
	}
	return p.state == running
}

func (p *Proxy) accept(listener net.Listener) {
	for {
		client, err := listener.Accept()
		if err != nil {
			return
		}
		p.done.Go(func() { p.serve(client) })
	}
}

// serve connects client to the target once the proxy forwards, and copies
// both ways until either side ends.
func (p *Proxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	if !p.wait() {
		return
	}
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	var both sync.WaitGroup
	both.Go(func() { p.copy(server, client) })
	both.Go(func() { p.copy(client, server) })
	both.Wait()
}

// copy forwards from src to dst, holding what it read while frozen.
func (p *Proxy) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// track registers conn to be cut by Stop, or resets it at once if stopped.
func (p *Proxy) track(conn net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stopped || p.conns == nil {
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
		conn.Close()
		return false
	}
	p.conns[conn] = struct{}{}
	return true
}

func (p *Proxy) untrack(conn net.Conn) {
	conn.Close()
	p.mu.Lock()
	delete(p.conns, conn)
	p.mu.Unlock()
}

// close stops the proxy for good and waits for its goroutines.
func (p *Proxy) close() {
	p.mu.Lock()
	p.listener.Close()
	p.state = stopped
	for conn := range p.conns {
		conn.Close()
	}
	p.conns = nil
	p.changed.Broadcast()
	p.mu.Unlock()
	p.done.Wait()
}
