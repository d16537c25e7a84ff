package httpserver

import (
	"container/list"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// minWaitToEvict protects a connection that has just finished a request
// (its response may still be in the write buffer) from eviction.
const minWaitToEvict = time.Millisecond

// limitListener caps open connections in total and per client address.
//
// A connection is "waiting" while it is not serving a request: just
// accepted, in the TLS handshake, sending its request headers, or idle
// between keep-alive requests. When the total cap is reached, a newcomer
// from an address holding few connections evicts a waiting connection of
// the address holding the most (see victimLocked): idle and slow clients
// of a flooding address give way to a client that is about to send a
// request, so a flood of connections that never complete a request cannot
// lock others out, and a connection serving a request is never cut. A connection over its client address's
// share, or arriving when every connection is serving a request, is
// accepted and closed at once: it costs one descriptor for a moment, and
// the kernel's accept queue keeps draining.
type limitListener struct {
	net.Listener
	max, perClient int
	log            *slog.Logger

	mu       sync.Mutex // guards open, byClient, waiting and every countedConn's elem and released
	open     int
	byClient map[netip.Prefix]int
	waiting  list.List // of *countedConn, longest waiting first

	refused atomic.Uint64
	evicted atomic.Uint64
	lastLog atomic.Int64 // unix nanoseconds of the last refusal log line
}

func newLimitListener(l net.Listener, max, perClient int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, max: max, perClient: perClient, log: log, byClient: map[netip.Prefix]int{}}
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
		now := time.Now()
		l.mu.Lock()
		var victim *countedConn
		ok := l.byClient[key] < l.perClient
		if ok && l.open >= l.max {
			if victim = l.victimLocked(key, now); victim != nil {
				l.releaseLocked(victim)
			} else {
				ok = false
			}
		}
		var cc *countedConn
		if ok {
			cc = &countedConn{Conn: c, l: l, key: key, since: now}
			l.open++
			l.byClient[key]++
			cc.elem = l.waiting.PushBack(cc)
		}
		open := l.open
		l.mu.Unlock()
		if victim != nil {
			l.evicted.Add(1)
			_ = victim.Conn.Close()
		}
		if cc == nil {
			l.refused.Add(1)
			// Close without reading or writing: a plain-text refusal
			// would be garbage to a TLS client, and writing could block.
			_ = c.Close()
			l.logRefused(key, open)
			continue
		}
		return cc, nil
	}
}

// victimScan bounds how many waiting connections victimLocked compares.
const victimScan = 64

// victimLocked picks the connection a newcomer from address key may evict:
// among the longest-waiting connections (the first victimScan that have
// waited at least minWaitToEvict), one of the address holding the most,
// the longest-waiting of those; and only when that address holds more
// connections than key would with the newcomer. So a client with few
// connections displaces a flood's idle ones, while a flooding address
// cannot displace others' (nor its own: its newcomers are refused and its
// silent connections end at ReadHeaderTimeout). nil: refuse the newcomer.
func (l *limitListener) victimLocked(key netip.Prefix, now time.Time) *countedConn {
	var victim *countedConn
	most := 0
	i := 0
	for e := l.waiting.Front(); e != nil && i < victimScan; e, i = e.Next(), i+1 {
		c := e.Value.(*countedConn)
		if now.Sub(c.since) < minWaitToEvict {
			break
		}
		if n := l.byClient[c.key]; n > most {
			victim, most = c, n
		}
	}
	if victim == nil || l.byClient[key]+1 >= most {
		return nil
	}
	return victim
}

// logRefused logs refusals at most once every 10 seconds.
func (l *limitListener) logRefused(key netip.Prefix, open int) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(10*time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("HTTP connection refused: cap reached", "client", key.String(), "open", open, "max", l.max,
		"per_client_max", l.perClient, "refused_total", l.refused.Load(), "evicted_total", l.evicted.Load())
}

// Open is the number of open connections.
func (l *limitListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// releaseLocked gives c's slot back (once).
func (l *limitListener) releaseLocked(c *countedConn) {
	if c.released {
		return
	}
	c.released = true
	l.open--
	if n := l.byClient[c.key] - 1; n > 0 {
		l.byClient[c.key] = n
	} else {
		delete(l.byClient, c.key)
	}
	if c.elem != nil {
		l.waiting.Remove(c.elem)
		c.elem = nil
	}
}

// busy marks c as serving a request: it cannot be evicted.
func (l *limitListener) busy(c *countedConn) {
	l.mu.Lock()
	if c.elem != nil {
		l.waiting.Remove(c.elem)
		c.elem = nil
	}
	l.mu.Unlock()
}

// idle marks c as waiting again, from now.
func (l *limitListener) idle(c *countedConn) {
	l.mu.Lock()
	if !c.released && c.elem == nil {
		c.since = time.Now()
		c.elem = l.waiting.PushBack(c)
	}
	l.mu.Unlock()
}

// countedConn holds one slot of the listener until it is closed or
// evicted.
type countedConn struct {
	net.Conn
	l   *limitListener
	key netip.Prefix
	// since, elem and released are guarded by l.mu: when c started
	// waiting, its place in l.waiting (nil while serving a request), and
	// whether its slot was given back.
	since    time.Time
	elem     *list.Element
	released bool
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return err
}

type connKey struct{}

// withConn is http.Server.ConnContext: it makes the listener's connection
// reachable from the requests it carries.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*countedConn); ok {
		return context.WithValue(ctx, connKey{}, cc)
	}
	return ctx
}

// connOf returns the connection a request came on, or nil.
func connOf(ctx context.Context) *countedConn {
	cc, _ := ctx.Value(connKey{}).(*countedConn)
	return cc
}
