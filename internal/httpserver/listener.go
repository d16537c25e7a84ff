package httpserver

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener caps open connections in total and per client address.
// Over a cap, a new connection is accepted and closed at once: it costs one
// descriptor for a moment, and the kernel's accept queue drains instead of
// holding well-behaved clients behind an attacker's connections.
type limitListener struct {
	net.Listener
	max, perClient int
	log            *slog.Logger
	// pressureC is signalled when high changes; one goroutine
	// ([Server.Serve]) applies the latest state, so that closing idle
	// connections (which releases slots) never runs under mu or re-enters.
	pressureC chan struct{}

	mu       sync.Mutex // guards open, byClient, high
	open     int
	byClient map[netip.Prefix]int
	high     bool

	refused atomic.Uint64
	lastLog atomic.Int64 // unix nanoseconds of the last "refused" log line
}

func newLimitListener(l net.Listener, max, perClient int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, max: max, perClient: perClient, log: log, byClient: map[netip.Prefix]int{},
		pressureC: make(chan struct{}, 1)}
}

// kick signals a change of the pressure state without blocking.
func (l *limitListener) kick() {
	select {
	case l.pressureC <- struct{}{}:
	default:
	}
}

// High reports whether open connections are above the high-water mark
// (three quarters of the cap), until they fall below half of it.
func (l *limitListener) High() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.high
}

// clientKey is the address a per-client cap applies to: the IPv4 address,
// or the /64 of an IPv6 address (one host or one site usually holds a
// whole /64).
func clientKey(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}
	}
	ip := ap.Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		l.mu.Lock()
		over := l.open >= l.max || l.byClient[key] >= l.perClient
		fire := false
		if !over {
			l.open++
			l.byClient[key]++
			if !l.high && l.open*4 >= l.max*3 {
				l.high, fire = true, true
			}
		}
		open := l.open
		l.mu.Unlock()
		if fire {
			l.kick()
		}
		if over {
			l.refused.Add(1)
			// Close without reading or writing: a plain-text refusal
			// would be garbage to a TLS client, and writing could block.
			_ = c.Close()
			l.logRefused(key, open)
			continue
		}
		return &countedConn{Conn: c, l: l, key: key}, nil
	}
}

// logRefused logs refusals at most once every 10 seconds.
func (l *limitListener) logRefused(key netip.Prefix, open int) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(10*time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("HTTP connection refused: cap reached", "client", key.String(), "open", open, "max", l.max,
		"per_client_max", l.perClient, "refused_total", l.refused.Load())
}

// Open is the number of open connections.
func (l *limitListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func (l *limitListener) release(key netip.Prefix) {
	l.mu.Lock()
	l.open--
	if n := l.byClient[key] - 1; n > 0 {
		l.byClient[key] = n
	} else {
		delete(l.byClient, key)
	}
	fire := false
	if l.high && l.open*2 < l.max {
		l.high, fire = false, true
	}
	l.mu.Unlock()
	if fire {
		l.kick()
	}
}

// countedConn gives its slot back once, on the first Close.
type countedConn struct {
	net.Conn
	l      *limitListener
	key    netip.Prefix
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key)
	}
	return err
}
