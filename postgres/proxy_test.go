package postgres

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a real TCP proxy between a client and the server, to cut the
// network under a leader: partition (stop forwarding, keep the sockets
// open, as a dead route or a hung middlebox does) or reset (close them).
// It also counts round trips.
type proxy struct {
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	conns   []net.Conn
	stalled bool
	stop    chan struct{} // closed by close: releases stalled forwarders

	// turns counts how often the server answered after the client
	// spoke: the round trips. accepted counts the connections.
	turns     atomic.Int64
	accepted  atomic.Int64
	lastWrite atomic.Int32 // 1 client to server, 2 server to client
}

func startProxy(t testing.TB, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{ln: ln, upstream: upstream, stop: make(chan struct{})}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// via rewrites a connection URL to go through the proxy.
func (p *proxy) via(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse URL: %v", err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *proxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.mu.Lock()
		stalled := p.stalled
		p.conns = append(p.conns, down)
		p.mu.Unlock()
		if stalled {
			continue // a partitioned network: connects go nowhere
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, up)
		p.mu.Unlock()
		go p.pipe(down, up, 1)
		go p.pipe(up, down, 2)
	}
}

func (p *proxy) pipe(src, dst net.Conn, dir int32) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			stalled := p.stalled
			p.mu.Unlock()
			if stalled {
				<-p.stop // hold the bytes; the sockets stay open
				return
			}
			if dir == 2 && p.lastWrite.Swap(dir) == 1 {
				p.turns.Add(1)
			} else {
				p.lastWrite.Store(dir)
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = dst.(*net.TCPConn).CloseWrite()
			}
			return
		}
	}
}

// partition stops all forwarding; the sockets stay open.
func (p *proxy) partition() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// reset closes every connection, the client side first.
func (p *proxy) reset() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.mu.Unlock()
	p.reset()
}
